import { execFile, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { Cluster, Redis } from 'ioredis';
import { terminate, trackDir, untrackDir } from './child-registry.js';
import { TestkitError } from './errors.js';
import { freePorts } from './free-port.js';
import { spawnRedisServer } from './start-redis.js';

const run = promisify(execFile);

/** Options of {@link startRedisCluster}. */
export interface StartRedisClusterOptions {
  /** Masters (default 3, at least 3 as `redis-cli --cluster create` requires). */
  masters?: number;
  /** Replicas per master (default 1). */
  replicasPerMaster?: number;
  /** `cluster-node-timeout`, ms (default 1000: a dead master is failed over within a few seconds). */
  nodeTimeoutMs?: number;
}

/** One redis-server of a {@link RedisClusterSet}. */
export interface RedisClusterNode {
  readonly port: number;
  /** The process id, or -1 once killed. */
  readonly pid: number;
  /** Sends `signal` (default SIGKILL) and waits until it has exited. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** A Redis Cluster started by {@link startRedisCluster}. */
export interface RedisClusterSet {
  /** The data nodes, in creation order (the first `masters` were created as masters). */
  readonly nodes: readonly RedisClusterNode[];
  /** `host:port` seed nodes (every node). */
  readonly seeds: readonly string[];
  /** The environment that points a parley process at this cluster (`PARLEY_REDIS_CLUSTER`). */
  readonly env: Readonly<Record<string, string>>;
  /** The ports of the nodes that are masters now, as the first live node answers (`CLUSTER NODES`). */
  masters(): Promise<number[]>;
  /** The port of the master serving `key`'s slot now. */
  masterOf(key: string): Promise<number>;
  /** A plain client on one node (not cluster-aware); disconnected by {@link RedisClusterSet.stop}. */
  nodeClient(port: number): Redis;
  /** A cluster client; disconnected by {@link RedisClusterSet.stop}. */
  client(): Cluster;
  /**
   * Polls (every 100 ms) until every node alive answers `cluster_state:ok`.
   * @throws TestkitError `REDIS_START_FAILED` after `timeoutMs`
   */
  waitOk(timeoutMs: number): Promise<void>;
  /** Stops every node and removes their directories. */
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 30_000;

/**
 * Starts a Redis Cluster on free loopback ports: `masters × (1 + replicasPerMaster)`
 * `redis-server` processes (Debian's, `cluster-enabled yes`, persistence off, each in its
 * own temporary directory, cluster bus ports picked free too), joined with `redis-cli
 * --cluster create … --cluster-replicas N --cluster-yes`. Resolves once every node answers
 * `cluster_state:ok` and knows every other node.
 *
 * @throws TestkitError `REDIS_NOT_INSTALLED`, or `REDIS_START_FAILED` when a node does not
 *   start or the cluster is not ok within 30 s (everything stopped first).
 */
export async function startRedisCluster(opts: StartRedisClusterOptions = {}): Promise<RedisClusterSet> {
  const masters = opts.masters ?? 3;
  const replicas = opts.replicasPerMaster ?? 1;
  if (masters < 3) throw new TestkitError('REDIS_START_FAILED', 'a Redis Cluster needs at least 3 masters');
  const count = masters * (1 + replicas);
  const dir = await mkdtemp(join(tmpdir(), 'parley-cluster-'));
  trackDir(dir);
  const children: Array<ChildProcess | undefined> = [];
  const clients = new Set<Redis | Cluster>();
  const base = await freePorts(count);
  const busBase = await freePorts(count);
  const ports = Array.from({ length: count }, (_, i) => base + i);
  const stop = async () => {
    for (const c of clients) c.disconnect();
    clients.clear();
    await Promise.all(children.map((c) => (c ? terminate(c, 'SIGTERM', 5000) : undefined)));
    await rm(dir, { recursive: true, force: true });
    untrackDir(dir);
  };
  const nodeClient = (port: number): Redis => {
    const c = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 1, lazyConnect: false });
    c.on('error', () => {});
    clients.add(c);
    return c;
  };
  const ask = async (port: number, ...cmd: [string, ...string[]]): Promise<string | undefined> => {
    const c = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null, connectTimeout: 1000 });
    c.on('error', () => {});
    try {
      await c.connect();
      return String(await c.call(...cmd));
    } catch {
      return undefined;
    } finally {
      c.disconnect();
    }
  };
  const waitOk = async (timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      const live = ports.filter((_, i) => children[i] !== undefined);
      const infos = await Promise.all(live.map((p) => ask(p, 'CLUSTER', 'INFO')));
      if (infos.every((i) => i?.includes('cluster_state:ok') && i.includes(`cluster_known_nodes:${count}`))) return;
      last = infos.map((i) => /cluster_state:\w+/.exec(i ?? '')?.[0] ?? 'no answer').join(', ');
      await sleep(100);
    }
    throw new TestkitError('REDIS_START_FAILED', `redis cluster not ok within ${timeoutMs} ms: ${last}`);
  };
  try {
    for (let i = 0; i < count; i++) children.push(await spawnNode(dir, ports[i]!, busBase + i, opts.nodeTimeoutMs ?? 1000));
    const seeds = ports.map((p) => `127.0.0.1:${p}`);
    await run('redis-cli', ['--cluster', 'create', ...seeds, '--cluster-replicas', String(replicas), '--cluster-yes'], { timeout: READY_TIMEOUT_MS });
    await waitOk(READY_TIMEOUT_MS);
  } catch (err) {
    await stop();
    if (err instanceof TestkitError) throw err;
    throw new TestkitError('REDIS_START_FAILED', `redis cluster: ${(err as Error).message}`);
  }
  const mastersNow = async (): Promise<Array<{ port: number; slots: Array<[number, number]> }>> => {
    for (let i = 0; i < count; i++) {
      if (!children[i]) continue;
      const nodes = await ask(ports[i]!, 'CLUSTER', 'NODES');
      if (!nodes) continue;
      const out: Array<{ port: number; slots: Array<[number, number]> }> = [];
      for (const line of nodes.split('\n')) {
        const f = line.trim().split(' ');
        if (f.length < 8 || !f[2]!.includes('master') || f[2]!.includes('fail')) continue;
        const port = Number(/:(\d+)@/.exec(f[1]!)?.[1]);
        const slots = f.slice(8).filter((s) => !s.startsWith('[')).map((s) => {
          const [a, b] = s.split('-');
          return [Number(a), Number(b ?? a)] as [number, number];
        });
        out.push({ port, slots });
      }
      return out;
    }
    throw new TestkitError('REDIS_START_FAILED', 'no cluster node answers');
  };
  const seeds = ports.map((p) => `127.0.0.1:${p}`);
  return {
    nodes: ports.map((port, i) => ({
      port,
      get pid() {
        return children[i]?.pid ?? -1;
      },
      async kill(signal: NodeJS.Signals = 'SIGKILL') {
        const c = children[i];
        if (!c) return;
        children[i] = undefined;
        await terminate(c, signal, 5000);
      },
    })),
    seeds,
    env: { PARLEY_REDIS_CLUSTER: seeds.join(',') },
    async masters() {
      return (await mastersNow()).filter((m) => m.slots.length > 0).map((m) => m.port);
    },
    async masterOf(key: string) {
      const live = ports.find((_, i) => children[i] !== undefined)!;
      const slot = Number(await ask(live, 'CLUSTER', 'KEYSLOT', key));
      const m = (await mastersNow()).find((x) => x.slots.some(([a, b]) => slot >= a && slot <= b));
      if (!m) throw new TestkitError('REDIS_START_FAILED', `no master serves slot ${slot}`);
      return m.port;
    },
    nodeClient,
    client() {
      const c = new Cluster(seeds.map((s) => ({ host: '127.0.0.1', port: Number(s.split(':')[1]) })), { redisOptions: { maxRetriesPerRequest: 1 } });
      c.on('error', () => {});
      clients.add(c);
      return c;
    },
    waitOk,
    stop,
  };
}

async function spawnNode(root: string, port: number, busPort: number, nodeTimeoutMs: number): Promise<ChildProcess> {
  const dir = join(root, String(port));
  await mkdir(dir);
  const args = [
    '--port', String(port), '--bind', '127.0.0.1', '--dir', dir,
    '--cluster-enabled', 'yes', '--cluster-config-file', join(dir, 'nodes.conf'), '--cluster-port', String(busPort),
    '--cluster-node-timeout', String(nodeTimeoutMs), '--save', '', '--appendonly', 'no',
  ];
  const started = await spawnRedisServer(args, dir, port);
  if (started.ok) return started.child;
  throw new TestkitError('REDIS_START_FAILED', `cluster node on port ${port}: ${started.output}`);
}
