import { randomBytes } from 'node:crypto';
import { keySpace, type KeySpace } from '@parley/bus';
import { TestkitError } from './errors.js';
import { startAdminApi, type AdminApiProcess } from './start-admin-api.js';
import { startGateway, type GatewayProcess } from './start-gateway.js';
import { startRedis, type RedisServer, type StartRedisOptions } from './start-redis.js';
import { startRoomWorker, type RoomWorkerProcess } from './start-room-worker.js';

/** Options of {@link startMucCluster}. */
export interface StartMucClusterOptions {
  /** Names the key prefix (`it:<name>:<random>:`), so that logs and keys show which test it is. */
  name: string;
  /** Number of gateways (default 2). */
  gateways?: number;
  /** Number of room workers (default 2). */
  workers?: number;
  /** `PARLEY_MUC_SHARDS` (default 8). */
  shards?: number;
  /** Start an admin API process too (default false). */
  adminApi?: boolean;
  /** More environment variables (`PARLEY_*`) for every process, applied last. */
  env?: Record<string, string>;
  /** How long to wait for every shard to have an owner, ms (default 30 000). */
  shardsOwnedTimeoutMs?: number;
  /** Options of the private redis-server (e.g. `{ acl: true }`: every process logs in as an ACL user). */
  redis?: StartRedisOptions;
}

/** A private redis-server with gateways, room workers and optionally an admin API on it. */
export interface MucCluster {
  readonly redis: RedisServer;
  readonly gateways: GatewayProcess[];
  readonly workers: RoomWorkerProcess[];
  readonly adminApi: AdminApiProcess | undefined;
  readonly keyPrefix: string;
  readonly keys: KeySpace;
  readonly shards: number;
  /** Stops the admin API, gateways and workers (SIGTERM), then Redis. */
  stop(): Promise<void>;
}

/**
 * Starts redis, the gateways, the room workers (and the admin API) in parallel, with open test
 * authentication and PLAIN without TLS (`PARLEY_AUTH_BACKEND=open-insecure-test-only`,
 * `PARLEY_ALLOW_PLAIN_WITHOUT_TLS=true`; override through `env`), and resolves once every one
 * of the `shards` shard leases is held, so that a room answers from the first stanza.
 *
 * @throws TestkitError from the start functions; `SHARDS_NOT_OWNED` when a shard has no owner
 *   in time. Whatever was started is stopped before the error is thrown.
 */
export async function startMucCluster(opts: StartMucClusterOptions): Promise<MucCluster> {
  const shards = opts.shards ?? 8;
  const keyPrefix = `it:${opts.name}:${randomBytes(3).toString('hex')}:`;
  const keys = keySpace(keyPrefix);
  const redis = await startRedis(opts.redis);
  const env = { PARLEY_AUTH_BACKEND: 'open-insecure-test-only', PARLEY_ALLOW_PLAIN_WITHOUT_TLS: 'true', PARLEY_MUC_SHARDS: String(shards), ...opts.env };
  const o = { redisUrl: redis.url, keyPrefix, env };
  const started = await Promise.allSettled([
    ...Array.from({ length: opts.gateways ?? 2 }, () => startGateway(o)),
    ...Array.from({ length: opts.workers ?? 2 }, () => startRoomWorker(o)),
    ...(opts.adminApi ? [startAdminApi(o)] : []),
  ]);
  const processes = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const stop = async () => {
    await Promise.all(processes.map((p) => p.stop()));
    await redis.stop();
  };
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    await stop();
    throw failed.reason;
  }
  const gateways = processes.slice(0, opts.gateways ?? 2) as GatewayProcess[];
  const workers = processes.slice(gateways.length, gateways.length + (opts.workers ?? 2)) as RoomWorkerProcess[];
  const adminApi = opts.adminApi ? (processes[processes.length - 1] as AdminApiProcess) : undefined;
  const db = redis.client();
  try {
    const leases = Array.from({ length: shards }, (_, s) => keys.shardLease(s));
    const deadline = Date.now() + (opts.shardsOwnedTimeoutMs ?? 30_000);
    while ((await db.exists(...leases)) < shards) {
      if (Date.now() > deadline) throw new TestkitError('SHARDS_NOT_OWNED', `${shards} shards, some without an owner after ${opts.shardsOwnedTimeoutMs ?? 30_000} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } catch (err) {
    await stop();
    throw err;
  } finally {
    db.disconnect();
  }
  return { redis, gateways, workers, adminApi, keyPrefix, keys, shards, stop };
}
