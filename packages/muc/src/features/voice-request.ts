// XEP-0045 §7.13 (Requesting Voice): "To request voice, a visitor SHOULD send a <message/>
// stanza containing a data form to the room itself, where the data form contains only a
// "muc#role" field with a value of "participant"." §8.6 (Approving Voice Requests): "The
// service then SHOULD use that voice request data form as the basis for a voice approval
// data form that it generates and sends to the room moderator(s)"; "If a moderator
// approves the voice request, the service shall grant voice to the occupant and send a
// presence update as described in the Granting Voice to a Visitor section" (§8.3).
// After Prosody 0.12:
// - a request from a visitor goes to every session of every moderator, as a message of
//   type normal from the room with the approval form (muc#jid, muc#roomnick, muc#role,
//   muc#request_allow 0, in Prosody's order; labels and title from the XEP's example), in
//   moderated and unmoderated rooms alike;
// - a request from an occupant who has voice already is ignored (there is nothing to ask);
// - a moderator's submission with muc#request_allow true grants voice (role participant,
//   reason "Voice granted", through the muc#admin rules of roles.ts); with false it is
//   skipped;
// - a submission from a visitor is a request (whatever it names).
// Where Prosody stays silent we answer (a bad request never goes unanswered): a request
// from a non-occupant gets `not-acceptable` (§7.4, §17.2 rule 2), an approval naming no
// occupant (muc#roomnick, and muc#jid when given) `item-not-found`, an approval without
// muc#roomnick `bad-request`. Prosody 0.12 has no option to turn requests off; we add
// muc#roomconfig_allowvoicerequests (default on, ejabberd's name for the same switch):
// off, requests get `forbidden` and the disco feature `http://jabber.org/protocol/muc#request`
// is not advertised. Prosody 0.12 relays every request (a visitor can flood the moderators);
// we relay one per occupant per `RoomContext.voiceRequestIntervalMs` (`muc.voiceRequestIntervalMs`,
// default 60 s) and answer a request sooner than that with `resource-constraint` (type wait,
// RFC 6120 §8.3.3.18) rather than dropping it silently.
import { Element } from 'ltx';
import { NS } from '@parley/xml';
import { buildForm, parseBoolean, readForm, type FormField } from '../data-form.js';
import { REFUSALS, type Refusal } from '../errors.js';
import { occupantByNick } from '../nick.js';
import type { Occupant } from '../room-state.js';
import { findSession } from '../room-queries.js';
import type { StanzaRequest, Turn } from '../turn.js';
import { booleanField, readBoolean } from './boolean-field.js';
import type { Feature } from './feature.js';
import { onRoomMessage } from './invite.js';
import { actorOf, applyRoleChange, checkRoleChange } from './roles.js';

/** The voice request form's FORM_TYPE and disco feature (XEP-0045 §7.13, §15.5.2). */
export const MUC_REQUEST = 'http://jabber.org/protocol/muc#request';
const FIELD = 'muc#roomconfig_allowvoicerequests';

const ROLE_OPTIONS = ['none', 'visitor', 'participant', 'moderator'].map((value) => ({ label: value, value }));
const DISABLED: Refusal = { condition: 'forbidden', type: 'auth', text: 'Voice requests are disabled in this room' };
const NO_NICK: Refusal = { condition: 'bad-request', type: 'modify', text: 'The approval names no muc#roomnick' };
const TOO_SOON: Refusal = { condition: 'resource-constraint', type: 'wait', text: 'Voice was requested recently; wait before asking again' };
/** Default of `RoomContext.voiceRequestIntervalMs`, ms. */
export const DEFAULT_VOICE_REQUEST_INTERVAL_MS = 60_000;

/** Whether visitors may request voice (rooms stored before the option have it on). */
export function voiceRequestsAllowed(config: { allowVoiceRequests?: boolean }): boolean {
  return config.allowVoiceRequests !== false;
}

/** Owns muc#roomconfig_allowvoicerequests and the muc#request disco feature. */
export const voiceRequest: Feature = {
  name: 'voice-request',
  configFields(room) {
    return [booleanField(FIELD, 'Allow visitors to request voice', voiceRequestsAllowed(room.config))];
  },
  readConfig(form, next) {
    return readBoolean(form, FIELD, (v) => (next.allowVoiceRequests = v));
  },
  discoFeatures(room) {
    return voiceRequestsAllowed(room.config) ? [MUC_REQUEST] : [];
  },
};

/** The muc#request data form of a message, if it has one. */
function requestForm(stanza: Element): Element | undefined {
  return stanza.getChildren('x', NS.DATA).find((x) => readForm(x).formType === MUC_REQUEST);
}

/**
 * A message of type normal to the bare room JID: a voice request or approval (a
 * muc#request form), else invitations and declines (invite.ts).
 */
export function onBareMessage(t: Turn, req: StanzaRequest): void {
  const x = requestForm(req.stanza);
  if (x === undefined) return onRoomMessage(t, req);
  const sender = findSession(t.room, req.from)?.occupant;
  if (sender === undefined) return t.refuse(req, REFUSALS.notOccupant);
  if (sender.role === 'visitor') return relayRequest(t, req, sender);
  if (sender.role !== 'moderator') return t.log('debug', 'voice request from an occupant with voice ignored');
  const form = readForm(x);
  const allow = parseBoolean(form.values.get('muc#request_allow')?.[0] ?? '');
  if (allow !== true) return; // §8.6: not approved (skipped)
  approve(t, req, form.values);
}

/**
 * Relays a visitor's request to the moderators (§8.6), at most one per occupant per
 * `voiceRequestIntervalMs` (else `resource-constraint`, type wait); the time of the last
 * relayed request is kept on the occupant (persisted, so a failover does not reset it).
 */
function relayRequest(t: Turn, req: StanzaRequest, sender: Occupant): void {
  if (!voiceRequestsAllowed(t.room.config)) return t.refuse(req, DISABLED);
  const interval = t.ctx.voiceRequestIntervalMs ?? DEFAULT_VOICE_REQUEST_INTERVAL_MS;
  const since = sender.lastVoiceRequest === undefined ? undefined : t.ctx.now - sender.lastVoiceRequest;
  // (A clock that went back, e.g. another worker's after a failover, does not block requests.)
  if (interval > 0 && since !== undefined && since >= 0 && since < interval) return t.refuse(req, TOO_SOON);
  sender.lastVoiceRequest = t.ctx.now;
  t.persist();
  const fields: FormField[] = [
    { var: 'muc#jid', type: 'jid-single', label: 'User ID', values: [req.from] },
    { var: 'muc#roomnick', type: 'text-single', label: 'Room Nickname', values: [sender.nick] },
    { var: 'muc#role', type: 'list-single', label: 'Requested role', values: ['participant'], options: ROLE_OPTIONS },
    { var: 'muc#request_allow', type: 'boolean', label: 'Grant voice to this person?', values: ['0'] },
  ];
  const form = buildForm('form', MUC_REQUEST, fields, {
    title: 'Voice request',
    instructions: 'To approve this request for voice, select the "Grant voice to this person?" checkbox and click OK. To skip this request, click the cancel button.',
  });
  const message = new Element('message', { xmlns: NS.CLIENT, type: 'normal', from: t.roomJid });
  message.cnode(form);
  const moderators = [...t.room.occupants.values()].filter((o) => o.role === 'moderator');
  t.broadcast(moderators.flatMap((o) => o.sessions), message);
  t.log('debug', 'voice request relayed', { moderators: moderators.length });
}

function approve(t: Turn, req: StanzaRequest, values: ReadonlyMap<string, readonly string[]>): void {
  const nick = values.get('muc#roomnick')?.[0];
  if (nick === undefined || nick === '') return t.refuse(req, NO_NICK);
  const target = occupantByNick(t.room, nick);
  const jid = values.get('muc#jid')?.[0];
  const matches = target !== undefined && (jid === undefined || jid === target.bareJid || target.sessions.some((s) => s.fullJid === jid));
  if (target === undefined || !matches) return t.refuse(req, REFUSALS.noSuchOccupant);
  if (target.role !== 'visitor') return; // has voice already
  const change = { nick: target.nick, role: 'participant' as const, reason: 'Voice granted' };
  const refusal = checkRoleChange(t, req.from, req.fromBare, change);
  if (refusal !== undefined) return t.refuse(req, refusal);
  applyRoleChange(t, change, actorOf(t, req.from));
}
