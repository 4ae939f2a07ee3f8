// XEP-0045 §7.1 (Order of Events): "After a client sends presence to join a room, the MUC
// service MUST send it events in the following order: 1. In-room presence from other
// occupants 2. In-room presence from the joining entity itself (so-called
// "self-presence") 3. Room history (if any) 4. The room subject 5. Live messages, presence
// updates, new user joins, etc." §7.2.2: self-presence "MUST include a status code of
// 110"; §7.2.3: in a non-anonymous room "the service MUST warn the user by including a
// status code of "100""; §10.1.1: a new room's first presence includes status 201.
// §7.2.8: the same bare JID may join a nick it already holds ("SHOULD allow entry ... so
// that the user has two (or more) in-room "sessions" with the same roomnick").
// §7.2.1: "When a MUC service receives an <x/> tagged join stanza from an already-joined
// client ... it SHOULD send exactly the same stanzas to the client as if it actually just
// joined the MUC." §7.2.18 (groupchat 1.0): "it is RECOMMENDED that a service receiving a
// <presence> without an <x> element from a non-occupant full-JID responds with an explicit
// kick to that client. The kick MUST contain the status codes 110 (occupant's presence),
// 307 (kick), and 333 (kick due to technical problems)" — done here, with the XEP's
// reason text, for existing rooms and for rooms that do not exist (which such presence
// does not create). Prosody 0.12 answers an `item-not-found` presence error instead.
// Nicks follow RFC 8266 (nick.ts): the requested nick is enforced (a nick that fails gets
// jid-malformed, as a missing one does in §7.2.1) and compared case-insensitively, so an
// equivalent nick held by another user is a §7.2.8 conflict. When the shown nick differs
// from the requested one, self-presence carries status 210 (§7.2.2 "The service MAY
// rewrite the new occupant's roomnick ... include a status code of "210"").
import { Element } from 'ltx';
import { NS, serialize } from '@parley/xml';
import { REFUSALS } from '../errors.js';
import { mucUserX } from '../muc-user-x.js';
import { occupantPresence, viewPresence } from '../occupant-presence.js';
import type { Nick } from '../nick.js';
import type { Occupant, OccupantSession } from '../room-state.js';
import { findSession, seesRealJids } from '../room-queries.js';
import type { StanzaRequest, Turn } from '../turn.js';
import type { Feature, JoinAttempt } from './feature.js';
import { hatsOf } from './hats.js';
import { sendHistory } from './history.js';
import { changeNick } from './nick-change.js';
import { addOccupantId, occupantIdOf } from './occupant-id.js';
import { isBroadcast, publishOccupant, sendAbsentMembers } from './presence-broadcast.js';
import { updatePresence } from './presence-update.js';
import { defaultRole } from './roles.js';
import { sendSubject } from './subject.js';

/** §7.2.8: a nick held by another bare JID is taken. */
export const join: Feature = {
  name: 'join',
  preJoin(_t, attempt) {
    return attempt.existing !== undefined && attempt.existing.bareJid !== attempt.req.fromBare ? REFUSALS.nickInUse : undefined;
  },
};

/** Available presence to room/nick: a join, a presence update, a re-sync or a nick change. */
export function onOccupantPresence(t: Turn, req: StanzaRequest): void {
  if (req.nick === undefined) return t.refuse(req, REFUSALS.noNick);
  const nick = req.occupantNick;
  if (nick === undefined) return t.refuse(req, REFUSALS.badNick);
  const found = findSession(t.room, req.from);
  if (found === undefined) return mucX(req.stanza) === undefined ? notInRoom(t, req, nick) : enter(t, req, nick);
  if (found.occupant.nick !== nick.nick) return changeNick(t, req, found.occupant, found.session, nick);
  if (mucX(req.stanza) !== undefined) return resync(t, req, found.occupant, found.session);
  updatePresence(t, req, found.occupant, found.session);
}

/**
 * §7.2.18: available presence without `<x xmlns='http://jabber.org/protocol/muc'/>` from a
 * session that is not in the room (a groupchat 1.0 join, or a client that lost track of
 * the room): unavailable self-presence with status 307 and 333 (and 110), role none, the
 * reason "You are not in the room.". Changes nothing.
 */
function notInRoom(t: Turn, req: StanzaRequest, nick: Nick): void {
  const presence = new Element('presence', { xmlns: NS.CLIENT, from: t.occupantJid(nick.nick), type: 'unavailable' });
  const item = { affiliation: t.affiliation(req.fromBare), role: 'none' as const, reason: 'You are not in the room.' };
  presence.cnode(mucUserX({ codes: ['307', '333'], item, self: true }));
  t.reply(req, addOccupantId(presence, occupantIdOf(t.room, req.fromBare)));
  t.log('debug', 'presence without muc x from a non-occupant (§7.2.18)');
}

function mucX(stanza: Element): Element | undefined {
  return stanza.getChild('x', NS.MUC);
}

function enter(t: Turn, req: StanzaRequest, nick: Nick): void {
  if (req.created) {
    // §10.1.1: "assign the requesting user as the initial room owner".
    t.room.affiliations.set(req.fromBare, { affiliation: 'owner' });
    t.log('info', 'room created', { by: req.fromBare });
  }
  const affiliation = t.affiliation(req.fromBare);
  const attempt: JoinAttempt = { req, nick, affiliation, existing: t.room.occupants.get(nick.key), mucX: mucX(req.stanza) };
  for (const feature of t.features) {
    const refusal = feature.preJoin?.(t, attempt);
    if (refusal !== undefined) return t.refuse(req, refusal);
  }
  const role = defaultRole(t, t.room, affiliation);
  if (role === 'none') return t.refuse(req, REFUSALS.membersOnly);
  const session: OccupantSession = {
    fullJid: req.from,
    gatewayId: req.origin.gatewayId,
    sessionId: req.origin.sessionId,
    presence: serialize(req.stanza),
    joined: t.ctx.now,
  };
  // Everything is sent before the room changes, and the change is the last action: the
  // join route runs on the room itself for a session not yet in the room (dispatch.ts
  // `inPlaceIf`), so nothing above may change it (a new room's owner, set above, only
  // happens on a fresh room of this turn's own).
  const existing = attempt.existing;
  // XEP-0421 §5: the same id on every join of this bare JID (features/occupant-id.ts).
  // Made with the occupant (not added later): its properties then all fit in the object
  // (issue #15, 40 bytes per occupant).
  const occupantId = existing === undefined ? occupantIdOf(t.room, req.fromBare) : undefined;
  const occupant: Occupant =
    existing ??
    (occupantId === undefined
      ? { nick: nick.nick, bareJid: req.fromBare, role, sessions: [session] }
      : { nick: nick.nick, bareJid: req.fromBare, role, sessions: [session], occupantId });
  sendRoomState(t, req, occupant, session);
  // §7.2.2: the new occupant's presence to everyone else (a further session of an
  // existing nick changes nothing the others see).
  if (existing === undefined) publishOccupant(t, occupant, { affiliation }, { self: [] });
  if (existing === undefined) t.room.occupants.set(nick.key, occupant);
  else existing.sessions.push(session);
  t.persist();
}

/**
 * Items 1-4 of §7.1 for one session: the other occupants' presence, self-presence (with
 * the session's own presence), history, subject.
 */
function sendRoomState(t: Turn, req: StanzaRequest, occupant: Occupant, session: OccupantSession): void {
  const room = t.room;
  const sees = seesRealJids(room, occupant.role);
  for (const other of room.occupants.values()) {
    if (other.nick === occupant.nick || !isBroadcast(room, other.role)) continue;
    t.sendShared(session, viewPresence(room.jid, other, t.affiliation(other.bareJid), sees, hatsOf(room, other.bareJid)));
  }
  sendAbsentMembers(t, session, occupant.bareJid, sees);
  const selfCodes: string[] = [];
  if (req.created) selfCodes.push('201');
  if (room.config.whois === 'anyone') selfCodes.push('100');
  if (occupant.nick !== req.nick) selfCodes.push('210');
  const self = { affiliation: t.affiliation(occupant.bareJid), base: req.stanza, selfCodes, hats: hatsOf(room, occupant.bareJid) };
  t.sendTo(session, occupantPresence(room.jid, occupant, self, { to: session.fullJid, self: true, seesJids: sees }));
  sendHistory(t, session, mucX(req.stanza)?.getChild('history'));
  sendSubject(t, session);
}

/** §7.2.1 / §17.3 rule 3: an x-tagged join from a joined session gets the full join sequence again. */
function resync(t: Turn, req: StanzaRequest, occupant: Occupant, session: OccupantSession): void {
  const changed = session.presence !== serialize(req.stanza);
  session.presence = serialize(req.stanza);
  if (changed) t.persist();
  sendRoomState(t, req, occupant, session);
  if (changed && occupant.sessions[0] === session) {
    publishOccupant(t, occupant, { affiliation: t.affiliation(occupant.bareJid) }, { self: [] });
  }
}
