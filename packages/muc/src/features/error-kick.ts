// XEP-0045 "Service removes user because of error response" (§11.1 in the XEP's use-case
// numbering, anchor `service-error-kick`): "A MUC service MAY support adding the 333 status
// code to presences when a user gets removed by the service due to a technical problem";
// "it MUST include the 333 status code in the resulting presence" and "The status code
// MUST also be included in presences sent to other occupants". A presence or message of
// type error from an occupant's session (typically a bounce: the room's stanza could not
// be delivered to it) means that session is gone: it is removed. As Prosody 0.12 does
// (observed condition by condition): a presence error always, a message error only when
// its condition says the message could not be delivered ({@link DELIVERY_FAILURES}); other
// message errors are a client's answer about the message itself (e.g. `not-acceptable`,
// `feature-not-implemented`) and leave the session in the room; addressed to an occupant
// JID (the answer to a private message, §7.5), such an error is passed on to that
// occupant's sessions from the sender's occupant JID, as a private message would be.
// - The occupant's last session: the occupant leaves with unavailable presence carrying
//   333, to itself and to the others (like Prosody 0.12, the presence has a `<status/>` text
//   `Kicked: <condition>`, and no 307, which the XEP advises against).
// - One of several sessions of a multi-session nick (§7.2.8): only that session is dropped
//   (it is told nothing: it errored), and the occupant's presence is published again, as
//   self-presence to the remaining sessions and to the others, so everyone sees the
//   occupant's current state (Prosody 0.12 does the same).
// §7.2.18 (groupchat 1.0 joins) is join.ts. IQ errors are not kicks here: an iq error to an
// occupant JID is the answer to a forwarded iq (iq-forward.ts).
import { Element } from 'ltx';
import { NS } from '@parley/xml';
import { copyElement } from '../copy-element.js';
import type { Occupant, OccupantSession } from '../room-state.js';
import { findSession } from '../room-queries.js';
import type { StanzaRequest, Turn } from '../turn.js';
import { removeOccupant } from './leave.js';
import { publishOccupant } from './presence-broadcast.js';

/** Longest error condition name carried into the `<status/>` text (RFC 6120 §8.3.3 names are shorter). */
const MAX_CONDITION = 64;

/** Message error conditions that mean "not delivered" (RFC 6120 §8.3.3), after Prosody 0.12. */
export const DELIVERY_FAILURES: ReadonlySet<string> = new Set([
  'gone',
  'internal-server-error',
  'item-not-found',
  'jid-malformed',
  'recipient-unavailable',
  'redirect',
  'remote-server-not-found',
  'remote-server-timeout',
  'service-unavailable',
]);

/**
 * The defined condition of a stanza error (RFC 6120 §8.3.2: the first child of `<error/>`
 * in the stanzas namespace), or `undefined-condition` when there is none.
 */
export function errorConditionOf(stanza: Element): string {
  const error = stanza.getChild('error');
  const condition = error?.getChildElements().find((c) => c.getNS() === NS.STANZAS && c.name !== 'text');
  const name = condition?.name ?? 'undefined-condition';
  return name.length > MAX_CONDITION ? 'undefined-condition' : name;
}

/**
 * A presence or message of type error addressed to the room or to an occupant JID: the
 * sending session is removed (see the file comment). From a session that is not in the
 * room, or a message error that is not a delivery failure: ignored (RFC 6120 §8.3.1: an
 * error is never answered).
 */
export function onErrorKick(t: Turn, req: StanzaRequest): void {
  const found = findSession(t.room, req.from);
  if (found === undefined) return;
  const condition = errorConditionOf(req.stanza);
  if (req.stanza.name === 'message' && !DELIVERY_FAILURES.has(condition)) return t.log('debug', 'message error kept', { condition });
  kickSession(t, found.occupant, found.session, condition);
  t.log('debug', 'session removed after an error', { stanza: req.stanza.name, condition });
}

/**
 * A message of type error to room/nick: a delivery failure removes the sending session
 * ({@link onErrorKick}); any other error from an occupant goes on to the sessions of the
 * occupant holding `nick`, from the sender's occupant JID, with `<x xmlns='…muc#user'/>`
 * added as on private messages (§7.5). Nothing happens for a sender that is not in the
 * room or a nick nobody holds.
 */
export function onMessageErrorToOccupant(t: Turn, req: StanzaRequest): void {
  if (DELIVERY_FAILURES.has(errorConditionOf(req.stanza))) return onErrorKick(t, req);
  const sender = findSession(t.room, req.from)?.occupant;
  const target = req.occupantNick === undefined ? undefined : t.room.occupants.get(req.occupantNick.key);
  if (sender === undefined || target === undefined) return t.log('debug', 'message error to an occupant dropped');
  for (const session of target.sessions) {
    const message = new Element('message', { xmlns: NS.CLIENT, type: 'error', from: t.occupantJid(sender.nick) });
    for (const name of ['id', 'xml:lang']) {
      const v: unknown = req.stanza.attrs[name];
      if (typeof v === 'string') message.attrs[name] = v;
    }
    for (const child of req.stanza.getChildElements()) message.cnode(copyElement(child));
    if (message.getChild('x', NS.MUC_USER) === undefined) message.c('x', { xmlns: NS.MUC_USER });
    t.sendTo(session, message);
  }
}

/** Removes one session for a technical problem named by `condition` (status 333). */
export function kickSession(t: Turn, occupant: Occupant, session: OccupantSession, condition: string): void {
  const affiliation = t.affiliation(occupant.bareJid);
  if (occupant.sessions.length <= 1) {
    const base = new Element('presence', { xmlns: NS.CLIENT });
    base.c('status').t(`Kicked: ${condition.replace(/-/g, ' ')}`);
    removeOccupant(t, occupant, { codes: ['333'], affiliation, base }, { notifySelf: true });
    return;
  }
  occupant.sessions = occupant.sessions.filter((s) => s !== session);
  t.persist();
  publishOccupant(t, occupant, { affiliation }, { self: occupant.sessions });
}
