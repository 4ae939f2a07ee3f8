// The gateway's heartbeat, in a worker thread with its own Redis connection: a main thread
// busy with stanzas (a flood, a long GC) cannot starve it, and its writes never wait behind
// auto-pipelined stanza traffic. See liveness.ts for the protocol.
import { parentPort, workerData } from 'node:worker_threads';
import type { RedisClusterConfig, RedisSentinelConfig } from '@parley/config';
import { keySpace } from '@parley/bus';
import { createRedis, livenessRedisOptions } from '@parley/service-runtime';
import { defineScripts } from '../routing/scripts.js';

/** What the main thread passes to the worker (`workerData`). */
export interface HeartbeatWorkerData {
  redisUrl: string;
  /** `redis.sentinel`; wins over `redisUrl` when set. */
  redisSentinel?: RedisSentinelConfig | undefined;
  /** `redis.cluster`; wins over `redisUrl` when set. */
  redisCluster?: RedisClusterConfig | undefined;
  keyPrefix: string;
  gatewayId: string;
  /** The registration token (see lua/heartbeat-3.lua). */
  token: string;
  heartbeatMs: number;
  deadAfterMs: number;
  /** No heartbeat while the main thread has not answered for this long, ms (it hangs: let it be reaped). */
  stallMs: number;
}

/** Messages from the main thread. */
export type ToHeartbeat = { kind: 'alive' } | { kind: 'token'; token: string } | { kind: 'stop' };

/** Messages to the main thread. `at` is the Redis server time, ms. */
export type FromHeartbeat =
  | { kind: 'beat'; at: number }
  | { kind: 'reaped' }
  | { kind: 'recovered' }
  | { kind: 'stalled'; silentMs: number }
  | { kind: 'error'; message: string };

const port = parentPort;
if (!port) throw new Error('heartbeat-worker must run as a worker thread');
const d = workerData as HeartbeatWorkerData;
const keys = keySpace(d.keyPrefix);
let token = d.token;
let lastAlive = Date.now();
let wasDown = false;
let running = true;
let ticking = false;
let reapedReported = false;
const post = (m: FromHeartbeat) => port.postMessage(m);

// Fail fast while disconnected: a heartbeat that cannot be written now is worthless later.
const redis = defineScripts(createRedis({ url: d.redisUrl, sentinel: d.redisSentinel, cluster: d.redisCluster }, livenessRedisOptions(d.heartbeatMs)));
redis.on('error', () => undefined); // reported through the failing heartbeat
redis.on('close', () => { wasDown = true; });
redis.on('ready', () => {
  if (!wasDown) return;
  wasDown = false;
  post({ kind: 'recovered' });
});

async function beat(): Promise<void> {
  if (ticking || !running) return;
  ticking = true;
  try {
    const silentMs = Date.now() - lastAlive;
    if (silentMs > d.stallMs) {
      post({ kind: 'stalled', silentMs });
      return;
    }
    if (redis.status !== 'ready') return;
    const [status, at] = await redis.heartbeat(
      keys.gateways(), keys.gatewayToken(d.gatewayId), keys.livenessState(), d.gatewayId, token, 3 * d.heartbeatMs, d.deadAfterMs,
    );
    if (status === 1) {
      reapedReported = false;
      post({ kind: 'beat', at });
    } else if (!reapedReported) {
      reapedReported = true;
      post({ kind: 'reaped' });
    }
  } catch (err) {
    post({ kind: 'error', message: String((err as Error).message) });
  } finally {
    ticking = false;
  }
}

const timer = setInterval(() => void beat(), d.heartbeatMs);
port.on('message', (m: ToHeartbeat) => {
  if (m.kind === 'alive') lastAlive = Date.now();
  else if (m.kind === 'token') {
    token = m.token;
    reapedReported = false;
    void beat();
  } else {
    running = false;
    clearInterval(timer);
    redis.disconnect();
    port.close();
  }
});
