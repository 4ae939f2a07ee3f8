/*
 * `xmppctl muc reshard --shards N` (issue #14 item 2): offline change of `muc.shards`.
 *
 * A room lives on the shard its bare JID hashes to (`shardForRoom`, FNV-1a modulo the shard
 * count). What is shard-scoped, and so moves, is per room: its state (a field of
 * `KeySpace.shardRooms`), its occupants (`roomOccupants`), its discussion history (`roomHistory`), its XEP-0313 archive
 * (`roomArchive`), the archive's id index (`roomArchiveIndex`) and its XEP-0425 tombstones
 * (`roomArchiveTombstones`). Affiliations are part of the room state. The room directory
 * (`roomDirectory`) is keyed by room JID only and stays. Per shard: the input stream, cursor,
 * lanes, fence, lease and hot-rooms keys of shards that no longer exist are removed.
 */
import type { Redis } from 'ioredis';
import { escapeGlob, escapeRegExp, shardForRoom, type KeySpace } from '@parley/bus';
import type { Config } from '@parley/config';
import { assertClusterStopped, RefusedError, scanKeys, shardKeyPattern } from './offline-check.js';

/** The keys of one room that live in its shard's slot (besides its field of the rooms hash). */
export const ROOM_SHARD_KEYS = ['occupants', 'history', 'archive', 'archive-ids', 'archive-tombstones'] as const;
type RoomShardKey = (typeof ROOM_SHARD_KEYS)[number];

function roomKey(keys: KeySpace, kind: RoomShardKey, shard: number, room: string): string {
  switch (kind) {
    case 'occupants':
      return keys.roomOccupants(shard, room);
    case 'history':
      return keys.roomHistory(shard, room);
    case 'archive':
      return keys.roomArchive(shard, room);
    case 'archive-ids':
      return keys.roomArchiveIndex(shard, room);
    case 'archive-tombstones':
      return keys.roomArchiveTombstones(shard, room);
  }
}

/** What {@link reshard} did. */
export interface ReshardResult {
  /** Rooms found. */
  rooms: number;
  /** Rooms moved to another shard. */
  moved: number;
  /** Keys deleted: leftovers of an interrupted run and the keys of shards that no longer exist. */
  removed: number;
}

/**
 * Refuses (RefusedError) when a shard stream holds entries after its cursor: inputs no room
 * has applied yet, which would be lost (they were routed with the old count).
 */
async function assertStreamsDrained(redis: Redis, keys: KeySpace): Promise<void> {
  const shardOf = new RegExp(`^${escapeRegExp(keys.prefix)}muc:\\{s:(\\d{1,5})\\}:in$`);
  for await (const batch of scanKeys(redis, shardKeyPattern(keys, 'in'))) {
    for (const key of batch) {
      const m = shardOf.exec(key);
      if (!m) continue;
      const shard = Number(m[1]);
      const cursor = (await redis.get(keys.shardCursor(shard))) ?? '0-0';
      const pending = await redis.xrange(key, `(${cursor}`, '+', 'COUNT', 1);
      if (pending.length) {
        throw new RefusedError(`shard ${shard}'s stream holds entries no room worker has applied yet: start the cluster again with its current muc.shards until the room workers catch up, stop it, then reshard`);
      }
    }
  }
}

/**
 * Moves one room from shard `from` to shard `to`, crash-safe: each shard-scoped key is
 * copied (DUMP / RESTORE REPLACE, so it works across hash slots), the room state is written
 * on the new shard, then removed from the old one (the commit point), then the old keys are
 * deleted. Interrupted before the commit point, the room is still on `from` with all its keys
 * and the next run copies again; after it, the old keys are leftovers that the sweep removes.
 */
async function moveRoom(redis: Redis, keys: KeySpace, room: string, state: string, from: number, to: number): Promise<void> {
  for (const kind of ROOM_SHARD_KEYS) {
    const oldKey = roomKey(keys, kind, from, room);
    const newKey = roomKey(keys, kind, to, room);
    const dump = await redis.dumpBuffer(oldKey);
    if (dump) await redis.restore(newKey, 0, dump, 'REPLACE');
    else await redis.del(newKey);
  }
  await redis.hset(keys.shardRooms(to), room, state);
  await redis.hdel(keys.shardRooms(from), room);
  for (const kind of ROOM_SHARD_KEYS) await redis.del(roomKey(keys, kind, from, room));
}

/**
 * Re-places every stored room for `shards` shards and stores the new count
 * (`KeySpace.mucShards`), which gateways and room workers check at start. Offline: refuses
 * with {@link RefusedError} while a gateway or room worker is alive or a shard stream holds
 * unapplied entries. Idempotent: while it runs, `KeySpace.mucReshard` marks the data set
 * (processes refuse to start); an interrupted run is finished by running it again (with any
 * count: a room's place depends only on its JID and the count).
 *
 * @param log - progress lines (stderr)
 */
export async function reshard(redis: Redis, keys: KeySpace, config: Config, shards: number, log: (line: string) => void): Promise<ReshardResult> {
  await assertClusterStopped(redis, keys, config, 'muc reshard');
  await assertStreamsDrained(redis, keys);
  const before = await redis.get(keys.mucShards());
  await redis.set(keys.mucReshard(), JSON.stringify({ to: shards, started: Date.now() }));
  const result: ReshardResult = { rooms: 0, moved: 0, removed: 0 };

  // 1. Every room on a shard other than its new one moves.
  const roomsOf = new RegExp(`^${escapeRegExp(keys.prefix)}muc:\\{s:(\\d{1,5})\\}:rooms$`);
  const seen = new Set<string>(); // SCAN/HSCAN may repeat; a moved room shows up again on its new shard
  for await (const batch of scanKeys(redis, shardKeyPattern(keys, 'rooms'))) {
    for (const key of batch) {
      const m = roomsOf.exec(key);
      if (!m) continue;
      const from = Number(m[1]);
      let cursor = '0';
      do {
        const [next, flat] = await redis.hscan(key, cursor, 'COUNT', 200);
        cursor = next;
        for (let i = 0; i < flat.length; i += 2) {
          const room = flat[i]!;
          const to = shardForRoom(room, shards);
          if (!seen.has(room)) {
            seen.add(room);
            result.rooms++;
          }
          if (to === from) continue;
          await moveRoom(redis, keys, room, flat[i + 1]!, from, to);
          result.moved++;
          if (result.moved % 1000 === 0) log(`moved ${result.moved} rooms`);
        }
      } while (cursor !== '0');
    }
  }

  // 2. Sweep: room keys on a shard that is not their room's (leftovers of an interrupted
  // move, whose room is already on its new shard), and the per-shard keys of shards >= N.
  const roomData = new RegExp(`^${escapeRegExp(keys.prefix)}muc:\\{s:(\\d{1,5})\\}:(occupants|history|archive|archive-ids|archive-tombstones):(.+)$`);
  const shardData = new RegExp(`^${escapeRegExp(keys.prefix)}muc:\\{s:(\\d{1,5})\\}:(in|cursor|lanes|fence|hot|delivery-hot|lease)$`);
  for await (const batch of scanKeys(redis, `${escapeGlob(keys.prefix)}muc:{s:*}:*`)) {
    const doomed: string[] = [];
    for (const key of batch) {
      const r = roomData.exec(key);
      if (r && shardForRoom(r[3]!, shards) !== Number(r[1])) doomed.push(key);
      const s = shardData.exec(key);
      if (s && Number(s[1]) >= shards) doomed.push(key);
    }
    // One DEL per key: the keys are in different shards' slots (a multi-key DEL is refused on Redis Cluster).
    if (doomed.length) result.removed += (await Promise.all(doomed.map((key) => redis.del(key)))).reduce((n, d) => n + d, 0);
  }

  await redis.set(keys.mucShards(), String(shards));
  await redis.del(keys.mucReshard());
  log(`rooms: ${result.rooms}, moved: ${result.moved}, keys removed: ${result.removed}; muc.shards ${before ?? '(not stored)'} -> ${shards}: start every process with muc.shards: ${shards}`);
  return result;
}
