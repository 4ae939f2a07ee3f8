// XEP-0425 (Moderated Message Retraction) 0.3.0 for rooms, the pure part, with the
// XEP-0424 (Message Retraction) `urn:xmpp:message-retract:1` elements it builds on.
//
// §3 (Use Case): a moderator sends `<iq type='set' to='room'><moderate id='<stanza-id>'
// xmlns='urn:xmpp:message-moderate:1'><retract xmlns='urn:xmpp:message-retract:1'/>
// <reason>…</reason>?</moderate></iq>`, where the id is the XEP-0359 stanza-id the room
// stamped (features/stanza-id.ts). §3.1 (Success case): the room answers the iq with a result
// and sends every occupant session (the moderator included) a groupchat message from the
// room's bare JID: `<retract id xmlns='urn:xmpp:message-retract:1'><moderated by='<moderator
// occupant JID>' xmlns='urn:xmpp:message-moderate:1'><occupant-id/></moderated><reason/>?
// </retract>`. That notice gets its own stanza-id and goes into the XEP-0313 archive (so a
// client catching up through MAM learns of the retraction), but not into the discussion
// history: the retracted message leaves the history (§5 Business Rules: the room "SHOULD
// prevent further distribution" of it), so a late joiner never sees it and a notice about it
// would be noise. XEP-0425 asks for no fallback body, and we add none (as its §3.1 example).
// §3.2 (Error case): errors are iq errors. Ours:
// - `forbidden` (type `modify`, as §3.2's example): the requester is not a moderator (XEP-0045
//   role) of the room, an occupant of another role or no occupant at all;
// - `bad-request` (modify): no `id`, or an `id` or `<reason/>` over its bound;
// - `feature-not-implemented` (cancel): a `<moderate/>` without `<retract/>` (§1: other
//   moderation actions are out of this XEP's scope);
// - `item-not-found` (cancel): the id is neither in the room's history nor in its archive.
//
// Where "the id exists" is decided. The core has no I/O: it looks in the room's in-memory
// discussion history first. Found there, everything is decided here: the history entry is
// removed (a `history-rewrite` effect), and the notice, the iq result and the tombstone (an
// `archive-retract` effect, applied by the worker's commit only if the archive has the id) are
// produced now. Not found there and the room archives: only the archive can tell, so the core
// produces the success outcome *conditionally*: an `archive-retract` effect carrying `pending`
// (the notice's archive entry, the notice and result stanzas, and the item-not-found error);
// the worker looks the id up in the archive's id index inside the turn (as it reads pages for
// `archive-query`, services/room-worker/src/shard/archive-store.ts) and delivers either the
// success stanzas (with the notice appended and the tombstone written in the turn's commit) or
// the error. Not found and the room does not archive: item-not-found right away.
//
// §4 (Tombstones): the archive keeps the retracted message's attributes and its author's
// `<occupant-id/>`, and replaces every other child by `<retracted stamp
// xmlns='urn:xmpp:message-retract:1'><moderated by xmlns='urn:xmpp:message-moderate:1'>
// <occupant-id/></moderated><reason/>?</retracted>` ({@link applyTombstone}). §4's example
// puts `urn:xmpp:message-retract:0` on `<retracted/>`, left over from 0.2; we use the `:1`
// namespace of the rest of 0.3.0 and of XEP-0424. §4 suggests the moderator's JID in `by`; we
// put the moderator's occupant JID there, as the §3.1 notice does, since a bare JID would show
// the moderator's real JID to every archive reader of a semi-anonymous room (privacy).
// §2 (Discovering support): `urn:xmpp:message-moderate:1` in the room's disco#info, on every
// room (history and archive both can be moderated).
// Prosody 0.12 has no XEP-0425 in core (mod_muc_moderation is a community module).
import { Element } from 'ltx';
import { NS, parseOwnElement, serialize } from '@parley/xml';
import type { Refusal } from '../errors.js';
import { findSession } from '../room-queries.js';
import type { RoomState } from '../room-state.js';
import type { Outgoing } from '../step-result.js';
import { formatStamp } from '../stamp.js';
import type { StanzaRequest, Turn } from '../turn.js';
import type { Feature } from './feature.js';
import { archivingEnabled, type ArchiveEntry } from './mam.js';
import { addOccupantId, OCCUPANT_ID_NS } from './occupant-id.js';
import { addStanzaId, newId, SID_NS } from './stanza-id.js';

/** XEP-0425 namespace and disco#info feature (§2). */
export const MODERATE_NS = 'urn:xmpp:message-moderate:1';
/** XEP-0424 namespace of `<retract/>` and `<retracted/>`. */
export const RETRACT_NS = 'urn:xmpp:message-retract:1';
/** Longest stanza-id accepted in `<moderate id/>`, in characters (ours are 36). */
const MAX_ID_CHARS = 256;
/** Longest `<reason/>` accepted, in characters. */
export const MAX_REASON_CHARS = 1024;

/** Advertises XEP-0425 on every room (§2). */
export const moderation: Feature = {
  name: 'moderate',
  discoFeatures() {
    return [MODERATE_NS];
  },
};

/** A moderated retraction to apply to the room's archive (the `archive-retract` effect). */
export interface ArchiveRetraction {
  /** The room's bare JID. */
  room: string;
  /** The archive id (XEP-0359 stanza-id) of the retracted message. */
  id: string;
  /** The `<retracted/>` element (§4) replacing the message's payload, serialised. */
  retracted: string;
  /**
   * Set when the core could not tell whether the id exists (not in the history): the worker
   * delivers `success` and appends `notice` only when the archive has the id, and `failure`
   * (item-not-found) otherwise. Unset: the core decided, `success` is already in the turn.
   */
  pending?: {
    /** The §3.1 notice for the archive, when the room archives. */
    notice?: ArchiveEntry;
    /** The notice to every occupant session and the iq result, in order. */
    success: Outgoing[];
    /** The item-not-found iq error to the moderator. */
    failure: Outgoing;
  };
}

const refusal = (condition: Refusal['condition'], type: Refusal['type'], text?: string): Refusal =>
  text === undefined ? { condition, type } : { condition, type, text };

/** §3.2: the refusal for anyone but a moderator. */
export const NOT_MODERATOR = refusal('forbidden', 'modify', 'Only moderators may retract the messages of others');
/** §3.2: the id is neither in the history nor in the archive. */
export const UNKNOWN_MESSAGE = refusal('item-not-found', 'cancel', 'No such message in this room');

/**
 * §3: `<moderate/>` in an iq set to the room. Checks the request (see the file header for
 * the errors), then retracts the message with that stanza-id: from the history at once, and
 * from the archive through an `archive-retract` effect (conditionally when only the archive
 * can have it). Runs on a working copy of the room (its history changes after its checks).
 */
export function onModerate(t: Turn, req: StanzaRequest): void {
  const moderate = req.payload!;
  const moderator = findSession(t.room, req.from)?.occupant;
  if (moderator === undefined || moderator.role !== 'moderator') return t.refuse(req, NOT_MODERATOR);
  const id: unknown = moderate.attrs.id;
  if (typeof id !== 'string' || id === '') return t.refuse(req, refusal('bad-request', 'modify', "<moderate/> needs an 'id'"));
  if (id.length > MAX_ID_CHARS) return t.refuse(req, refusal('bad-request', 'modify', 'id too long'));
  if (moderate.getChild('retract', RETRACT_NS) === undefined) return t.refuse(req, refusal('feature-not-implemented', 'cancel', 'Only retraction is supported'));
  const reasonEl = moderate.getChild('reason');
  const reason = reasonEl === undefined ? undefined : reasonEl.getText();
  if (reason !== undefined && reason.length > MAX_REASON_CHARS) return t.refuse(req, refusal('bad-request', 'modify', 'reason too long'));
  const at = historyIndex(t.room, id, t.roomJid);
  const archives = archivingEnabled(t.room);
  if (at < 0 && !archives) return t.refuse(req, UNKNOWN_MESSAGE);

  const by = t.occupantJid(moderator.nick);
  const moderated = (): Element => addOccupantId(new Element('moderated', { xmlns: MODERATE_NS, by }), moderator.occupantId);
  // The §3.1 `<retract/>` or the §4 `<retracted/>`: `<moderated/>`, then the reason if any.
  const wrap = (el: Element): Element => {
    el.cnode(moderated());
    if (reason !== undefined) el.c('reason').t(reason);
    return el;
  };
  // §3.1: the notice to everyone, from the room's bare JID, stamped with its own stanza-id.
  const notice = new Element('message', { xmlns: NS.CLIENT, from: t.roomJid, type: 'groupchat', id: newId(t.ctx) });
  notice.cnode(wrap(new Element('retract', { xmlns: RETRACT_NS, id })));
  const noticeId = addStanzaId(notice, t.roomJid, t.ctx);
  // §4: the tombstone's payload.
  const retracted = wrap(new Element('retracted', { xmlns: RETRACT_NS, stamp: formatStamp(t.ctx.now) }));
  let noticeEntry: ArchiveEntry | undefined;
  if (archives) {
    const stored = new Element('message', { ...notice.attrs });
    for (const child of notice.children) if (typeof child === 'string' || child.getNS() !== SID_NS) stored.children.push(child);
    noticeEntry = { id: noticeId, at: t.ctx.now, xml: serialize(stored), nick: '', jid: t.roomJid };
  }
  const retraction: ArchiveRetraction = { room: t.roomJid, id, retracted: serialize(retracted) };

  if (at < 0) {
    // Only the archive can have it: the worker decides (see the file header).
    const before = t.out.length;
    t.broadcast(allSessions(t.room), notice);
    t.result(req);
    const success = t.out.splice(before);
    t.refuse(req, UNKNOWN_MESSAGE);
    const failure = t.out.pop()!;
    if (t.effects[t.effects.length - 1]?.kind === 'log') t.effects.pop(); // not refused (yet)
    retraction.pending = noticeEntry === undefined ? { success, failure } : { notice: noticeEntry, success, failure };
    t.effects.push({ kind: 'archive-retract', retraction });
    return;
  }
  t.broadcast(allSessions(t.room), notice);
  t.result(req);
  if (noticeEntry !== undefined) {
    t.effects.push({ kind: 'archive-append', entry: noticeEntry });
    t.effects.push({ kind: 'archive-retract', retraction });
  }
  // Last: the history loses the message (§5), written back whole by the worker.
  t.room.history.splice(at, 1);
  t.effects.push({ kind: 'history-rewrite' });
}

/** Index in the room's history of the message with the room's stanza-id `id`, or -1. */
export function historyIndex(room: RoomState, id: string, roomJid: string): number {
  // Cheap pre-filter on the serialised message, then an exact check of the parsed element.
  for (let i = 0; i < room.history.length; i++) {
    const entry = room.history[i]!;
    if (!entry.xml.includes(id)) continue;
    try {
      const message = parseOwnElement(entry.xml, NS.CLIENT);
      if (message.getChildren('stanza-id', SID_NS).some((s) => s.attrs.id === id && s.attrs.by === roomJid)) return i;
    } catch {
      continue;
    }
  }
  return -1;
}

/**
 * §4: `entry` with its message's payload replaced by the tombstone `retracted` (a serialised
 * `<retracted/>`): the message keeps its attributes and its author's `<occupant-id/>`, every
 * other child goes. An entry whose message does not parse is returned as a bare message from
 * the sender's occupant JID carrying the tombstone.
 */
export function applyTombstone(entry: ArchiveEntry, retracted: string, roomJid: string): ArchiveEntry {
  let message: Element;
  try {
    message = parseOwnElement(entry.xml, NS.CLIENT);
  } catch {
    message = new Element('message', { xmlns: NS.CLIENT, from: `${roomJid}/${entry.nick}`, type: 'groupchat' });
  }
  const kept = message.getChildElements().filter((c) => c.name === 'occupant-id' && c.getNS() === OCCUPANT_ID_NS);
  message.children = kept;
  try {
    message.cnode(parseOwnElement(retracted, RETRACT_NS));
  } catch {
    message.cnode(new Element('retracted', { xmlns: RETRACT_NS }));
  }
  return { ...entry, xml: serialize(message) };
}

function* allSessions(room: RoomState) {
  for (const occupant of room.occupants.values()) yield* occupant.sessions;
}
