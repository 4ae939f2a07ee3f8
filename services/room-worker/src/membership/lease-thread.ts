// The room worker's lease renewals and membership heartbeat, in a worker thread with its own
// Redis connection: a main thread busy with a long turn (joins to a big room, a long GC) or
// waiting behind a big delivery pipeline on its own connection cannot let its shard leases
// lapse. See LeaseKeeper (lease-keeper.ts) for the protocol.
import { parentPort, workerData } from 'node:worker_threads';
import type { RedisClusterConfig, RedisSentinelConfig } from '@parley/config';
import { keySpace } from '@parley/bus';
import { createRedis, livenessRedisOptions } from '@parley/service-runtime';
import { defineScripts, type ScriptedPipeline } from '../redis-scripts.js';

/** What the main thread passes to the thread (`workerData`). */
export interface LeaseThreadData {
  redisUrl: string;
  /** `redis.sentinel`; wins over `redisUrl` when set. */
  redisSentinel?: RedisSentinelConfig | undefined;
  /** `redis.cluster`; wins over `redisUrl` when set. */
  redisCluster?: RedisClusterConfig | undefined;
  keyPrefix: string;
  workerId: string;
  /** Lease TTL, ms (`roomWorker.leaseTtlMs`). */
  ttlMs: number;
  /** Renewal period, ms (`roomWorker.heartbeatMs`). */
  heartbeatMs: number;
  /** No renewal while the main thread has not answered for this long, ms (it hangs: let the leases lapse). */
  stallMs: number;
}

/** A lease as granted: shard number and value `<worker id> <token>`. */
export type Grant = [shard: number, value: string];

/** Messages from the main thread. */
export type ToLeaseThread =
  | { kind: 'alive' }
  | { kind: 'hold'; grant: Grant }
  | { kind: 'drop'; grant: Grant }
  | { kind: 'stop' };

/**
 * Messages to the main thread. `sentAt` is the local time (ms since epoch; threads share the
 * process clock) at which the renewals were sent: a renewed lease lasts until `sentAt + ttlMs`.
 */
export type FromLeaseThread =
  | { kind: 'renewed'; sentAt: number; grants: Grant[] }
  | { kind: 'refused'; grants: Grant[] }
  | { kind: 'stalled'; silentMs: number }
  | { kind: 'error'; message: string };

const port = parentPort;
if (!port) throw new Error('lease-thread must run as a worker thread');
const d = workerData as LeaseThreadData;
const keys = keySpace(d.keyPrefix);
/** Shard → lease value held. */
const held = new Map<number, string>();
let lastAlive = Date.now();
let running = true;
let ticking = false;
const post = (m: FromLeaseThread) => port.postMessage(m);

// Fail fast while disconnected: a renewal that cannot be sent now is worthless later (the
// main thread's own deadline, `expiresAt`, then makes it stop using the shard).
const redis = defineScripts(createRedis({ url: d.redisUrl, sentinel: d.redisSentinel, cluster: d.redisCluster }, livenessRedisOptions(d.heartbeatMs)));
redis.on('error', () => undefined); // reported through the failing renewal

async function renew(): Promise<void> {
  if (ticking || !running) return;
  ticking = true;
  try {
    const silentMs = Date.now() - lastAlive;
    if (silentMs > d.stallMs) {
      post({ kind: 'stalled', silentMs });
      return;
    }
    if (redis.status !== 'ready') return;
    const grants: Grant[] = [...held];
    const sentAt = Date.now();
    const pipeline = redis.pipeline() as ScriptedPipeline;
    pipeline.zadd(keys.roomWorkers(), sentAt, d.workerId);
    for (const [shard, value] of grants) pipeline.renewLease(keys.shardLease(shard), value, d.ttlMs);
    const replies = (await pipeline.exec()) ?? [];
    const renewed: Grant[] = [];
    const refused: Grant[] = [];
    grants.forEach((grant, i) => {
      const [err, ok] = replies[i + 1] ?? [new Error('no reply'), 0];
      if (err) return; // unknown: it lapses on the main thread's clock unless a later renewal works
      // A grant dropped meanwhile is not reported: the main thread let it go.
      if (held.get(grant[0]) !== grant[1]) return;
      if (ok === 1) renewed.push(grant);
      else {
        refused.push(grant);
        held.delete(grant[0]);
      }
    });
    post({ kind: 'renewed', sentAt, grants: renewed });
    if (refused.length) post({ kind: 'refused', grants: refused });
  } catch (err) {
    post({ kind: 'error', message: String((err as Error).message) });
  } finally {
    ticking = false;
  }
}

const timer = setInterval(() => void renew(), d.heartbeatMs);
port.on('message', (m: ToLeaseThread) => {
  switch (m.kind) {
    case 'alive':
      lastAlive = Date.now();
      return;
    case 'hold':
      held.set(m.grant[0], m.grant[1]);
      return;
    case 'drop':
      if (held.get(m.grant[0]) === m.grant[1]) held.delete(m.grant[0]);
      return;
    case 'stop':
      running = false;
      clearInterval(timer);
      redis.disconnect();
      port.close();
      return;
  }
});
