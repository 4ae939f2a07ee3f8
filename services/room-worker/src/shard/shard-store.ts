/*
 * A shard's committed state in Redis (all keys in the shard's hash slot): the rooms hash
 * (room JSON without history), one history list per room, and the cursor.
 */
import type { Logger } from 'pino';
import { nextStreamId, type KeySpace } from '@parley/bus';
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
}

/**
 * Reads every room of a shard, their history lists and the cursor. Rooms are read with
 * `roomFromJson` (occupants and affiliations become Maps, so stored nicks and JIDs such as
 * `__proto__` stay ordinary keys); unreadable room JSON is logged and left out (and left
 * in Redis).
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
  for (const [jid, json] of Object.entries(raw)) {
    try {
      rooms.set(jid, roomFromJson(JSON.parse(json)));
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
  return { rooms, cursor: cursor ?? '0-0', laneMarks, commits };
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
  for (const [jid, room] of turn.roomWrites) args.push(jid, room ? JSON.stringify({ ...roomToJson(room), history: [] }) : '');
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
