// Stanza routing as one declarative table (STYLE.md §4, after Prosody's
// "iq-set/bare/http://jabber.org/protocol/muc#admin:query" events). A key is
// `<stanza>-<type>/<bare|occupant>` for messages and presence (presence without a type is
// `available`, message without a type `normal`), with `/<namespace>:<payload>` appended
// for iq get and set. `missing` says what happens when the room does not exist:
// `create` (§10.1.1: presence creates it), `not-found` (item-not-found, e.g. §7.10),
// `ignore`, or `handle` (answered the same either way). `inPlace` marks handlers that need
// no working copy of the room (see Route).
import type { Element } from 'ltx';
import { NS } from '@parley/xml';
import { REFUSALS } from './errors.js';
import { onAdminGet, onAdminSet } from './features/admin.js';
import { onOwnerGet, onOwnerSet } from './features/config-form.js';
import { onDiscoInfo, onDiscoItems } from './features/disco.js';
import { onErrorKick, onMessageErrorToOccupant } from './features/error-kick.js';
import { onGroupchat } from './features/groupchat.js';
import { MAM_NS, onMamFormGet, onMamQuery } from './features/mam.js';
import { MODERATE_NS, onModerate } from './features/moderate.js';
import { onRoomMessage } from './features/invite.js';
import { onIqAnswer, onIqToOccupant } from './features/iq-forward.js';
import { onOccupantPresence } from './features/join.js';
import { onUnavailable } from './features/leave.js';
import { onGroupchatToOccupant, onPrivateMessage } from './features/private-message.js';
import { onProbe } from './features/probe.js';
import { onRegisterGet, onRegisterSet } from './features/register.js';
import { onBareMessage } from './features/voice-request.js';
import { findSession } from './room-queries.js';
import type { RoomState } from './room-state.js';
import type { StanzaRequest, Turn } from './turn.js';

/** A stanza handler: reads and updates the turn's room, queues replies. */
export type Handler = (t: Turn, req: StanzaRequest) => void;

/** What to do with a stanza for a room that does not exist. */
export type WhenMissing = 'create' | 'not-found' | 'ignore' | 'handle';

/** One row of the table. */
export interface Route {
  handle: Handler;
  missing: WhenMissing;
  /**
   * The handler runs on the caller's room itself instead of a deep copy: it only reads
   * the room, or changes it as its very last action, after anything that can refuse or
   * throw (groupchat: the history append; subject: the subject). So a refused input
   * leaves the room as it was, and the hot path (a groupchat message) costs nothing per
   * occupant for copying state. Handlers that may refuse after a change run on a copy.
   */
  inPlace?: true;
  /**
   * Like `inPlace`, for this input only: the handler runs on the room itself when this
   * says so (a first join of a session, whose checks all come before its first change),
   * on a copy otherwise.
   */
  inPlaceIf?: (room: RoomState, req: StanzaRequest) => boolean;
}

/** §7.2.1: presence to the bare room JID has no nick. */
const noNick: Handler = (t, req) => t.refuse(req, REFUSALS.noNick);

const unsupported: Handler = (t, req) => t.refuse(req, REFUSALS.unsupported);

const q = (ns: string): string => `${ns}:query`;

/** A session that is not in the room yet (join.ts `enter`: every check before the first change). */
const isFirstJoin = (room: RoomState, req: StanzaRequest): boolean => req.nick !== undefined && findSession(room, req.from) === undefined;

/** The routing table (a Map: its keys are built from what clients send). */
export const ROUTES: ReadonlyMap<string, Route> = new Map<string, Route>([
  ['presence-available/occupant', { handle: onOccupantPresence, missing: 'create', inPlaceIf: isFirstJoin }],
  ['presence-available/bare', { handle: noNick, missing: 'handle', inPlace: true }],
  ['presence-unavailable/occupant', { handle: onUnavailable, missing: 'ignore' }],
  ['presence-unavailable/bare', { handle: onUnavailable, missing: 'ignore' }],
  // §17.3 rule 4: probes to occupant JIDs (probe.ts); probes to the room itself are ignored.
  ['presence-probe/occupant', { handle: onProbe, missing: 'ignore', inPlace: true }],
  // XEP-0045 service-error-kick: an error from an occupant's session removes it (error-kick.ts).
  ['presence-error/occupant', { handle: onErrorKick, missing: 'ignore' }],
  ['presence-error/bare', { handle: onErrorKick, missing: 'ignore' }],
  ['message-error/occupant', { handle: onMessageErrorToOccupant, missing: 'ignore' }],
  ['message-error/bare', { handle: onErrorKick, missing: 'ignore' }],
  ['message-groupchat/bare', { handle: onGroupchat, missing: 'not-found', inPlace: true }],
  ['message-normal/bare', { handle: onBareMessage, missing: 'not-found' }],
  ['message-chat/bare', { handle: onRoomMessage, missing: 'not-found' }],
  ['message-groupchat/occupant', { handle: onGroupchatToOccupant, missing: 'not-found', inPlace: true }],
  ['message-chat/occupant', { handle: onPrivateMessage, missing: 'not-found', inPlace: true }],
  ['message-normal/occupant', { handle: onPrivateMessage, missing: 'not-found', inPlace: true }],
  ['message-headline/occupant', { handle: onPrivateMessage, missing: 'not-found', inPlace: true }],
  [`iq-get/bare/${q(NS.MUC_OWNER)}`, { handle: onOwnerGet, missing: 'not-found' }],
  [`iq-set/bare/${q(NS.MUC_OWNER)}`, { handle: onOwnerSet, missing: 'not-found' }],
  [`iq-get/bare/${q(NS.MUC_ADMIN)}`, { handle: onAdminGet, missing: 'not-found' }],
  [`iq-set/bare/${q(NS.MUC_ADMIN)}`, { handle: onAdminSet, missing: 'not-found' }],
  [`iq-get/bare/${q(NS.REGISTER)}`, { handle: onRegisterGet, missing: 'not-found' }],
  [`iq-set/bare/${q(NS.REGISTER)}`, { handle: onRegisterSet, missing: 'not-found' }],
  [`iq-get/bare/${q(NS.DISCO_INFO)}`, { handle: onDiscoInfo, missing: 'not-found', inPlace: true }],
  [`iq-get/bare/${q(NS.DISCO_ITEMS)}`, { handle: onDiscoItems, missing: 'not-found', inPlace: true }],
  // XEP-0313 §4: archive queries and §4.1.4 the query form, on the room's bare JID (mam.ts).
  [`iq-set/bare/${q(MAM_NS)}`, { handle: onMamQuery, missing: 'not-found', inPlace: true }],
  [`iq-get/bare/${q(MAM_NS)}`, { handle: onMamFormGet, missing: 'not-found', inPlace: true }],
  // XEP-0425 §3: a moderator retracts a message (moderate.ts); on a copy: it changes the history.
  [`iq-set/bare/${MODERATE_NS}:moderate`, { handle: onModerate, missing: 'not-found' }],
  // RFC 6120 §8.4: an iq get/set nobody handles gets service-unavailable.
  ['iq-get/bare', { handle: unsupported, missing: 'not-found', inPlace: true }],
  ['iq-set/bare', { handle: unsupported, missing: 'not-found', inPlace: true }],
  // §17.4 rule 3 and XEP-0410: IQs to occupant JIDs are forwarded, answers relayed back (iq-forward.ts).
  ['iq-get/occupant', { handle: onIqToOccupant, missing: 'not-found', inPlace: true }],
  ['iq-set/occupant', { handle: onIqToOccupant, missing: 'not-found', inPlace: true }],
  ['iq-result/occupant', { handle: onIqAnswer, missing: 'ignore', inPlace: true }],
  ['iq-error/occupant', { handle: onIqAnswer, missing: 'ignore', inPlace: true }],
]);

/** The stanza's type as used in keys. */
export function stanzaType(stanza: Element): string {
  const type: unknown = stanza.attrs.type;
  if (typeof type === 'string' && type !== '') return type;
  return stanza.name === 'presence' ? 'available' : stanza.name === 'message' ? 'normal' : '';
}

/**
 * The route for a stanza, most specific key first; undefined means "ignore it" (iq
 * results and errors to the bare room, presence subscriptions, ...).
 */
export function findRoute(stanza: Element, type: string, toOccupant: boolean, payload: Element | undefined): Route | undefined {
  const base = `${stanza.name}-${type}/${toOccupant ? 'occupant' : 'bare'}`;
  if (payload !== undefined) {
    const ns = payload.getNS() ?? '';
    const exact = ROUTES.get(`${base}/${ns}:${payload.name}`);
    if (exact !== undefined) return exact;
  }
  return ROUTES.get(base);
}
