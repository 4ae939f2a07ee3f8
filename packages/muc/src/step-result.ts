// What a room turn produces: the next state, stanzas to route, and effects for the worker.
import type { Element } from 'ltx';
import type { CommandResult } from './room-command.js';
import type { ArchiveEntry, ArchiveQuery } from './features/mam.js';
import type { ArchiveRetraction } from './features/moderate.js';
import type { HistoryEntry, RoomState } from './room-state.js';

/** A stanza to deliver. */
export interface Outgoing {
  /** Full stanza in `jabber:client`, with `from` and `to` set. */
  stanza: Element;
  /** `stanza.attrs.to`: full or bare JID of the recipient. */
  to: string;
  /**
   * Set when the recipient is an occupant session or the origin of the input; undefined
   * for recipients the room does not know (the worker looks the JID up itself).
   */
  route?: { gatewayId: string; sessionId: string };
  /**
   * Set on every output of one broadcast (the same object on each): the stanza was built
   * once, and each output's `stanza` is a head of its own (attributes, with its `to`)
   * sharing `broadcast.stanza`'s children. Consumers may serialise `broadcast.stanza` once
   * instead of each output; nobody may modify the shared children.
   */
  broadcast?: Broadcast;
  /**
   * The stanza is for an account, not a session (`to` is a bare JID the room does not
   * route to sessions, e.g. an occupant's vCard request, XEP-0045 §17.4): it goes to the
   * gateway `route.gatewayId` (with `route.sessionId` empty), which routes it as a stanza
   * received from the room (RFC 6120 §10).
   */
  viaServer?: true;
}

/** A stanza sent to several recipients that differ only in `to`. */
export interface Broadcast {
  /** The stanza without `to` (in `jabber:client`). */
  readonly stanza: Element;
}

/** Work for the room worker, in order. */
export type Effect =
  /** Room state other than history changed: write the room. */
  | { kind: 'persist' }
  /** A history entry was added: append it, trimming to `config.historyLength`. */
  | { kind: 'history-append'; entry: HistoryEntry }
  /**
   * XEP-0313: a message to append to the room's archive (features/mam.ts), in the same
   * commit as the turn; the worker trims the archive to its bounds.
   */
  | { kind: 'archive-append'; entry: ArchiveEntry }
  /**
   * XEP-0313 §4: an accepted archive query. The worker reads the archive (as committed
   * before this turn) and adds `archiveResults(query, page, room)` (or, for an unknown RSM
   * id, `archiveItemNotFound(query)`) to the turn's outputs, with this input's entry.
   */
  | { kind: 'archive-query'; query: ArchiveQuery }
  /**
   * XEP-0425 §4: replace an archived message by a tombstone, in the same commit as the turn,
   * if the archive has it (features/moderate.ts). With `retraction.pending`, the worker first
   * looks the id up in the archive (as committed, or appended earlier in this turn) and adds
   * `pending.success` (appending `pending.notice`) or `pending.failure` to the turn's outputs,
   * with this input's entry.
   */
  | { kind: 'archive-retract'; retraction: ArchiveRetraction }
  /**
   * The history lost an entry (XEP-0425 §5): write the room's whole history list again
   * (`room.history` after the turn), instead of appending.
   */
  | { kind: 'history-rewrite' }
  /** The room is gone (temporary room emptied, creation cancelled, or destroyed by an owner). */
  | { kind: 'destroyed'; reason?: string }
  | { kind: 'log'; level: 'info' | 'warn' | 'debug'; msg: string; data?: Record<string, unknown> }
  /**
   * The answer to a `command` input: exactly one per command, always the last effect of
   * its turn (after `persist` or `destroyed`). Deliver it once the turn is committed.
   */
  | { kind: 'command-result'; commandId: string; result: CommandResult };

/** Result of one turn: `room` undefined means the room does not exist (any more). */
export interface StepResult {
  room: RoomState | undefined;
  out: Outgoing[];
  effects: Effect[];
}
