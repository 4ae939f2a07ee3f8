// Every stanza error the room core returns, in one place, with the XEP-0045 section that
// calls for it. RFC 6120 §8.3.3 gives the default type of each condition; XEP-0045 fixes
// some others (e.g. §7.2.9: a full room answers service-unavailable of type 'wait').
// At the end: how admin commands (room-command.ts) are refused.
import type { StanzaErrorCondition, StanzaErrorType } from '@parley/stanza';
import type { CommandErrorCode } from './room-command.js';

/** A refused request: the error condition and type to answer with. */
export interface Refusal {
  condition: StanzaErrorCondition;
  type: StanzaErrorType;
  /** Human-readable text, sent as `<text/>` (never message bodies or secrets). */
  text?: string;
}

function r(condition: StanzaErrorCondition, type: StanzaErrorType, text?: string): Refusal {
  return text === undefined ? { condition, type } : { condition, type, text };
}

/** The refusals of the room core, by name. */
export const REFUSALS = {
  /** §7.2.1: presence to the room without a nick. */
  noNick: r('jid-malformed', 'modify'),
  /** §7.2.10: the room is locked (awaiting its initial configuration). */
  locked: r('item-not-found', 'cancel'),
  /** §7.2.7: the user is banned (outcast). */
  banned: r('forbidden', 'auth'),
  /** §7.2.6: members-only room, user not on the member list. */
  membersOnly: r('registration-required', 'auth'),
  /** §7.2.5: missing or wrong password. */
  badPassword: r('not-authorized', 'auth'),
  /**
   * §7.2.1 (a nick that is not a valid occupant JID resourcepart): the nick fails the
   * RFC 8266 Nickname profile (e.g. empty after trimming spaces, XEP-0045 §17.2 "MUST NOT
   * allow empty or invisible Room Nicknames"), or holds an emoji or a variation selector
   * (nick.ts, as Prosody 0.12 refuses them).
   */
  badNick: r('jid-malformed', 'modify', 'The nickname is not acceptable (RFC 8266; no emoji or variation selectors)'),
  /** §7.2.8, §7.6: nick held by another user (compared per RFC 8266 §2.4). */
  nickInUse: r('conflict', 'cancel'),
  /** §7.12: nick reserved (registered) by another user. */
  nickReserved: r('conflict', 'cancel'),
  /** §7.6: a multi-session occupant cannot change nick for one of its sessions. */
  nickChangeMultiSession: r('not-acceptable', 'cancel', 'Nick changes are not possible while joined from several resources'),
  /** §7.2.9: room full. */
  roomFull: r('service-unavailable', 'wait'),
  /** Stanza other than presence to a room that does not exist (§7.10, §15.4). */
  noRoom: r('item-not-found', 'cancel'),
  /** §7.4, §7.5: sender is not an occupant. */
  notOccupant: r('not-acceptable', 'modify'),
  /** §7.4: visitor in a moderated room. */
  noVoice: r('forbidden', 'auth'),
  /** §8.1: not allowed to change the subject. */
  subjectForbidden: r('forbidden', 'auth'),
  /** §7.5: private message to a nick that is not in the room. */
  noSuchOccupant: r('item-not-found', 'cancel'),
  /** §7.5: private message of type groupchat. */
  groupchatToOccupant: r('bad-request', 'modify'),
  /** §7.5 / muc#roomconfig_allowpm: private messages not allowed for this sender. */
  pmNotAllowed: r('not-allowed', 'cancel'),
  /** §7.8.2 / §9.5: not allowed to invite. */
  inviteForbidden: r('forbidden', 'auth'),
  /** Malformed request (missing attribute, unparseable JID, both role and affiliation, ...). */
  badRequest: r('bad-request', 'modify'),
  /** An invalid JID in a request. */
  badJid: r('jid-malformed', 'modify'),
  /** §8, §9, §10: the sender lacks the affiliation or role the request needs. */
  forbidden: r('forbidden', 'auth'),
  /** §8.2, §8.5, §9.1: target has a higher (or protected) affiliation. */
  notAllowed: r('not-allowed', 'cancel'),
  /** §9.1: an admin or owner banning themselves; §8.2 kicking oneself. */
  selfTarget: r('conflict', 'cancel'),
  /** §10.5, §10.6: removing the last owner. */
  lastOwner: r('conflict', 'cancel', 'A room needs at least one owner'),
  /** §10.1.2 (data form values), XEP-0004: a field has an invalid value. */
  badFormValue: r('bad-request', 'modify'),
  /** §10.1.2: "violate one or more service policies (e.g., because the password ... is blank)". */
  configNotAcceptable: r('not-acceptable', 'modify'),
  /** §7.10: registration not allowed for this user. */
  registerNotAllowed: r('not-allowed', 'cancel', 'Only members may register with this room'),
  /** XEP-0077 §3.2: cancelling a registration that does not exist. */
  notRegistered: r('registration-required', 'auth'),
  /** Unknown iq payload (RFC 6120 §8.4) or an iq to an occupant (not forwarded). */
  unsupported: r('service-unavailable', 'cancel'),
  /** XEP-0030 §7: unknown disco node. */
  noSuchNode: r('item-not-found', 'cancel'),
} as const satisfies Record<string, Refusal>;

/** Name of one of {@link REFUSALS}. */
export type RefusalName = keyof typeof REFUSALS;

/** A refused admin command (issue #4): the code and a human-readable message. */
export interface CommandRefusal {
  ok: false;
  error: CommandErrorCode;
  message: string;
}

/** A refused command with `error` and `message`. */
export function commandRefusal(error: CommandErrorCode, message: string): CommandRefusal {
  return { ok: false, error, message };
}

/**
 * A stanza refusal met while applying a command, as a command refusal: conflict,
 * item-not-found and not-allowed keep their name; every other condition (bad-request,
 * not-acceptable, jid-malformed, ...) is a bad request of the admin API.
 */
export function commandRefusalOf(refusal: Refusal): CommandRefusal {
  const c = refusal.condition;
  const error: CommandErrorCode = c === 'conflict' || c === 'item-not-found' || c === 'not-allowed' ? c : 'bad-request';
  return commandRefusal(error, refusal.text ?? c);
}
