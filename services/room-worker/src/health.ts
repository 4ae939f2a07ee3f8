import type { Registry } from 'prom-client';
import type { Config } from '@parley/config';
import { keySpace } from '@parley/bus';
import { createRedis, startHealthServer, type HealthServer, type Readiness } from '@parley/service-runtime';

/**
 * The room worker's health listener (`roomWorker.healthPort`, off at -1, on
 * `roomWorker.healthBindHost`), issue #14 item 4. `/readyz` is 200 when, by its own small
 * Redis connection: Redis answers, the worker is in the `room-workers` membership with a
 * heartbeat younger than `roomWorker.leaseTtlMs` (the lease thread writes it with the
 * worker's clock, which is the clock compared here), and the process is serving (started, not
 * stopping). It also shows `shards`: how many shard leases the worker holds now (0 is ready:
 * with more workers than shards some hold none). `/healthz` is 200 while the process runs.
 * `/metrics`: the worker's own metrics (`registry`) when `metrics.healthListenerEnabled`.
 * @returns undefined when `roomWorker.healthPort` is -1
 */
export async function startWorkerHealth(config: Config, workerId: string, serving: () => boolean, shards: () => number, registry?: Registry): Promise<{ server: HealthServer; close(): Promise<void> } | undefined> {
  if (config.roomWorker.healthPort < 0) return undefined;
  const keys = keySpace(config.redis.keyPrefix);
  const redis = createRedis(config.redis, { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2000, retryStrategy: () => 500 });
  redis.on('error', () => undefined); // reported as `redis: unreachable`
  const readiness = async (): Promise<Readiness> => {
    const checks: Record<string, string> = { process: serving() ? 'ok' : 'not serving', redis: 'ok', membership: 'ok' };
    try {
      if (redis.status !== 'ready') throw new Error('not connected');
      const score = await redis.zscore(keys.roomWorkers(), workerId);
      if (score === null) checks.membership = 'not registered';
      else if (Date.now() - Number(score) >= config.roomWorker.leaseTtlMs) checks.membership = 'stale';
    } catch {
      checks.redis = 'unreachable';
      checks.membership = 'unknown';
    }
    return { ready: Object.values(checks).every((v) => v === 'ok'), checks, info: { shards: shards() } };
  };
  try {
    const server = await startHealthServer({ port: config.roomWorker.healthPort, host: config.roomWorker.healthBindHost, readiness, ...(config.metrics.healthListenerEnabled && registry ? { metrics: registry } : {}) });
    return { server, close: async () => { await server.close(); redis.disconnect(); } };
  } catch (err) {
    redis.disconnect();
    throw err;
  }
}
