import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { checkMaxmemory, confQuoted, LAUNCHER_REDIS_USER, launchRedisServer, portFree, type RedisChild } from './redis-server.js';

const run = promisify(execFile);

/** Masters of the launcher's Redis Cluster (the least `redis-cli --cluster create` accepts). */
export const CLUSTER_MASTERS = 3;
/** Replicas per master. */
export const CLUSTER_REPLICAS = 1;
/** redis-server processes of the launcher's Redis Cluster (3 masters + 3 replicas). */
export const CLUSTER_NODES = CLUSTER_MASTERS * (1 + CLUSTER_REPLICAS);
/** Consecutive ports a cluster needs from its base port: the nodes' ports, then their cluster bus ports. */
export const CLUSTER_PORT_SPAN = 2 * CLUSTER_NODES;
/** Default base port (Redis's own tutorial uses 7000–7005 for a 6-node cluster). */
export const DEFAULT_CLUSTER_BASE_PORT = 7000;

/** Options of {@link startRedisCluster}. */
export interface LaunchedRedisClusterOptions {
  /**
   * Node `i` (0..5) listens on `basePort + i` and talks to the others on its cluster bus port
   * `basePort + 6 + i`; all 12 must be free. A cluster keeps these addresses in its
   * `nodes.conf` files, so a reused cluster must get the same base port.
   */
  basePort: number;
  /** Password of the ACL user on every node (the launcher keeps it in launcher.json). */
  password: string;
  /** `maxmemory` of each node (`noeviction`). */
  maxmemory: string;
  /** `cluster-node-timeout`, ms (default 5000): how long a master may be unreachable before its replica takes over. */
  nodeTimeoutMs?: number;
  /** Seconds to wait for `cluster_state:ok` on every node (default 30). */
  readyTimeoutS?: number;
}

/** A Redis Cluster started by {@link startRedisCluster}. */
export interface RedisClusterChild {
  /** Seed nodes (every node), `127.0.0.1`, in node order. */
  nodes: Array<{ host: string; port: number }>;
  /** The ACL user every node has ({@link LAUNCHER_REDIS_USER}). */
  username: string;
  password: string;
  /** True when the cluster was made by this start (`redis-cli --cluster create`), false when the nodes' `nodes.conf` held it already. */
  created: boolean;
  /** The node directories: `<dataDir>/node-<i>`. */
  nodeDirs: string[];
  /** Stops every node (SIGTERM through its wrapper; each saves its AOF and nodes.conf) and waits until all have exited. */
  stop(): Promise<void>;
}

/** `CLUSTER INFO` of the node on `port` as a field map, or undefined when it does not answer within a second. */
async function clusterInfo(port: number, password: string): Promise<Map<string, string> | undefined> {
  const c = new Redis({ host: '127.0.0.1', port, username: LAUNCHER_REDIS_USER, password, lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null, connectTimeout: 1000, commandTimeout: 1000 });
  c.on('error', () => undefined);
  try {
    await c.connect();
    const text = String(await c.call('CLUSTER', 'INFO'));
    const out = new Map<string, string>();
    for (const line of text.split('\r\n')) {
      const i = line.indexOf(':');
      if (i > 0) out.set(line.slice(0, i), line.slice(i + 1));
    }
    return out;
  } catch {
    return undefined;
  } finally {
    c.disconnect();
  }
}

/**
 * Starts (or restarts) the launcher's local Redis Cluster (issue #14 item 2): 3 masters and
 * 3 replicas, each a redis-server locked down as the single one is ({@link launchRedisServer}:
 * ACL user {@link LAUNCHER_REDIS_USER} with `opts.password`, `default` user off, maxmemory
 * noeviction, AOF persistence, private files), with its data and `nodes.conf` in
 * `<dataDir>/node-<i>`, `cluster-enabled yes`. Replicas log in to their master as the same
 * ACL user (`masteruser`/`masterauth`: the password is in clear in each node's redis.conf, a
 * 0600 file in a 0700 directory, as it already is in launcher.json).
 *
 * On a fresh directory every node knows only itself: the nodes are joined with
 * `redis-cli --cluster create … --cluster-replicas 1 --cluster-yes` (the password reaches
 * redis-cli through `REDISCLI_AUTH`, never its command line). When every node already knows
 * all six (their `nodes.conf` from a previous start), the cluster is reused as it is. Then
 * resolves once every node answers `cluster_state:ok` and knows all six.
 *
 * @throws Error (every node started is stopped first) when a port is taken, a node does not
 *   start, the nodes hold parts of different clusters (remove `dataDir` to make a new one),
 *   `redis-cli --cluster create` fails, or the cluster is not ok in time.
 */
export async function startRedisCluster(dataDir: string, opts: LaunchedRedisClusterOptions): Promise<RedisClusterChild> {
  checkMaxmemory(opts.maxmemory);
  const { basePort, password } = opts;
  if (!Number.isInteger(basePort) || basePort < 1 || basePort + CLUSTER_PORT_SPAN - 1 > 65535) {
    throw new Error(`Redis Cluster base port ${basePort}: the nodes need ${CLUSTER_PORT_SPAN} consecutive ports up to 65535`);
  }
  const ports = Array.from({ length: CLUSTER_NODES }, (_, i) => basePort + i);
  const busPorts = ports.map((p) => p + CLUSTER_NODES);
  const taken: number[] = [];
  for (const p of [...ports, ...busPorts]) if (!(await portFree(p))) taken.push(p);
  if (taken.length) {
    throw new Error(`Redis Cluster: port${taken.length > 1 ? 's' : ''} ${taken.join(', ')} on 127.0.0.1 in use (the nodes use ${basePort}-${basePort + CLUSTER_PORT_SPAN - 1}; --redis-cluster-port picks another base for a new data directory)`);
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  chmodSync(dataDir, 0o700);
  const nodeDirs = ports.map((_, i) => join(dataDir, `node-${i}`));
  const started: RedisChild[] = [];
  const stop = async () => {
    await Promise.all(started.map((n) => n.stop()));
  };
  try {
    const results = await Promise.allSettled(
      ports.map((port, i) =>
        launchRedisServer(nodeDirs[i]!, {
          port,
          password,
          maxmemory: opts.maxmemory,
          extraConf: [
            'cluster-enabled yes',
            'cluster-config-file nodes.conf',
            `cluster-port ${busPorts[i]}`,
            `cluster-node-timeout ${opts.nodeTimeoutMs ?? 5000}`,
            `masteruser ${LAUNCHER_REDIS_USER}`,
            `masterauth ${confQuoted(password)}`,
          ],
        }).then((n) => {
          started.push(n);
          return n;
        }),
      ),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;

    const known = await Promise.all(ports.map(async (p) => Number((await clusterInfo(p, password))?.get('cluster_known_nodes') ?? 0)));
    let created = false;
    if (known.every((k) => k === 1)) {
      const seeds = ports.map((p) => `127.0.0.1:${p}`);
      await run('redis-cli', ['--user', LAUNCHER_REDIS_USER, '--cluster', 'create', ...seeds, '--cluster-replicas', String(CLUSTER_REPLICAS), '--cluster-yes'], {
        timeout: 30_000,
        env: { ...process.env, REDISCLI_AUTH: password },
      }).catch((err: Error & { stdout?: string; stderr?: string }) => {
        throw new Error(`redis-cli --cluster create failed: ${(err.stderr || err.stdout || err.message).trim().slice(-2000)}`);
      });
      created = true;
    } else if (!known.every((k) => k === CLUSTER_NODES)) {
      throw new Error(`the Redis Cluster nodes in ${dataDir} are not one ${CLUSTER_NODES}-node cluster (nodes known by each: ${known.join(', ')}); remove that directory to make a new cluster`);
    }

    const deadline = Date.now() + (opts.readyTimeoutS ?? 30) * 1000;
    for (;;) {
      const infos = await Promise.all(ports.map((p) => clusterInfo(p, password)));
      if (infos.every((i) => i?.get('cluster_state') === 'ok' && i.get('cluster_known_nodes') === String(CLUSTER_NODES))) break;
      if (Date.now() > deadline) {
        throw new Error(`the Redis Cluster is not ok after ${opts.readyTimeoutS ?? 30} s: ${infos.map((i, n) => `${ports[n]} ${i?.get('cluster_state') ?? 'no answer'}`).join(', ')}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    return {
      nodes: ports.map((port) => ({ host: '127.0.0.1', port })),
      username: LAUNCHER_REDIS_USER,
      password,
      created,
      nodeDirs,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
