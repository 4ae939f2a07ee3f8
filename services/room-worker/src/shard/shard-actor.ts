/*
 * One shard's rooms in memory and the application of its stream entries: the actor's turn
 * without its I/O. Rooms of a shard share one sequential turn loop, so every room sees its
 * inputs one at a time, in stream order (XEP-0045 leaves ordering to the service; clients
 * expect a room to be a single point of serialisation). Which read entries a turn applies
 * is fair between the shard's lanes of rooms (fair-schedule.ts): a room's entries stay in
 * order, but one flooded room does not hold the other lanes behind its backlog.
 *
 * Progress is the cursor (every entry up to it applied and committed) plus, per lane, the
 * last entry applied after the cursor (`laneMarks`, committed with the turn, see
 * shard-store.ts): after a failover the next owner reads from the cursor and skips what a
 * lane's mark covers, so nothing is lost and nothing committed is applied twice; what was
 * applied but not committed is applied again and its deliveries carry the same marks.
 */
import type { Logger } from 'pino';
import { compareStreamIds, decodeRoomInput, laneForRoom, prevStreamId, type RoomInputEnvelope } from '@parley/bus';
import { serviceStep, step, type ArchiveEntry, type ArchiveQuery, type ArchiveRetraction, type CommandResult, type RoomContext, type RoomInput, type RoomState } from '@parley/muc';
import { NS, parseOwnElement } from '@parley/xml';
import type { TurnOutput } from '../delivery/resolve-recipients.js';
import { parseCommand, type CommandReply } from './command-input.js';
import { entryIds } from './entry-ids.js';
import { BARRIER, pickFair } from './fair-schedule.js';
import { diffRoom, type CommittedRoom, type RoomWrite } from './shard-store.js';

/**
 * Rooms of the old layout (occupants inline) rewritten per commit at most, on top of the
 * turn's own writes: the first commits after a load migrate them a bounded number at a time.
 */
export const MIGRATIONS_PER_TURN = 32;

/** A shard stream entry as XREAD / XRANGE return it: id and flat field/value pairs. */
export type StreamEntry = [id: string, fields: string[]];

/** A read entry waiting for its turn, decoded once. */
export interface PendingEntry {
  id: string;
  fields: string[];
  /** Undefined when malformed (skipped at its turn). */
  input: RoomInputEnvelope | undefined;
  /** Its room's lane (`laneForRoom`), or `BARRIER` for `gateway-down`; malformed entries go to lane 0. */
  lane: number;
}

/** What a room's history list must undergo at commit. */
export interface HistoryChange {
  /** Delete the list before appending (the room was destroyed during the turn). */
  reset: boolean;
  /** Entries kept after appending (the room's `historyLength`; 0 deletes the list). */
  keep: number;
  /** JSON `HistoryEntry`s to append, oldest first. */
  append: string[];
}

/** Everything a turn changed, to be delivered and committed by the worker. */
export interface TurnResult {
  /** Every entry up to this id is applied: the cursor to commit (it may not move in a turn). */
  cursor: string;
  /**
   * This shard's commit count after this turn (`ShardActor.commits`): a commit whose count
   * is already stored is a resend and writes nothing. Undefined: the cursor alone says that.
   */
  commit?: number;
  /** Lane → id of its last applied entry, for the lanes that moved and are after {@link cursor}. */
  laneMarks?: Map<number, string>;
  /** Lanes whose mark the cursor has caught up with: their stored mark is deleted. */
  laneDrops?: number[];
  /** Number of entries applied (malformed ones included: they are skipped, not retried). */
  applied: number;
  /** Outgoing stanzas in production order, each with the entry that produced it. */
  outputs: TurnOutput[];
  /** Rooms to write (the state) or delete (undefined), by room JID. */
  roomWrites: Map<string, RoomState | undefined>;
  /**
   * What to write of each room of {@link roomWrites} that exists (shard-store.ts
   * `diffRoom`): its changed occupants, and its JSON if it changed. A room written without
   * one is written whole.
   */
  roomDiffs?: Map<string, RoomWrite>;
  /** History list changes by room JID. */
  history: Map<string, HistoryChange>;
  /** Results of the turn's `command` entries, in entry order: pushed only once the turn is committed. */
  replies: CommandReply[];
  /** XEP-0313 archive changes by room JID (archive-store.ts), when the turn has any. */
  archive?: Map<string, ArchiveChange>;
  /**
   * XEP-0313 queries accepted this turn, in entry order, with the entry and lane that made
   * them: the worker answers them before delivering the turn (archive-store.ts).
   */
  archiveQueries?: { entry: string; lane: number; query: ArchiveQuery }[];
  /**
   * XEP-0425 retractions whose message only the archive can have (`retraction.pending`), in
   * entry order: the worker resolves them before delivering the turn (archive-store.ts).
   */
  archiveRetractions?: { entry: string; lane: number; retraction: ArchiveRetraction }[];
}

/** What a room's XEP-0313 archive must undergo at commit. */
export interface ArchiveChange {
  /** Delete the archive before appending (the room was destroyed during the turn). */
  reset: boolean;
  /** Archive entries to append, oldest first. */
  append: ArchiveEntry[];
  /**
   * XEP-0425 §4 tombstones to write after appending, in order: archive id → serialised
   * `<retracted/>`; written only for ids the archive has (stored in a side hash, see
   * commit-shard-n.lua).
   */
  retract: { id: string; retracted: string }[];
  /** Entries kept at most after appending (`RoomContext.archiveMaxMessages`; 0: no bound). */
  maxEntries: number;
  /** Entries older than this (ms since epoch) are trimmed (0: none). */
  minAt: number;
}

/** Kinds of shard stream entries, as counted by {@link TurnEnv.countInput}. */
export type InputKind = 'stanza' | 'session-ended' | 'gateway-down' | 'session-moved' | 'command' | 'malformed';

/** What a turn needs from its worker besides the entries. */
export interface TurnEnv {
  /** The room context for this turn (its `now` is read once per turn). */
  ctx: RoomContext;
  /** Rooms listed to `disco#items` on the service (public rooms, from the directory). */
  publicRooms: readonly { jid: string; name: string; occupants: number }[];
  /** Logger carrying `{ shard }`. */
  log: Logger;
  /** Called once per entry with its kind (metrics). */
  countInput?: (kind: InputKind) => void;
  /**
   * Outgoing stanzas this turn may still produce (`roomWorker.maxOutputsPerTurn` less what
   * the turn's other shards produced). Once reached, {@link ShardActor.apply} applies no
   * further entry: the rest go back to {@link ShardActor.pending}, in stream order, for the
   * next turn. The first entry is always applied, so every shard makes progress. Undefined:
   * no bound.
   */
  maxOutputs?: number;
  /**
   * The cluster secret from which the ids a room makes are derived per entry (entry-ids.ts):
   * replays make the same stanza-ids. Undefined: `ctx.newId` as given.
   */
  idKey?: string;
}

/** The result of a command whose `step` threw or answered nothing (a bug in the room core). */
const COMMAND_FAILED: CommandResult = { ok: false, error: 'bad-request', message: 'the room could not apply the command' };

/**
 * The rooms of one shard and the id of the last committed entry. {@link apply} changes the
 * rooms in place; if the turn is then not committed, the worker discards this actor and
 * loads the shard again from Redis.
 */
export class ShardActor {
  /** Id of the last entry read into {@link pending} (reads go on after it). */
  readCursor: string;
  /** Read entries not yet applied, in stream order. */
  pending: PendingEntry[] = [];
  /** Lane → id of its last applied entry, for lanes ahead of {@link cursor} (at most `lanes`). */
  readonly laneMarks: Map<number, string>;
  /** Number of turns committed (or applied and awaiting their commit). */
  commits: number;
  /** Lanes per shard (`roomWorker.lanes`); a barrier entry's deliveries are marked with lane `lanes`. */
  readonly lanes: number;
  /**
   * What Redis holds of each room (as of the last applied turn, whose commit may be in
   * flight: a failed commit discards the actor), for the diffs of the next turns.
   */
  readonly committed: Map<string, CommittedRoom>;
  /** Rooms stored in the old layout, not yet migrated (`MIGRATIONS_PER_TURN`). */
  readonly legacy: Set<string>;

  constructor(
    readonly shard: number,
    /** Room JID → state, history included. */
    readonly rooms: Map<string, RoomState>,
    /** Every entry up to this id is committed (`0-0` before the first). */
    public cursor: string,
    progress: { lanes?: number; laneMarks?: Map<number, string>; commits?: number; committed?: Map<string, CommittedRoom>; legacy?: Set<string> } = {},
  ) {
    this.readCursor = cursor;
    this.lanes = progress.lanes ?? 1;
    this.committed = progress.committed ?? new Map();
    // Without `committed` (rooms not loaded by loadShard), every room is written whole once.
    this.legacy = progress.legacy ?? new Set(progress.committed ? [] : rooms.keys());
    this.laneMarks = new Map(progress.laneMarks ?? []);
    this.commits = progress.commits ?? 0;
  }

  /**
   * Adds read entries (in stream order) to {@link pending}. Entries at or before
   * {@link readCursor} (read already) or covered by their lane's mark (applied and committed
   * before a failover) are left out.
   */
  enqueue(entries: readonly StreamEntry[]): void {
    for (const [id, fields] of entries) {
      if (compareStreamIds(id, this.readCursor) <= 0) continue;
      this.readCursor = id;
      const input = decodeRoomInput(fields);
      const lane = input === undefined ? 0 : input.kind === 'gateway-down' ? BARRIER : laneForRoom(input.room, this.lanes);
      const mark = lane === BARRIER ? undefined : this.laneMarks.get(lane);
      if (mark !== undefined && compareStreamIds(id, mark) <= 0) continue;
      this.pending.push({ id, fields, input, lane });
    }
  }

  /**
   * Removes and returns the entries of the next turn, at most `max` (fair-schedule.ts), in
   * stream order; empty when nothing is pending.
   */
  next(max: number): PendingEntry[] {
    return this.take(pickFair(this.pending, max));
  }

  /**
   * Removes and returns the pending entries at `picked` (ascending indexes into
   * {@link pending}, as `pickFairAcross` gives them), in stream order.
   */
  take(picked: readonly number[]): PendingEntry[] {
    if (!picked.length) return [];
    const taken = new Set(picked);
    const entries = picked.map((i) => this.pending[i]!);
    this.pending = this.pending.filter((_, i) => !taken.has(i));
    return entries;
  }

  /**
   * The rooms whose oldest pending entry was added before `beforeMs` (Redis time, from the
   * entry id), oldest first, at most `max`: the rooms that are behind, for the gateways'
   * backpressure. Reads only the pending entries older than `beforeMs`.
   * @returns room JID → id of its oldest pending entry
   */
  /**
   * Rooms with at least `minPending` entries pending (flooded rooms), most pending first, at
   * most `max` (bare JIDs).
   */
  crowded(minPending: number, max: number): string[] {
    const counts = new Map<string, number>();
    for (const e of this.pending) {
      const room = e.input?.kind === 'gateway-down' ? undefined : e.input?.room;
      if (room !== undefined) counts.set(room, (counts.get(room) ?? 0) + 1);
    }
    return [...counts]
      .filter(([, n]) => n >= minPending)
      .sort((a, b) => b[1] - a[1])
      .slice(0, max)
      .map(([room]) => room);
  }

  behind(beforeMs: number, max: number): Map<string, string> {
    const rooms = new Map<string, string>();
    for (const e of this.pending) {
      if (rooms.size >= max || Number(e.id.slice(0, e.id.indexOf('-'))) >= beforeMs) break;
      const room = e.input?.kind === 'gateway-down' ? undefined : e.input?.room;
      if (room !== undefined && !rooms.has(room)) rooms.set(room, e.id);
    }
    return rooms;
  }

  /**
   * Applies `entries` (taken from {@link pending} by {@link next}) to the rooms, and moves
   * the cursor and the lane marks. Malformed entries and stanzas are logged and skipped; a room whose `step` throws
   * keeps its state and the input is skipped (logged at error level).
   *
   * Stops early once the turn has produced `turnEnv.maxOutputs` stanzas (a join to a room of N
   * occupants alone produces about 2N, XEP-0045 §7.2.3): the entries not applied go back to
   * {@link pending}. Applied entries precede them in stream order, so every lane's applied
   * entries precede its unapplied ones and the lane marks stay right.
   * @param entries - at least one entry, in stream order
   */
  apply(entries: readonly PendingEntry[], turnEnv: TurnEnv): TurnResult {
    const result: TurnResult = { cursor: this.cursor, applied: 0, outputs: [], roomWrites: new Map(), history: new Map(), replies: [] };
    const dirty = new Set<string>();
    const moved = new Set<number>();
    for (const [index, entry] of entries.entries()) {
      if (index > 0 && turnEnv.maxOutputs !== undefined && result.outputs.length >= turnEnv.maxOutputs) {
        this.putBack(entries.slice(index));
        break;
      }
      // The ids this entry makes are derived from it, so that a replay makes the same ones.
      const env = turnEnv.idKey === undefined ? turnEnv : { ...turnEnv, ctx: { ...turnEnv.ctx, newId: entryIds(turnEnv.idKey, this.shard, entry.id) } };
      const { id, fields, input } = entry;
      const markLane = entry.lane === BARRIER ? this.lanes : entry.lane;
      if (entry.lane !== BARRIER) {
        this.laneMarks.set(entry.lane, id);
        moved.add(entry.lane);
      }
      result.applied++;
      const log = env.log.child({ streamId: id });
      env.countInput?.(input ? input.kind : 'malformed');
      if (!input) {
        log.warn({ fields: fields.filter((_, i) => i % 2 === 0) }, 'malformed room input skipped');
        continue;
      }
      if (input.kind === 'gateway-down') {
        // Sorted, so that a re-applied turn produces its stanzas in the same order.
        for (const room of [...this.rooms.keys()].sort()) {
          this.stepRoom(room, { kind: 'gateway-down', gatewayId: input.gateway }, id, markLane, env, log, result, dirty);
        }
      } else if (input.kind === 'session-ended') {
        if (this.rooms.has(input.room)) {
          this.stepRoom(input.room, { kind: 'session-ended', fullJid: input.jid, sessionId: input.sessionId }, id, markLane, env, log, result, dirty);
        }
      } else if (input.kind === 'session-moved') {
        if (this.rooms.has(input.room)) {
          const moved: RoomInput = { kind: 'session-moved', fullJid: input.jid, sessionId: input.sessionId, gatewayId: input.gateway };
          this.stepRoom(input.room, moved, id, markLane, env, log, result, dirty);
        }
      } else if (input.kind === 'command') {
        const parsed = parseCommand(input.command);
        let commandResult: CommandResult;
        if ('error' in parsed) {
          commandResult = parsed.error;
        } else {
          const command: RoomInput = { kind: 'command', command: parsed.command, commandId: input.commandId };
          commandResult = this.stepRoom(input.room, command, id, markLane, env, log, result, dirty) ?? COMMAND_FAILED;
        }
        result.replies.push({ replyTo: input.replyTo, commandId: input.commandId, result: commandResult });
        const op = 'command' in parsed && typeof parsed.command?.op === 'string' ? parsed.command.op : undefined;
        log.info(
          { room: input.room, commandId: input.commandId, op, ok: commandResult.ok, ...(commandResult.ok ? {} : { error: commandResult.error }) },
          'room command answered',
        );
      } else {
        let stanza;
        try {
          // Serialised by a gateway from a stanza its strict parser read: the fast parser will do.
          stanza = parseOwnElement(input.xml, NS.CLIENT);
        } catch (err) {
          log.warn({ room: input.room, err: (err as Error).message }, 'unparsable stanza skipped');
          continue;
        }
        const origin = { gatewayId: input.gateway, sessionId: input.sessionId };
        if (input.room === env.ctx.serviceJid) {
          try {
            for (const out of serviceStep(stanza, origin, env.ctx, env.publicRooms)) result.outputs.push({ entry: id, lane: markLane, out });
          } catch (err) {
            log.error({ err }, 'the MUC service failed on a stanza; skipped');
          }
        } else {
          this.stepRoom(input.room, { kind: 'stanza', stanza, origin }, id, markLane, env, log, result, dirty);
        }
      }
    }
    // Migration of rooms stored in the old layout: a few per turn, with the turn's writes.
    let migrations = 0;
    for (const room of this.legacy) {
      if (migrations >= MIGRATIONS_PER_TURN) break;
      if (!dirty.has(room)) migrations++;
      dirty.add(room);
    }
    const diffs = new Map<string, RoomWrite>();
    for (const room of dirty) {
      const state = this.rooms.get(room);
      result.roomWrites.set(room, state);
      this.legacy.delete(room);
      if (state === undefined) {
        this.committed.delete(room);
        continue;
      }
      const { write, committed } = diffRoom(state, this.committed.get(room));
      this.committed.set(room, committed);
      diffs.set(room, write);
    }
    if (diffs.size) result.roomDiffs = diffs;
    for (const [room, change] of result.history) change.keep = this.rooms.get(room)?.config.historyLength ?? 0;
    // Everything before the oldest pending entry is applied (read entries are pending or applied).
    const first = this.pending[0];
    const cursor = first === undefined ? this.readCursor : prevStreamId(first.id);
    if (compareStreamIds(cursor, this.cursor) > 0) result.cursor = cursor;
    result.laneMarks = new Map();
    result.laneDrops = [];
    for (const [lane, mark] of this.laneMarks) {
      if (compareStreamIds(mark, result.cursor) <= 0) {
        this.laneMarks.delete(lane);
        result.laneDrops.push(lane);
      } else if (moved.has(lane)) {
        result.laneMarks.set(lane, mark);
      }
    }
    this.commits += 1;
    result.commit = this.commits;
    return result;
  }

  /** Returns entries taken but not applied to {@link pending}, keeping stream order. */
  private putBack(entries: readonly PendingEntry[]): void {
    const merged: PendingEntry[] = [];
    let i = 0;
    let j = 0;
    while (i < entries.length || j < this.pending.length) {
      const a = entries[i];
      const b = this.pending[j];
      if (b === undefined || (a !== undefined && compareStreamIds(a.id, b.id) < 0)) {
        merged.push(a!);
        i++;
      } else {
        merged.push(b);
        j++;
      }
    }
    this.pending = merged;
  }

  /**
   * Runs one input against one room and records what it changed in `result`.
   * @returns the result of a `command` input (undefined for other inputs, or when `step` threw)
   */
  private stepRoom(room: string, input: RoomInput, entry: string, lane: number, env: TurnEnv, log: Logger, result: TurnResult, dirty: Set<string>): CommandResult | undefined {
    const before = this.rooms.get(room);
    let r;
    try {
      r = step(before, room, input, env.ctx);
    } catch (err) {
      log.error({ err, room }, 'room step failed; input skipped');
      return undefined;
    }
    let commandResult: CommandResult | undefined;
    const history = () => {
      let h = result.history.get(room);
      if (!h) result.history.set(room, (h = { reset: false, keep: 0, append: [] }));
      return h;
    };
    const archive = () => {
      const changes = (result.archive ??= new Map());
      let a = changes.get(room);
      if (!a) {
        const maxAge = env.ctx.archiveMaxAgeMs ?? 0;
        a = { reset: false, append: [], retract: [], maxEntries: env.ctx.archiveMaxMessages ?? 0, minAt: maxAge > 0 ? env.ctx.now - maxAge : 0 };
        changes.set(room, a);
      }
      return a;
    };
    for (const effect of r.effects) {
      switch (effect.kind) {
        case 'command-result':
          commandResult = effect.result;
          break;
        case 'persist':
          dirty.add(room);
          break;
        case 'history-append':
          history().append.push(JSON.stringify(effect.entry));
          break;
        case 'archive-append':
          archive().append.push(effect.entry);
          break;
        case 'archive-query':
          (result.archiveQueries ??= []).push({ entry, lane, query: effect.query });
          break;
        case 'archive-retract':
          if (effect.retraction.pending) (result.archiveRetractions ??= []).push({ entry, lane, retraction: effect.retraction });
          else archive().retract.push({ id: effect.retraction.id, retracted: effect.retraction.retracted });
          break;
        case 'history-rewrite': {
          // XEP-0425: an entry left the history; the list is written again whole.
          const h = history();
          h.reset = true;
          h.append = (r.room?.history ?? []).map((e) => JSON.stringify(e));
          break;
        }
        case 'destroyed': {
          dirty.add(room);
          const h = history();
          h.reset = true;
          h.append = [];
          const a = archive();
          a.reset = true;
          a.append = [];
          a.retract = [];
          log.info({ room, reason: effect.reason }, 'room destroyed');
          break;
        }
        case 'log':
          log[effect.level]({ room, ...effect.data }, effect.msg);
          break;
      }
    }
    if (r.room) {
      this.rooms.set(room, r.room);
      if (!before) dirty.add(room); // a new room is always stored
    } else if (before) {
      // Gone without a `destroyed` effect: delete it all the same.
      this.rooms.delete(room);
      dirty.add(room);
      const h = history();
      h.reset = true;
      h.append = [];
      const a = archive();
      a.reset = true;
      a.append = [];
      a.retract = [];
    }
    for (const out of r.out) result.outputs.push({ entry, lane, out });
    return commandResult;
  }
}
