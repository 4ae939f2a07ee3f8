import type { RedisOptions } from 'bullmq';
import type { RedisConnection } from '@parley/service-runtime';

/**
 * BullMQ's connection options for a `redis://` or `rediss://` URL, or for Redis Sentinel
 * when `conn.sentinel` is set (BullMQ's ioredis then follows a failover as ours does, see
 * @parley/service-runtime `createRedis`). BullMQ bundles its own ioredis (a different major
 * version from ours), so it gets options, never our client.
 * @param conn - `config.redis` (or just its URL)
 * @param blocking - for a Worker: `maxRetriesPerRequest: null`, which BullMQ requires for
 *   the blocking commands it issues
 */
export function bullConnection(conn: string | RedisConnection, blocking: boolean): RedisOptions {
  if (typeof conn !== 'string' && conn.sentinel) {
    const s = conn.sentinel;
    const opts: RedisOptions = { sentinels: s.sentinels.map(({ host, port }) => ({ host, port })), name: s.masterName, role: 'master', db: s.db };
    if (s.username !== undefined) opts.username = s.username;
    if (s.password !== undefined) opts.password = s.password;
    if (s.sentinelUsername !== undefined) opts.sentinelUsername = s.sentinelUsername;
    if (s.sentinelPassword !== undefined) opts.sentinelPassword = s.sentinelPassword;
    if (blocking) opts.maxRetriesPerRequest = null;
    return opts;
  }
  const url = new URL(typeof conn === 'string' ? conn : conn.url);
  const opts: RedisOptions = {
    host: url.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1',
    port: url.port ? Number(url.port) : 6379,
  };
  const db = url.pathname.replace(/^\//, '');
  if (db) opts.db = Number(db);
  if (url.username) opts.username = decodeURIComponent(url.username);
  if (url.password) opts.password = decodeURIComponent(url.password);
  if (url.protocol === 'rediss:') opts.tls = {};
  if (blocking) opts.maxRetriesPerRequest = null;
  return opts;
}
