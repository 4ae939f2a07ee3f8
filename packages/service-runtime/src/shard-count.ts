import type { Redis } from 'ioredis';
import { createRedis, scanKeys, type RedisConnection } from './redis-connection.js';

/**
 * Where a data set keeps its room shards, as the start check needs it (built by
 * `shardLayout` of @parley/bus from the key space and `muc.shards`).
 */
export interface ShardLayout {
  /** `muc.shards` of this process's configuration. */
  readonly shards: number;
  /** Key of the stored shard count (`KeySpace.mucShards`). */
  readonly countKey: string;
  /** Key of the marker of a reshard in progress (`KeySpace.mucReshard`). */
  readonly reshardKey: string;
  /** SCAN MATCH pattern of every shard's rooms hash (`KeySpace.shardRooms` of any shard). */
  readonly roomsPattern: string;
  /** The shard number named by a rooms hash key, undefined when `key` is not one. */
  shardOfRoomsKey(key: string): number | undefined;
  /** The shard a room belongs on with {@link shards} shards (`shardForRoom`). */
  placement(roomJid: string): number;
}

/** The stored rooms do not fit this process's `muc.shards`: thrown by {@link ensureShardCount}. */
export class ShardCountError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ShardCountError';
  }
}

/**
 * Checks at start that `muc.shards` matches the shard count the stored rooms are placed for
 * (issue #14 item 2): a room's state, history and archive live under the shard its JID hashes
 * to, so a process with another count would not find them. On a data set without a stored
 * count (created before the count was stored) every stored room's placement is checked
 * first (HSCAN, once); then the count is written (`SET NX`) and compared.
 *
 * @param conn - `config.redis` (or its URL)
 * @returns the stored count (equal to `layout.shards`)
 * @throws ShardCountError when a reshard is in progress or was interrupted, when the stored
 *   count differs from `layout.shards`, or when a stored room is not on its shard for it
 */
export async function ensureShardCount(conn: string | RedisConnection, layout: ShardLayout): Promise<number> {
  const redis = createRedis(typeof conn === 'string' ? { url: conn } : conn, { maxRetriesPerRequest: null, retryStrategy: () => 500, lazyConnect: true });
  redis.on('error', () => undefined); // retried until Redis answers
  try {
    await redis.connect().catch(() => undefined);
    const marker = await redis.get(layout.reshardKey);
    if (marker !== null) {
      const to = /"to":(\d{1,4})/.exec(marker)?.[1] ?? '?';
      throw new ShardCountError(`a reshard of the rooms to ${to} shards is in progress or was interrupted; run \`xmppctl muc reshard --shards ${to}\` (cluster stopped) to finish it`);
    }
    let stored = await redis.get(layout.countKey);
    if (stored === null) {
      const misplaced = await findMisplacedRoom(redis, layout);
      if (misplaced) {
        throw new ShardCountError(`muc.shards is ${layout.shards} but room ${misplaced.room} is stored on shard ${misplaced.shard}, placed for another shard count; set muc.shards to the count the rooms were created with, or stop the cluster and run \`xmppctl muc reshard --shards ${layout.shards}\``);
      }
      await redis.set(layout.countKey, String(layout.shards), 'NX');
      stored = (await redis.get(layout.countKey)) ?? String(layout.shards);
    }
    if (stored !== String(layout.shards)) {
      throw new ShardCountError(`muc.shards is ${layout.shards} but the rooms in Redis are placed for ${stored.slice(0, 16)} shards; set muc.shards: ${stored.slice(0, 16)}, or stop the cluster and run \`xmppctl muc reshard --shards ${layout.shards}\``);
    }
    return layout.shards;
  } finally {
    redis.disconnect();
  }
}

/** The first stored room that is not on its shard under `layout.shards`, if any. */
async function findMisplacedRoom(redis: Redis, layout: ShardLayout): Promise<{ room: string; shard: number } | undefined> {
  // Every master of a Redis Cluster is walked (scanKeys).
  for await (const keys of scanKeys(redis, layout.roomsPattern, 1000)) {
    for (const key of keys) {
      const shard = layout.shardOfRoomsKey(key);
      if (shard === undefined) continue;
      let hcursor = '0';
      do {
        const [hnext, flat] = await redis.hscan(key, hcursor, 'COUNT', 500);
        hcursor = hnext;
        for (let i = 0; i < flat.length; i += 2) {
          if (layout.placement(flat[i]!) !== shard) return { room: flat[i]!, shard };
        }
      } while (hcursor !== '0');
    }
  }
  return undefined;
}

/**
 * {@link ensureShardCount} for a process entry point: on a {@link ShardCountError} it prints
 * one line `parley <service>: <message>` to stderr and exits 78 (EX_CONFIG); other errors are thrown.
 */
export async function checkShardCountOrExit(service: string, conn: string | RedisConnection, layout: ShardLayout): Promise<void> {
  try {
    await ensureShardCount(conn, layout);
  } catch (err) {
    if (!(err instanceof ShardCountError)) throw err;
    process.stderr.write(`parley ${service}: ${err.message}\n`);
    process.exit(78);
  }
}
