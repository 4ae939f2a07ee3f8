// XEP-0045 §7.8.2 (Mediated Invitation): "The <room@service> itself MUST then add a 'from'
// address to the <invite/> element whose value is the bare JID, full JID, or occupant JID
// of the inviter and send the invitation to the invitee specified in the 'to' address; the
// room SHOULD add the password if the room is password-protected". "If the room is
// members-only, the service MAY also add the invitee to the member list. (Note:
// Invitation privileges in members-only rooms SHOULD be restricted to room admins; if a
// member without privileges to edit the member list attempts to invite another user, the
// service SHOULD return a &forbidden; error". §9.5: "Invitations sent through an open room
// MUST NOT trigger the addition of the invitee to the member list." Declines are passed
// back to the inviter with 'from' = the decliner's bare JID.
// muc#roomconfig_allowinvites lets members of a members-only room invite (and so add
// members); in open rooms any occupant may invite.
import { Element } from 'ltx';
import { tryParseJid } from '@parley/jid';
import { NS } from '@parley/xml';
import { REFUSALS } from '../errors.js';
import { AFFILIATION_RANK, findSession } from '../room-queries.js';
import type { StanzaRequest, Turn } from '../turn.js';
import { applyAffiliation } from './affiliations.js';
import { booleanField, readBoolean } from './boolean-field.js';
import type { Feature } from './feature.js';
import { actorOf } from './roles.js';

const FIELD = 'muc#roomconfig_allowinvites';
/** XEP-0249 (Direct MUC Invitations): the element naming the room, added to mediated invitations. */
const NS_CONFERENCE = 'jabber:x:conference';

/** Owns muc#roomconfig_allowinvites. */
export const invite: Feature = {
  name: 'invite',
  configFields(room) {
    return [booleanField(FIELD, 'Allow Members to Invite Others?', room.config.allowInvites)];
  },
  readConfig(form, next) {
    return readBoolean(form, FIELD, (v) => (next.allowInvites = v));
  },
};

/** A message of type normal to the bare room JID: mediated invitations and declines. */
export function onRoomMessage(t: Turn, req: StanzaRequest): void {
  const x = req.stanza.getChild('x', NS.MUC_USER);
  const invites = x?.getChildren('invite') ?? [];
  const declines = x?.getChildren('decline') ?? [];
  if (invites.length > 0) return sendInvites(t, req, invites);
  if (declines.length > 0) return sendDeclines(t, req, declines);
  t.refuse(req, REFUSALS.badRequest);
}

function targets(els: readonly Element[]): string[] | undefined {
  const out: string[] = [];
  for (const el of els) {
    const to: unknown = el.attrs.to;
    const jid = typeof to === 'string' ? tryParseJid(to) : undefined;
    if (jid === undefined) return undefined;
    out.push(jid.toString());
  }
  return out;
}

function routeFor(t: Turn, jid: string): { gatewayId: string; sessionId: string } | undefined {
  const s = findSession(t.room, jid)?.session;
  return s === undefined ? undefined : { gatewayId: s.gatewayId, sessionId: s.sessionId };
}

function sendInvites(t: Turn, req: StanzaRequest, invites: readonly Element[]): void {
  const sender = findSession(t.room, req.from)?.occupant;
  if (sender === undefined) return t.refuse(req, REFUSALS.notOccupant);
  const aff = t.affiliation(req.fromBare);
  const config = t.room.config;
  const allowed = !config.membersOnly || AFFILIATION_RANK[aff] >= AFFILIATION_RANK.admin || (config.allowInvites && AFFILIATION_RANK[aff] >= AFFILIATION_RANK.member);
  if (!allowed) return t.refuse(req, REFUSALS.inviteForbidden);
  const invitees = targets(invites);
  if (invitees === undefined) return t.refuse(req, REFUSALS.badJid);
  // §7.8.2: the inviter as the invitee may know them: in a semi-anonymous room the occupant
  // JID (the real JID would tell a non-occupant what the room hides from its own
  // participants), in a non-anonymous room the real full JID.
  const inviter = config.whois === 'anyone' ? req.from : t.occupantJid(sender.nick);
  invites.forEach((inv, i) => {
    const to = invitees[i]!;
    const reason = inv.getChildText('reason') ?? '';
    const message = new Element('message', { xmlns: NS.CLIENT, from: t.roomJid, to });
    if (typeof req.stanza.attrs.id === 'string') message.attrs.id = req.stanza.attrs.id;
    // Prosody's layout: muc#user x (invite with its reason, empty when none given, then the
    // password), a <body/> fallback for clients that ignore muc#user, then XEP-0249's
    // jabber:x:conference element naming the room.
    const ux = message.c('x', { xmlns: NS.MUC_USER });
    const invEl = ux.c('invite', { from: inviter });
    invEl.c('reason').t(reason);
    // §7.9 (Converting a One-to-One Chat), Ex. 64: the <continue/> flag and its optional
    // 'thread' (the one-to-one chat's ThreadID) reach the invitee.
    const cont = inv.getChild('continue');
    if (cont !== undefined) {
      const thread: unknown = cont.attrs.thread;
      invEl.c('continue', typeof thread === 'string' && thread !== '' ? { thread } : {});
    }
    if (config.passwordProtected) ux.c('password').t(config.password);
    message.c('body').t(`${inviter} invites you to the room ${t.roomJid}${reason === '' ? '' : ` (${reason})`}`);
    // XEP-0249 §2 attributes (Prosody puts the reason in the text, the pre-XEP-0249 way).
    const conference = message.c('x', { xmlns: NS_CONFERENCE, jid: t.roomJid });
    if (config.passwordProtected) conference.attrs.password = config.password;
    if (reason !== '') conference.attrs.reason = reason;
    t.send(message, routeFor(t, to));
    const bare = tryParseJid(to)?.bare().toString();
    if (config.membersOnly && bare !== undefined && t.affiliation(bare) === 'none') {
      applyAffiliation(t, { jid: bare, affiliation: 'member' }, actorOf(t, req.from));
    }
  });
  t.log('debug', 'invitations sent', { count: invites.length });
}

function sendDeclines(t: Turn, req: StanzaRequest, declines: readonly Element[]): void {
  const inviters = targets(declines);
  if (inviters === undefined) return t.refuse(req, REFUSALS.badJid);
  declines.forEach((dec, i) => {
    const to = inviters[i]!;
    const message = new Element('message', { xmlns: NS.CLIENT, from: t.roomJid, to });
    if (typeof req.stanza.attrs.id === 'string') message.attrs.id = req.stanza.attrs.id;
    const el = message.c('x', { xmlns: NS.MUC_USER }).c('decline', { from: req.fromBare });
    const reason = dec.getChildText('reason');
    if (reason !== null) el.c('reason').t(reason);
    t.send(message, routeFor(t, to));
  });
}
