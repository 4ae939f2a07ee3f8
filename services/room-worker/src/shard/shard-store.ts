/*
 * A shard's committed state in Redis (all keys in the shard's hash slot): the rooms hash
 * (room JSON without history and occupants), one occupants hash per room (shown nick →
 * `[seq, occupant JSON]`, @parley/bus stored-room.ts), one history list per room, and the
 * cursor. A commit writes a room's JSON only when something besides its occupants changed,
 * and only the occupants that changed (issue #15 item 2: a join into a room of N occupants
 * writes one occupant, not N). Rooms stored before the occupants hash (occupants inline in
 * the room JSON) load as they are and are rewritten in the new layout by the next commits.
 */
import type { Logger } from 'pino';
import { encodeStoredOccupant, nextStreamId, occupantsInHash, OCCUPANTS_IN_HASH, orderStoredOccupants, type KeySpace, type StoredOccupant } from '@parley/bus';
import { roomFromJson, roomToJson, type HistoryEntry, type RoomState } from '@parley/muc';
import type { ScriptedRedis } from '../redis-scripts.js';
import type { TurnResult } from './shard-actor.js';

/** A shard as loaded: its rooms (history reattached) and its cursor. */
export interface LoadedShard {
  rooms: Map<string, RoomState>;
  /** Every entry up to this id is committed; `0-0` when the shard never committed. */
  cursor: string;
  /** Lane → last committed entry of that lane after the cursor (`KeySpace.shardLanes`). */
  laneMarks: Map<number, string>;
  /** Number of commits so far (0 for a shard committed only by workers before lanes). */
  commits: number;
  /** What is stored of each room in the current layout, for the next commits' diffs. */
  committed: Map<string, CommittedRoom>;
  /** Rooms stored in the old layout (occupants inline): each is migrated by a later commit. */
  legacy: Set<string>;
}

/**
 * One stored occupant as the worker last committed or loaded it: its join-order number and
 * a copy of it ({@link copyPlain}: shares no object with the room, whose occupants the room
 * core changes in place), compared with the live occupant at the next commit.
 */
export interface CommittedOccupant {
  seq: number;
  snap: unknown;
  /** The {@link CommittedRoom.epoch} of the last diff that met this occupant. */
  mark: number;
}

/**
 * What Redis holds of one room, as the worker last committed or loaded it: the text of its
 * field of the rooms hash and, by shown nick, each occupant's join-order number and a copy.
 * Kept per room by the shard actor so that a commit can write only what differs; the copies
 * share their strings with the live occupants (about 200 bytes of objects per occupant).
 */
export interface CommittedRoom {
  /** The room JSON as stored (without occupants and history). */
  base: string;
  /** Shown nick (a Map: nicks come from users) → the stored occupant. */
  occupants: Map<string, CommittedOccupant>;
  /** Next join-order number (greater than every stored one). */
  next: number;
  /** Number of diffs made so far (marks the occupants each diff met). */
  epoch: number;
}

/**
 * What a commit writes for one room that still exists: its room JSON when it changed, and
 * the occupants to set and delete in its occupants hash.
 */
export interface RoomWrite {
  /** The room JSON to store, or undefined when the stored one is unchanged. */
  base: string | undefined;
  /** Delete the occupants hash before writing (a room stored whole: new, or migrated). */
  reset: boolean;
  /** Hash fields to set: shown nick → `[seq, occupant JSON]`. */
  set: [nick: string, value: string][];
  /** Shown nicks to delete from the hash. */
  del: string[];
}

const NO_OCCUPANTS: RoomState['occupants'] = new Map();

/**
 * The room JSON stored in the rooms hash: the room without history and occupants, marked
 * `occupantsInHash` (the occupants are in `KeySpace.roomOccupants`).
 */
export function roomBaseJson(room: RoomState): string {
  return JSON.stringify({ ...roomToJson({ ...room, occupants: NO_OCCUPANTS, history: [] }), [OCCUPANTS_IN_HASH]: true });
}

/**
 * A deep copy of JSON-like data (objects, arrays, primitives). Strings are shared
 * (immutable). Objects are ordinary ones (fast property access, unlike prototype-less
 * objects in V8), so a `__proto__` key is defined as an own property, never assigned.
 */
export function copyPlain(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map(copyPlain);
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(value)) {
    const v = copyPlain((value as Record<string, unknown>)[k]);
    if (k === '__proto__') Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
    else out[k] = v;
  }
  return out;
}

/**
 * Whether `live` would serialise like `snap` (a {@link copyPlain} copy): the same own keys
 * with equal values, arrays of equal items. False when in doubt (NaN, a key order change
 * counts as equal: JSON readers do not care), never true for data that differs.
 */
export function samePlain(live: unknown, snap: unknown): boolean {
  if (live === snap) return true;
  if (typeof live !== 'object' || typeof snap !== 'object' || live === null || snap === null) return false;
  if (Array.isArray(live)) {
    if (!Array.isArray(snap) || live.length !== snap.length) return false;
    for (let i = 0; i < live.length; i++) if (!samePlain(live[i], snap[i])) return false;
    return true;
  }
  if (Array.isArray(snap)) return false;
  // for-in, not Object.keys: no allocation per object (own keys only are counted).
  let n = 0;
  for (const k in live) {
    if (!Object.hasOwn(live, k)) continue;
    n++;
    if (!Object.hasOwn(snap, k) || !samePlain((live as Record<string, unknown>)[k], (snap as Record<string, unknown>)[k])) return false;
  }
  for (const k in snap) if (Object.hasOwn(snap, k)) n--;
  return n === 0;
}

/**
 * What to write for `room` given what is stored of it (`stored`, updated in place and
 * returned as `committed`; undefined: nothing in this layout, so everything is written).
 * An occupant is written when it differs from its stored copy ({@link samePlain}), with
 * one `JSON.stringify`; each keeps its join-order number while the order of the occupants'
 * Map allows it, else gets a new one (a nick change moves the occupant last). O(occupants)
 * CPU for the comparison (no serialisation of unchanged occupants), O(changes) bytes written.
 */
export function diffRoom(room: RoomState, stored: CommittedRoom | undefined): { write: RoomWrite; committed: CommittedRoom } {
  const base = roomBaseJson(room);
  const image: CommittedRoom = stored ?? { base: '', occupants: new Map(), next: 0, epoch: 0 };
  const epoch = ++image.epoch;
  const set: [string, string][] = [];
  let last = -1;
  for (const o of room.occupants.values()) {
    const before = image.occupants.get(o.nick);
    if (before !== undefined && before.mark !== epoch && before.seq > last) {
      before.mark = epoch;
      last = before.seq;
      if (!samePlain(o, before.snap)) {
        set.push([o.nick, encodeStoredOccupant(before.seq, JSON.stringify(o))]);
        before.snap = copyPlain(o);
      }
    } else {
      const seq = image.next++;
      set.push([o.nick, encodeStoredOccupant(seq, JSON.stringify(o))]);
      image.occupants.set(o.nick, { seq, snap: copyPlain(o), mark: epoch });
      last = seq;
    }
  }
  const del: string[] = [];
  if (image.occupants.size !== room.occupants.size) {
    for (const [nick, c] of image.occupants) {
      if (c.mark === epoch) continue;
      del.push(nick);
      image.occupants.delete(nick);
    }
  }
  const write: RoomWrite = { base: image.base === base ? undefined : base, reset: stored === undefined, set, del };
  image.base = base;
  return { write, committed: image };
}

/**
 * A room in the current layout from its parsed room JSON and the values of its occupants
 * hash: occupants in join order; values that are not occupants (no string `nick`, no
 * `sessions` list) are left out and counted in `bad`.
 * @throws RoomJsonError when the room JSON is not a room
 */
function roomFromStored(value: unknown, values: readonly string[]): { room: RoomState; occupants: StoredOccupant[]; bad: number } {
  const ordered = orderStoredOccupants(values);
  const occupants = ordered.occupants.filter((o) => {
    const rec = o.occupant as Record<string, unknown>;
    return typeof rec.nick === 'string' && Array.isArray(rec.sessions);
  });
  // Array-index keys in ascending order: roomFromJson meets the occupants in join order.
  const inline = Object.create(null) as Record<string, unknown>;
  occupants.forEach((o, i) => (inline[String(i)] = o.occupant));
  const { [OCCUPANTS_IN_HASH]: _marker, ...rest } = value as Record<string, unknown>;
  return { room: roomFromJson({ ...rest, occupants: inline }), occupants, bad: ordered.bad + ordered.occupants.length - occupants.length };
}

/**
 * Reads every room of a shard, their occupants hashes, history lists and the cursor. Rooms
 * are read with `roomFromJson` (occupants and affiliations become Maps, so stored nicks
 * and JIDs such as `__proto__` stay ordinary keys); unreadable room JSON is logged and left
 * out (and left in Redis); an unreadable occupant value is logged and left out (the next
 * commit of the room deletes it). Rooms in the old layout (occupants inline) are listed in
 * `legacy`; the others' stored form is returned in `committed`.
 */
export async function loadShard(redis: ScriptedRedis, keys: KeySpace, shard: number, log: Logger): Promise<LoadedShard> {
  const [raw, cursor, progress] = await Promise.all([redis.hgetall(keys.shardRooms(shard)), redis.get(keys.shardCursor(shard)), redis.hgetall(keys.shardLanes(shard))]);
  const laneMarks = new Map<number, string>();
  let commits = 0;
  for (const [field, value] of Object.entries(progress)) {
    if (field === 'n') commits = Number(value) || 0;
    else if (/^\d{1,4}$/.test(field) && /^\d+-\d+$/.test(value)) laneMarks.set(Number(field), value);
  }
  const rooms = new Map<string, RoomState>();
  const parsed = new Map<string, unknown>();
  for (const [jid, json] of Object.entries(raw)) {
    try {
      parsed.set(jid, JSON.parse(json));
    } catch (err) {
      log.error({ room: jid, err: (err as Error).message }, 'stored room state is not a room; room not loaded');
    }
  }
  const committed = new Map<string, CommittedRoom>();
  const legacy = new Set<string>();
  const split = [...parsed].filter(([, v]) => occupantsInHash(v)).map(([jid]) => jid);
  const hashes = new Map<string, string[]>();
  if (split.length) {
    // HVALS, not HGETALL: nicks never become object keys (the nick is inside each value).
    const pipeline = redis.pipeline();
    for (const jid of split) pipeline.hvals(keys.roomOccupants(shard, jid));
    const replies = (await pipeline.exec()) ?? [];
    split.forEach((jid, i) => {
      const [err, values] = replies[i] ?? [new Error('no reply'), []];
      if (err) throw err;
      hashes.set(jid, values as string[]);
    });
  }
  for (const [jid, value] of parsed) {
    try {
      const values = hashes.get(jid);
      if (values === undefined) {
        rooms.set(jid, roomFromJson(value));
        legacy.add(jid);
        continue;
      }
      const { room, occupants, bad } = roomFromStored(value, values);
      if (bad) log.error({ room: jid, bad }, 'stored occupants that are not occupants left out');
      rooms.set(jid, room);
      const stored = new Map<string, CommittedOccupant>();
      for (const o of occupants) stored.set((o.occupant as { nick: string }).nick, { seq: o.seq, snap: copyPlain(o.occupant), mark: 0 });
      committed.set(jid, { base: raw[jid]!, occupants: stored, next: occupants.length ? occupants[occupants.length - 1]!.seq + 1 : 0, epoch: 0 });
    } catch (err) {
      log.error({ room: jid, err: (err as Error).message }, 'stored room state is not a room; room not loaded');
    }
  }
  if (rooms.size) {
    const pipeline = redis.pipeline();
    for (const jid of rooms.keys()) pipeline.lrange(keys.roomHistory(shard, jid), 0, -1);
    const replies = (await pipeline.exec()) ?? [];
    [...rooms.values()].forEach((room, i) => {
      const [err, list] = replies[i] ?? [new Error('no reply'), []];
      if (err) throw err;
      room.history = (list as string[]).flatMap((e) => {
        try {
          return [JSON.parse(e) as HistoryEntry];
        } catch {
          return [];
        }
      });
    });
  }
  return { rooms, cursor: cursor ?? '0-0', laneMarks, commits, committed, legacy };
}

/**
 * One stored room as the worker would load it (history included), or undefined when the
 * shard does not hold it; for tools and tests.
 * @throws RoomJsonError (of `@parley/muc`) or SyntaxError when the stored JSON is not a room
 */
export async function readStoredRoom(redis: ScriptedRedis, keys: KeySpace, shard: number, jid: string): Promise<RoomState | undefined> {
  const [json, values, history] = await Promise.all([redis.hget(keys.shardRooms(shard), jid), redis.hvals(keys.roomOccupants(shard, jid)), redis.lrange(keys.roomHistory(shard, jid), 0, -1)]);
  if (json === null) return undefined;
  const value: unknown = JSON.parse(json);
  const { room } = occupantsInHash(value) ? roomFromStored(value, values) : { room: roomFromJson(value) };
  room.history = history.map((e) => JSON.parse(e) as HistoryEntry);
  return room;
}

/**
 * Commits a turn with `commit-shard-n.lua`: room writes and deletes, history changes, the
 * new cursor, the lane marks and commit count, and the trim of the applied entries (those
 * up to the cursor), all or nothing, and only while the lease still holds `leaseValue`.
 *
 * @returns `ok`, `fenced` when the lease is not ours any more, or `gap` when an earlier commit
 *          of the shard is missing (nothing was written in either case)
 */
export async function commitTurn(redis: ScriptedRedis, keys: KeySpace, shard: number, leaseValue: string, turn: TurnResult): Promise<'ok' | 'fenced' | 'gap'> {
  const [numKeys, ...rest] = commitArgs(keys, shard, leaseValue, turn);
  return redis.commitShard(numKeys as number, ...rest);
}

/**
 * The arguments of `commit-shard-n.lua` for one shard's turn (the key count first), for
 * {@link commitTurn} or for queueing the commit on a pipeline behind the turn's deliveries.
 */
export function commitArgs(keys: KeySpace, shard: number, leaseValue: string, turn: TurnResult): (string | number)[] {
  const keyList = [keys.shardLease(shard), keys.shardCursor(shard), keys.shardRooms(shard), keys.shardStream(shard), keys.shardLanes(shard)];
  const lanes: (string | number)[] = [turn.commit ?? '', turn.laneMarks?.size ?? 0];
  for (const [lane, mark] of turn.laneMarks ?? []) lanes.push(lane, mark);
  lanes.push(turn.laneDrops?.length ?? 0, ...(turn.laneDrops ?? []));
  const args: (string | number)[] = [leaseValue, turn.cursor, nextStreamId(turn.cursor), ...lanes, turn.roomWrites.size];
  // One occupants hash per room written or deleted; a room without a diff (a caller that
  // gives only the state) is written whole.
  for (const [jid, room] of turn.roomWrites) {
    keyList.push(keys.roomOccupants(shard, jid));
    if (!room) {
      args.push(jid, 'd', '', '1', 0, 0);
      continue;
    }
    const w = turn.roomDiffs?.get(jid) ?? diffRoom(room, undefined).write;
    args.push(jid, 'w', w.base ?? '', w.reset ? '1' : '0', w.set.length);
    for (const [nick, value] of w.set) args.push(nick, value);
    args.push(w.del.length, ...w.del);
  }
  args.push(turn.history.size);
  for (const [jid, h] of turn.history) {
    keyList.push(keys.roomHistory(shard, jid));
    args.push(h.reset ? '1' : '0', h.keep, h.append.length, ...h.append);
  }
  // XEP-0313 archives (archive-store.ts): a stream, its id index and its XEP-0425
  // tombstones per room.
  for (const [jid, a] of turn.archive ?? []) {
    keyList.push(keys.roomArchive(shard, jid), keys.roomArchiveIndex(shard, jid), keys.roomArchiveTombstones(shard, jid));
    args.push(a.reset ? '1' : '0', a.maxEntries, a.minAt, a.append.length);
    for (const e of a.append) args.push(e.id, e.at, JSON.stringify(e));
    args.push(a.retract.length);
    for (const r of a.retract) args.push(r.id, r.retracted);
  }
  return [keyList.length, ...keyList, ...args];
}

export { nextStreamId };
