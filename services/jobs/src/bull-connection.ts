import { createRequire } from 'node:module';
import type { ConnectionOptions, RedisOptions } from 'bullmq';
import type { RedisClusterConfig } from '@parley/config';
import type { RedisConnection } from '@parley/service-runtime';

/** The ioredis BullMQ itself depends on (a different major from ours), for its `Cluster`. */
interface BullIoredis {
  Cluster: new (nodes: Array<{ host: string; port: number }>, options: Record<string, unknown>) => { quit(): Promise<unknown>; disconnect(): void };
}
let bullIoredis: BullIoredis | undefined;

/**
 * A Redis Cluster client for BullMQ (`redis.cluster`, issue #14 item 2), built with BullMQ's own
 * ioredis (resolved from the bullmq package) so that BullMQ gets the client class it was
 * built for: BullMQ accepts only an instance for a cluster. BullMQ does not close a client it
 * was given: the caller quits it after closing the queue or worker. The queue's keys must share
 * one slot: see `bullPrefix` (job-keys.ts).
 * @param blocking - for a Worker: `maxRetriesPerRequest: null` on the nodes, which BullMQ
 *   requires for its blocking commands
 */
export function bullClusterConnection(c: RedisClusterConfig, blocking: boolean): ConnectionOptions & { quit(): Promise<unknown>; disconnect(): void } {
  bullIoredis ??= createRequire(createRequire(import.meta.url).resolve('bullmq'))('ioredis') as BullIoredis;
  const redisOptions: Record<string, unknown> = {};
  if (c.username !== undefined) redisOptions['username'] = c.username;
  if (c.password !== undefined) redisOptions['password'] = c.password;
  if (blocking) redisOptions['maxRetriesPerRequest'] = null;
  const cluster = new bullIoredis.Cluster(c.nodes.map(({ host, port }) => ({ host, port })), { redisOptions, scaleReads: 'master' });
  return cluster as unknown as ConnectionOptions & { quit(): Promise<unknown>; disconnect(): void };
}

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
