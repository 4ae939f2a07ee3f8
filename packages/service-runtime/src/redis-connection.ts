import { Redis, type RedisOptions } from 'ioredis';
import type { RedisSentinelConfig } from '@parley/config';

/**
 * Where a process's Redis is: `redis.url` (a single Redis), or `redis.sentinel` (Redis
 * Sentinel, issue #14 item 2), which wins when set. `Config['redis']` is one; worker threads
 * get the two fields in their `workerData` (both are structured-clonable).
 */
export interface RedisConnection {
  /** `redis://` or `rediss://` URL (`redis.url`); unused when `sentinel` is set. */
  url: string;
  /** `redis.sentinel`: ask these sentinels for the master. */
  sentinel?: RedisSentinelConfig | undefined;
}

/**
 * ioredis options that reach the master through Redis Sentinel: ioredis asks the sentinels
 * in order (`SENTINEL get-master-addr-by-name`), checks the node's `ROLE` is master, and on
 * every reconnect (e.g. after the master died) asks again, so it follows a failover once the
 * sentinels have promoted a replica. Only the fields given are set.
 */
export function sentinelOptions(s: RedisSentinelConfig): RedisOptions {
  const opts: RedisOptions = {
    sentinels: s.sentinels.map(({ host, port }) => ({ host, port })),
    name: s.masterName,
    role: 'master',
    db: s.db,
  };
  if (s.username !== undefined) opts.username = s.username;
  if (s.password !== undefined) opts.password = s.password;
  if (s.sentinelUsername !== undefined) opts.sentinelUsername = s.sentinelUsername;
  if (s.sentinelPassword !== undefined) opts.sentinelPassword = s.sentinelPassword;
  return opts;
}

/**
 * The one way parley processes open a Redis connection: `new Redis(conn.url, extra)` for a
 * single Redis, or a Sentinel-aware client ({@link sentinelOptions} plus `extra`) when
 * `conn.sentinel` is set. `extra` are the caller's ioredis options (`lazyConnect`,
 * `maxRetriesPerRequest`, `retryStrategy`, …); with Sentinel its `retryStrategy` paces the
 * reconnects to the master, and the sentinels are re-asked on each.
 * @param conn - usually `config.redis`
 */
export function createRedis(conn: RedisConnection, extra: RedisOptions = {}): Redis {
  if (!conn.sentinel) return new Redis(conn.url, extra);
  return new Redis({ ...sentinelOptions(conn.sentinel), ...extra });
}
