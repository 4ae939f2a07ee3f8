import type { Redis } from 'ioredis';
import type { KeySpace } from '@parley/bus';

/** One gateway process, from its heartbeat and info hash. */
export interface GatewayState {
  id: string;
  /** Last heartbeat, ms since epoch. */
  lastSeen: number;
  /** Sessions bound on it. */
  sessions: number;
  info: Record<string, string>;
}

/** One room worker process. */
export interface WorkerState {
  id: string;
  lastSeen: number;
  shards: number[];
  info: Record<string, string>;
}

/** One shard of the MUC service. */
export interface ShardState {
  shard: number;
  /** Lease holder (worker id) and fencing token; undefined when nobody holds it. */
  owner?: string;
  token?: number;
  /** Entries in the shard stream (applied entries are trimmed by each commit, so this is the backlog). */
  streamLength: number;
  /** Id of the last committed entry. */
  cursor: string;
}

/** What the cluster looks like from Redis. */
export interface ClusterState {
  gateways: GatewayState[];
  workers: WorkerState[];
  shards: ShardState[];
  redis: { version: string; usedMemoryBytes: number; connectedClients: number; rttMs: number };
}

/**
 * Reads the cluster's membership (gateways and room workers with their heartbeats), the
 * shard map (lease holders, backlog, cursors) and Redis' own status, in a few round trips.
 * @param shards - configuration `muc.shards`
 */
export async function readClusterState(redis: Redis, keys: KeySpace, shards: number): Promise<ClusterState> {
  const started = process.hrtime.bigint();
  await redis.ping();
  const rttMs = Number(process.hrtime.bigint() - started) / 1e6;

  const [gws, workers] = await Promise.all([
    redis.zrange(keys.gateways(), '0', '-1', 'WITHSCORES'),
    redis.zrange(keys.roomWorkers(), '0', '-1', 'WITHSCORES'),
  ]);
  const pairs = (flat: string[]) => Array.from({ length: flat.length / 2 }, (_, i) => [flat[2 * i]!, Number(flat[2 * i + 1])] as const);

  const p = redis.pipeline();
  for (const [id] of pairs(gws)) p.scard(keys.gatewaySessions(id)).hgetall(keys.gatewayInfo(id));
  for (const [id] of pairs(workers)) p.hgetall(keys.roomWorkerInfo(id));
  for (let s = 0; s < shards; s++) p.get(keys.shardLease(s)).xlen(keys.shardStream(s)).get(keys.shardCursor(s));
  p.info('server').info('memory').info('clients');
  const r = ((await p.exec()) ?? []).map(([err, v]) => (err ? undefined : v));
  let k = 0;
  const next = () => r[k++];

  const gateways: GatewayState[] = pairs(gws).map(([id, lastSeen]) => ({
    id,
    lastSeen,
    sessions: Number(next() ?? 0),
    info: (next() ?? {}) as Record<string, string>,
  }));
  const workerStates: WorkerState[] = pairs(workers).map(([id, lastSeen]) => ({ id, lastSeen, shards: [], info: (next() ?? {}) as Record<string, string> }));
  const byWorker = new Map(workerStates.map((w) => [w.id, w]));
  const shardStates: ShardState[] = [];
  for (let shard = 0; shard < shards; shard++) {
    const lease = next() as string | null | undefined;
    const streamLength = Number(next() ?? 0);
    const cursor = (next() as string | null | undefined) ?? '0-0';
    const state: ShardState = { shard, streamLength, cursor };
    if (lease) {
      const [owner, token] = lease.split(' ');
      state.owner = owner!;
      state.token = Number(token);
      byWorker.get(owner!)?.shards.push(shard);
    }
    shardStates.push(state);
  }
  const info = [next(), next(), next()].map((v) => String(v ?? '')).join('\n');
  const field = (name: string) => /^(.+)$/m.exec(info.split('\n').find((l) => l.startsWith(`${name}:`))?.slice(name.length + 1) ?? '')?.[1]?.trim() ?? '';
  return {
    gateways,
    workers: workerStates,
    shards: shardStates,
    redis: {
      version: field('redis_version'),
      usedMemoryBytes: Number(field('used_memory')) || 0,
      connectedClients: Number(field('connected_clients')) || 0,
      rttMs: Math.round(rttMs * 1000) / 1000,
    },
  };
}
