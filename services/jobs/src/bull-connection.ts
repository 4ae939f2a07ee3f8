import type { RedisOptions } from 'bullmq';

/**
 * BullMQ's connection options for a `redis://` or `rediss://` URL. BullMQ bundles its own
 * ioredis (a different major version from ours), so it gets options, never our client.
 * @param blocking - for a Worker: `maxRetriesPerRequest: null`, which BullMQ requires for
 *   the blocking commands it issues
 */
export function bullConnection(redisUrl: string, blocking: boolean): RedisOptions {
  const url = new URL(redisUrl);
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
