import type { Registry } from 'prom-client';
import type { Config } from '@parley/config';
import { keySpace } from '@parley/bus';
import { createRedis, startHealthServer, type HealthServer, type Readiness } from '@parley/service-runtime';

/**
 * The gateway's health listener (`gateway.healthPort`, off at -1), issue #14 item 4.
 * `/readyz` is 200 when, by its own small Redis connection (so a probe never waits behind
 * stanza traffic): Redis answers, the gateway is in the `gateways` sorted set with its
 * registration token in place (it has not been reaped), its last heartbeat is younger than
 * `gateway.deadAfterMs` by the Redis clock, and the process is serving (started, not
 * stopping). Checks: `redis`, `registration`, `heartbeat`, `process`; each `ok` or a fixed
 * word. `/healthz` is 200 while the process runs. `/metrics`: the gateway's own metrics
 * (`registry`) when `metrics.healthListenerEnabled`.
 * @returns undefined when `gateway.healthPort` is -1
 */
export async function startGatewayHealth(config: Config, gatewayId: string, serving: () => boolean, registry?: Registry): Promise<{ server: HealthServer; close(): Promise<void> } | undefined> {
  if (config.gateway.healthPort < 0) return undefined;
  const keys = keySpace(config.redis.keyPrefix);
  const redis = createRedis(config.redis, { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2000, retryStrategy: () => 500 });
  redis.on('error', () => undefined); // reported as `redis: unreachable`
  const readiness = async (): Promise<Readiness> => {
    const checks: Record<string, string> = { process: serving() ? 'ok' : 'not serving', redis: 'ok', registration: 'ok', heartbeat: 'ok' };
    try {
      if (redis.status !== 'ready') throw new Error('not connected');
      const replies = (await redis.pipeline().time().zscore(keys.gateways(), gatewayId).exists(keys.gatewayToken(gatewayId)).exec()) ?? [];
      const [time, score, token] = replies.map(([err, v]) => {
        if (err) throw err;
        return v;
      }) as [[string, string], string | null, number];
      const now = Number(time[0]) * 1000 + Math.floor(Number(time[1]) / 1000);
      if (score === null || token !== 1) checks.registration = 'not registered';
      if (score === null || now - Number(score) >= config.gateway.deadAfterMs) checks.heartbeat = 'stale';
    } catch {
      checks.redis = 'unreachable';
      checks.registration = 'unknown';
      checks.heartbeat = 'unknown';
    }
    return { ready: Object.values(checks).every((v) => v === 'ok'), checks };
  };
  try {
    const server = await startHealthServer({ port: config.gateway.healthPort, host: config.gateway.bindHost, readiness, ...(config.metrics.healthListenerEnabled && registry ? { metrics: registry } : {}) });
    return { server, close: async () => { await server.close(); redis.disconnect(); } };
  } catch (err) {
    redis.disconnect();
    throw err;
  }
}
