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
  /** Id of the last committed entry; `0-0` when the shard never committed. */
  cursor: string;
}

/**
 * Reads every room of a shard, their history lists and the cursor. Rooms are read with
 * `roomFromJson` (occupants and affiliations become Maps, so stored nicks and JIDs such as
 * `__proto__` stay ordinary keys); unreadable room JSON is logged and left out (and left
 * in Redis).
 */
export async function loadShard(redis: ScriptedRedis, keys: KeySpace, shard: number, log: Logger): Promise<LoadedShard> {
  const [raw, cursor] = await Promise.all([redis.hgetall(keys.shardRooms(shard)), redis.get(keys.shardCursor(shard))]);
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
  return { rooms, cursor: cursor ?? '0-0' };
}

/**
 * Commits a turn with `commit-shard-n.lua`: room writes and deletes, history changes, the
 * new cursor and the trim of the applied entries, all or nothing, and only while the lease
 * still holds `leaseValue`.
 *
 * @returns `ok`, or `fenced` when the lease is not ours any more (nothing was written)
 */
export async function commitTurn(redis: ScriptedRedis, keys: KeySpace, shard: number, leaseValue: string, turn: TurnResult): Promise<'ok' | 'fenced'> {
  const [numKeys, ...rest] = commitArgs(keys, shard, leaseValue, turn);
  return redis.commitShard(numKeys as number, ...rest);
}

/**
 * The arguments of `commit-shard-n.lua` for one shard's turn (the key count first), for
 * {@link commitTurn} or for queueing the commit on a pipeline behind the turn's deliveries.
 */
export function commitArgs(keys: KeySpace, shard: number, leaseValue: string, turn: TurnResult): (string | number)[] {
  const keyList = [keys.shardLease(shard), keys.shardCursor(shard), keys.shardRooms(shard), keys.shardStream(shard)];
  const args: (string | number)[] = [leaseValue, turn.cursor, nextStreamId(turn.cursor), turn.roomWrites.size];
  for (const [jid, room] of turn.roomWrites) args.push(jid, room ? JSON.stringify({ ...roomToJson(room), history: [] }) : '');
  for (const [jid, h] of turn.history) {
    keyList.push(keys.roomHistory(shard, jid));
    args.push(h.reset ? '1' : '0', h.keep, h.append.length, ...h.append);
  }
  return [keyList.length, ...keyList, ...args];
}

export { nextStreamId };
