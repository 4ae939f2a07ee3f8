import { Cluster, Command, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import calculateSlot from 'cluster-key-slot';
import type { RedisClusterConfig, RedisSentinelConfig } from '@parley/config';

/**
 * Where a process's Redis is: `redis.url` (a single Redis), or `redis.sentinel` (Redis
 * Sentinel, issue #14 item 2), which wins when set. `Config['redis']` is one; worker threads
 * get the two fields in their `workerData` (both are structured-clonable).
 */
export interface RedisConnection {
  /** `redis://` or `rediss://` URL (`redis.url`); unused when `sentinel` is set. */
  url: string;
  /** `redis.sentinel`: ask these sentinels for the master. */
  sentinel?: RedisSentinelConfig | undefined;
  /** `redis.cluster`: a Redis Cluster's seed nodes (wins over `url`; excludes `sentinel`). */
  cluster?: RedisClusterConfig | undefined;
}

/**
 * ioredis options that reach the master through Redis Sentinel: ioredis asks the sentinels
 * in order (`SENTINEL get-master-addr-by-name`), checks the node's `ROLE` is master, and on
 * every reconnect (e.g. after the master died) asks again, so it follows a failover once the
 * sentinels have promoted a replica. Only the fields given are set.
 */
export function sentinelOptions(s: RedisSentinelConfig): RedisOptions {
  const opts: RedisOptions = {
    sentinels: s.sentinels.map(({ host, port }) => ({ host, port })),
    name: s.masterName,
    role: 'master',
    db: s.db,
  };
  if (s.username !== undefined) opts.username = s.username;
  if (s.password !== undefined) opts.password = s.password;
  if (s.sentinelUsername !== undefined) opts.sentinelUsername = s.sentinelUsername;
  if (s.sentinelPassword !== undefined) opts.sentinelPassword = s.sentinelPassword;
  return opts;
}

/**
 * The one way parley processes open a Redis connection: `new Redis(conn.url, extra)` for a
 * single Redis, a Sentinel-aware client ({@link sentinelOptions} plus `extra`) when
 * `conn.sentinel` is set, or an ioredis `Cluster` ({@link clusterClient}) when `conn.cluster`
 * is set. `extra` are the caller's ioredis options (`lazyConnect`, `maxRetriesPerRequest`,
 * `retryStrategy`, …); with Sentinel its `retryStrategy` paces the reconnects to the master,
 * and the sentinels are re-asked on each.
 *
 * The result is typed `Redis` for every mode: a `Cluster` shares every command method
 * (ioredis `Commander`), `defineCommand`, `pipeline`, `multi`, `duplicate`, `connect`,
 * `quit`, `disconnect`, `status` and the events, and {@link clusterClient} makes the three
 * whose meaning differs behave as on one Redis (see there). Code must not use what only a
 * single-node client has (`options`, `scanStream`, `monitor`, `select`); a keyspace `SCAN`
 * goes through {@link scanKeys}. docs/deploy.md "Redis Cluster" has the audit.
 * @param conn - usually `config.redis`
 */
export function createRedis(conn: RedisConnection, extra: RedisOptions = {}): Redis {
  if (conn.cluster) return clusterClient(conn.cluster, extra) as unknown as Redis;
  if (!conn.sentinel) return new Redis(conn.url, extra);
  return new Redis({ ...sentinelOptions(conn.sentinel), ...extra });
}

/** True when `redis` is an ioredis `Cluster` (from {@link createRedis} with `redis.cluster`). */
export function isCluster(redis: unknown): redis is Cluster {
  return redis instanceof Cluster;
}

/**
 * Every key matching `pattern` (a `SCAN MATCH` glob), `count` per `SCAN` call: on one Redis
 * one cursor walk; on a Cluster one walk per master (a `SCAN` only sees its node's keys).
 * A key may be yielded twice (SCAN's guarantee); keys created meanwhile may be missed.
 */
export async function* scanKeys(redis: Redis, pattern: string, count = 1000): AsyncGenerator<string[]> {
  const nodes: Redis[] = isCluster(redis) ? (redis as Cluster).nodes('master') : [redis];
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', count);
      cursor = next;
      if (keys.length) yield keys;
    } while (cursor !== '0');
  }
}

/** Options that belong to the `Cluster` itself rather than to its node connections. */
const CLUSTER_LEVEL = ['lazyConnect', 'enableOfflineQueue', 'enableAutoPipelining', 'retryStrategy'] as const;

/**
 * An ioredis `Cluster` on `c.nodes` with `c`'s credentials on every node and `extra`: its
 * `lazyConnect`, `enableOfflineQueue` and `enableAutoPipelining` apply to the cluster, its
 * `retryStrategy` becomes the `clusterRetryStrategy`, the rest goes to every node connection.
 * Three methods of the instance are replaced so that code written for one Redis works:
 * - `pipeline()`: ioredis refuses a cluster pipeline whose keys are on different nodes; ours
 *   records the commands and, at `exec()`, sends one ioredis pipeline per node serving them
 *   (in parallel; order kept within a node), replies in the original order. A pipeline was
 *   never atomic, so nothing is lost. (ioredis's auto-pipelining goes through it too.)
 * - `multi()`: a transaction whose keys are in one slot is a real MULTI/EXEC; one spanning
 *   slots becomes one MULTI/EXEC per slot, so it is atomic per slot only. Every such
 *   transaction is listed, with why that suffices, in docs/deploy.md "Redis Cluster".
 * - `duplicate(options)`: takes `RedisOptions` like a single client's and returns another
 *   client made the same way (the Cluster's own takes seed nodes first).
 */
export function clusterClient(c: RedisClusterConfig, extra: RedisOptions = {}): Cluster {
  const node: RedisOptions = { ...extra };
  const opts: ClusterOptions = { scaleReads: 'master', slotsRefreshTimeout: 2000 };
  for (const k of CLUSTER_LEVEL) delete node[k];
  if (c.username !== undefined) node.username = c.username;
  if (c.password !== undefined) node.password = c.password;
  if (extra.lazyConnect !== undefined) opts.lazyConnect = extra.lazyConnect;
  if (extra.enableOfflineQueue !== undefined) opts.enableOfflineQueue = extra.enableOfflineQueue;
  if (extra.enableAutoPipelining !== undefined) opts.enableAutoPipelining = extra.enableAutoPipelining;
  if (extra.retryStrategy) {
    const rs = extra.retryStrategy;
    opts.clusterRetryStrategy = (times: number) => rs(times) ?? null;
  }
  // A failover leaves the dead master's slots without a master for `cluster-node-timeout` plus
  // an election: commands to them fail with "Connection is closed." / CLUSTERDOWN, and ioredis
  // retries them every 100 ms up to `maxRedirections` times (16 by default: 1.6 s). A caller
  // that waits for Redis however long it takes on one Redis (`maxRetriesPerRequest: null`)
  // waits here too, up to ~10 minutes; the others keep ioredis's default.
  opts.retryDelayOnFailover = 100;
  opts.retryDelayOnClusterDown = 100;
  if (extra.maxRetriesPerRequest === null) opts.maxRedirections = 6000;
  opts.redisOptions = node;
  const cluster = new Cluster(c.nodes.map(({ host, port }) => ({ host, port })), opts);
  const realPipeline = cluster.pipeline.bind(cluster);
  const realMulti = cluster.multi.bind(cluster) as (...a: unknown[]) => ReturnType<Cluster['multi']>;
  Object.defineProperty(cluster, 'pipeline', { value: () => slotBatch(cluster, () => realPipeline(), true) });
  Object.defineProperty(cluster, 'multi', { value: () => slotBatch(cluster, () => realMulti(), false) });
  Object.defineProperty(cluster, 'duplicate', { value: (more: RedisOptions = {}) => clusterClient(c, { ...extra, ...more }) });
  return cluster;
}

type Batch = ReturnType<Cluster['pipeline']>;

/** The hash slot of a command's keys, or -1 for a keyless one (sent with the first slot's batch). */
function slotOf(cluster: Cluster, name: string, args: unknown[]): number {
  const script = (cluster as unknown as { scriptsSet: Record<string, { numberOfKeys: number | null } | undefined> }).scriptsSet[name];
  let keys: Array<string | Buffer>;
  if (script) {
    const n = script.numberOfKeys ?? Number(args[0]);
    keys = (script.numberOfKeys === null ? args.slice(1, 1 + n) : args.slice(0, n)) as Array<string | Buffer>;
  } else {
    keys = new Command(name, args.filter((a) => typeof a !== 'function') as never[]).getKeys();
  }
  if (!keys.length) return -1;
  return calculateSlot(keys[0] as string);
}

/**
 * A stand-in for a cluster pipeline or transaction: records every command called on it
 * (chainable), and at `exec()` replays them on one real batch (`make()`) per hash slot, or
 * with `perNode` per node serving the slots as ioredis knows them (a pipeline may span the
 * slots of one node; a transaction may not), resolving ioredis's `[error, reply][]` in call
 * order. See {@link clusterClient}.
 */
function slotBatch(cluster: Cluster, make: () => Batch, perNode: boolean): Batch {
  const queued: Array<{ name: string; args: unknown[] }> = [];
  const exec = async (): Promise<Array<[Error | null, unknown]>> => {
    const slots = queued.map(({ name, args }) => slotOf(cluster, name, args));
    const first = slots.find((s) => s >= 0) ?? -1;
    const groupOf = (slot: number): string | number => (perNode && slot >= 0 ? cluster.slots[slot]?.join(',') ?? slot : slot);
    const groups = new Map<string | number, number[]>();
    slots.forEach((s, i) => {
      const key = groupOf(s < 0 ? first : s);
      const g = groups.get(key);
      if (g) g.push(i);
      else groups.set(key, [i]);
    });
    const out: Array<[Error | null, unknown]> = new Array(queued.length);
    await Promise.all([...groups.values()].map(async (indexes) => {
      const b = make() as unknown as Record<string, (...a: unknown[]) => unknown> & { exec(): Promise<Array<[Error | null, unknown]> | null> };
      for (const i of indexes) b[queued[i]!.name]!(...queued[i]!.args);
      let replies: Array<[Error | null, unknown]> | null;
      try {
        replies = await b.exec();
      } catch (err) {
        replies = indexes.map(() => [err as Error, null]);
      }
      indexes.forEach((i, j) => (out[i] = replies?.[j] ?? [new Error('transaction aborted'), null]));
    }));
    return out;
  };
  // ioredis's auto-pipelining uses `pipeline()` too: it keeps its state under symbols on the
  // batch (kept on the target here) and passes a callback to `exec`.
  const execWithCallback = (cb?: (err: Error | null, replies?: Array<[Error | null, unknown]>) => void) => {
    const p = exec();
    if (cb) p.then((r) => cb(null, r), (err: Error) => cb(err));
    return p;
  };
  const proxy: Batch = new Proxy({} as Batch, {
    get(target, prop) {
      if (prop === 'exec') return execWithCallback;
      if (prop === 'then') return undefined;
      if (prop === 'length') return queued.length;
      if (typeof prop !== 'string') return (target as unknown as Record<symbol, unknown>)[prop];
      return (...args: unknown[]) => {
        queued.push({ name: prop, args });
        return proxy;
      };
    },
  });
  return proxy;
}
