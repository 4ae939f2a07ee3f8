/*
 * Shared by the offline xmppctl commands (`muc reshard`, `restore`): is the cluster stopped?
 */
import type { Redis } from 'ioredis';
import { escapeGlob, redisTimeMs, type KeySpace } from '@parley/bus';
import type { Config } from '@parley/config';
import { scanKeys as scanAllKeys } from '@parley/service-runtime';

/** An offline command refuses to run (exit 1); the message says why and what to do. */
export class RefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RefusedError';
  }
}

/**
 * Every key matching `pattern` (a SCAN MATCH glob), one batch at a time, with `SCAN ... COUNT`
 * so the server is never blocked; on a Redis Cluster every master is walked
 * (@parley/service-runtime `scanKeys`). SCAN may return a key twice (while Redis rehashes):
 * callers must tolerate that.
 */
export const scanKeys: (redis: Redis, pattern: string, count?: number) => AsyncGenerator<string[]> = scanAllKeys;

/** SCAN MATCH pattern of one kind of per-shard key of every shard, e.g. `lease`. */
export function shardKeyPattern(keys: KeySpace, kind: string): string {
  return `${escapeGlob(keys.prefix)}muc:{s:*}:${escapeGlob(kind)}`;
}

/**
 * Refuses (throws {@link RefusedError}) while any part of the cluster is alive: a gateway
 * whose heartbeat (`KeySpace.gateways`, Redis clock) is younger than `gateway.deadAfterMs`,
 * a room worker whose heartbeat (`KeySpace.roomWorkers`) is younger than
 * `roomWorker.leaseTtlMs`, or any shard lease (`KeySpace.shardLease`, expiring) still held.
 * Members older than that are processes that died without deregistering: they are ignored.
 * @param what - the command, for the message (e.g. `muc reshard`)
 */
export async function assertClusterStopped(redis: Redis, keys: KeySpace, config: Config, what: string): Promise<void> {
  const now = redisTimeMs(await redis.time());
  const liveGateways = await redis.zrangebyscore(keys.gateways(), `(${now - config.gateway.deadAfterMs}`, '+inf');
  const liveWorkers = await redis.zrangebyscore(keys.roomWorkers(), `(${now - config.roomWorker.leaseTtlMs}`, '+inf');
  const leases: string[] = [];
  for await (const batch of scanKeys(redis, shardKeyPattern(keys, 'lease'))) leases.push(...batch);
  const alive = [
    ...liveGateways.slice(0, 5).map((id) => `gateway ${id}`),
    ...liveWorkers.slice(0, 5).map((id) => `room worker ${id}`),
    ...(leases.length ? [`${leases.length} shard lease(s) held`] : []),
  ];
  if (alive.length) {
    throw new RefusedError(`${what} needs the cluster stopped, but it is alive (${alive.join(', ')}): stop every gateway and room worker first (shard leases expire roomWorker.leaseTtlMs after their worker stops)`);
  }
}
