import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { exitOf, terminate, trackChild, trackDir, untrackDir } from './child-registry.js';
import { TestkitError } from './errors.js';
import { freePort } from './free-port.js';
import { startRedis, type RedisServer } from './start-redis.js';

/** Options of {@link startRedisSentinel}. */
export interface StartRedisSentinelOptions {
  /** Replicas of the master (default 1). */
  replicas?: number;
  /** Sentinel processes (default 3). */
  sentinels?: number;
  /** Sentinels that must agree the master is down (default: a majority). */
  quorum?: number;
  /** `sentinel down-after-milliseconds` (default 1000). */
  downAfterMs?: number;
  /** `sentinel failover-timeout`, ms (default 5000). */
  failoverTimeoutMs?: number;
  /** The monitored master's name (default `mymaster`). */
  masterName?: string;
}

/** A Redis master with replicas, watched by sentinels, started by {@link startRedisSentinel}. */
export interface RedisSentinelSet {
  readonly masterName: string;
  /** The data nodes; `nodes[0]` is the first master, the others its replicas. */
  readonly nodes: readonly RedisServer[];
  /** The sentinels' ports on 127.0.0.1. */
  readonly sentinelPorts: readonly number[];
  /** The environment that points a parley process at these sentinels (`PARLEY_REDIS_SENTINELS`, `PARLEY_REDIS_SENTINEL_MASTER`). */
  readonly env: Readonly<Record<string, string>>;
  /** The master's port as the first sentinel that answers names it. */
  masterPort(): Promise<number>;
  /**
   * Polls the sentinels every 50 ms until one names a master other than `oldPort`.
   * @returns the new master's port
   * @throws Error after `timeoutMs`
   */
  waitForNewMaster(oldPort: number, timeoutMs: number): Promise<number>;
  /** A Sentinel-aware client on the current master; disconnected by {@link RedisSentinelSet.stop}. */
  client(): Redis;
  /** Stops the sentinels, then the data nodes, and removes their directories. */
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 20_000;

/**
 * Starts a Redis Sentinel set-up on free loopback ports: a master and `replicas` replicas
 * (Debian's `redis-server`, persistence off, see {@link startRedis}) and `sentinels`
 * `redis-server --sentinel` processes monitoring the master, each in a temporary directory.
 * Resolves once every sentinel sees every replica and every other sentinel (so a failover
 * can be authorised from the start).
 *
 * @throws TestkitError `REDIS_NOT_INSTALLED`, or `REDIS_START_FAILED` when a process does not
 *   start or the sentinels do not discover each other within 20 s (all stopped first).
 */
export async function startRedisSentinel(opts: StartRedisSentinelOptions = {}): Promise<RedisSentinelSet> {
  const masterName = opts.masterName ?? 'mymaster';
  const count = opts.sentinels ?? 3;
  const quorum = opts.quorum ?? Math.floor(count / 2) + 1;
  const nodes: RedisServer[] = [];
  const sentinels: ChildProcess[] = [];
  const ports: number[] = [];
  const clients = new Set<Redis>();
  const dir = await mkdtemp(join(tmpdir(), 'parley-sentinel-'));
  trackDir(dir);
  const stop = async () => {
    for (const c of clients) c.disconnect();
    clients.clear();
    await Promise.all(sentinels.map((s) => terminate(s, 'SIGTERM', 5000)));
    await Promise.all(nodes.map((n) => n.stop()));
    await rm(dir, { recursive: true, force: true });
    untrackDir(dir);
  };
  try {
    const master = await startRedis();
    nodes.push(master);
    for (let i = 0; i < (opts.replicas ?? 1); i++) nodes.push(await startRedis({ replicaOf: master.port }));
    for (let i = 0; i < count; i++) {
      const { child, port } = await spawnSentinel(dir, i, [
        `sentinel monitor ${masterName} 127.0.0.1 ${master.port} ${quorum}`,
        `sentinel down-after-milliseconds ${masterName} ${opts.downAfterMs ?? 1000}`,
        `sentinel failover-timeout ${masterName} ${opts.failoverTimeoutMs ?? 5000}`,
        `sentinel parallel-syncs ${masterName} 1`,
      ]);
      sentinels.push(child);
      ports.push(port);
    }
    await discovered(ports, masterName, nodes.length - 1, count - 1);
  } catch (err) {
    await stop();
    throw err;
  }
  const ask = async (port: number): Promise<number | undefined> => {
    const c = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null, connectTimeout: 1000 });
    c.on('error', () => undefined);
    try {
      await c.connect();
      const addr = (await c.call('SENTINEL', 'get-master-addr-by-name', masterName)) as [string, string] | null;
      return addr ? Number(addr[1]) : undefined;
    } catch {
      return undefined;
    } finally {
      c.disconnect();
    }
  };
  const masterPort = async () => {
    for (const p of ports) {
      const m = await ask(p);
      if (m !== undefined) return m;
    }
    throw new Error('no sentinel answered');
  };
  return {
    masterName,
    nodes,
    sentinelPorts: ports,
    env: { PARLEY_REDIS_SENTINELS: ports.map((p) => `127.0.0.1:${p}`).join(','), PARLEY_REDIS_SENTINEL_MASTER: masterName },
    masterPort,
    async waitForNewMaster(oldPort, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        for (const p of ports) {
          const m = await ask(p);
          if (m !== undefined && m !== oldPort) return m;
        }
        if (Date.now() > deadline) throw new Error(`the sentinels still name port ${oldPort} as master after ${timeoutMs} ms`);
        await sleep(50);
      }
    },
    client() {
      const c = new Redis({ sentinels: ports.map((port) => ({ host: '127.0.0.1', port })), name: masterName, maxRetriesPerRequest: 1 });
      c.on('error', () => undefined); // reported through the failing command
      clients.add(c);
      return c;
    },
    stop,
  };
}

async function spawnSentinel(dir: string, index: number, monitor: string[]): Promise<{ child: ChildProcess; port: number }> {
  let last = '';
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    // The sentinel rewrites its configuration file (the state it learns), so it gets its own.
    const conf = join(dir, `sentinel-${index}.conf`);
    await writeFile(conf, [`port ${port}`, 'bind 127.0.0.1', `dir ${dir}`, ...monitor, ''].join('\n'), { mode: 0o600 });
    const child = spawn('redis-server', [conf, '--sentinel'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout?.on('data', (d: Buffer) => (output += d.toString('utf8')));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString('utf8')));
    const spawned = await new Promise<Error | undefined>((resolve) => {
      child.once('error', resolve);
      child.once('spawn', () => resolve(undefined));
    });
    if (spawned) {
      if ((spawned as NodeJS.ErrnoException).code === 'ENOENT') throw new TestkitError('REDIS_NOT_INSTALLED');
      throw new TestkitError('REDIS_START_FAILED', spawned.message);
    }
    trackChild(child);
    let exited = false;
    void exitOf(child).then(() => (exited = true));
    const deadline = Date.now() + 10_000;
    while (!exited && Date.now() < deadline) {
      if (await pings(port)) return { child, port };
      await sleep(25);
    }
    if (!exited) await terminate(child, 'SIGKILL');
    last = output || '(no output)';
  }
  throw new TestkitError('REDIS_START_FAILED', `sentinel ${index}: ${last}`);
}

async function pings(port: number): Promise<boolean> {
  const c = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null, connectTimeout: 1000 });
  c.on('error', () => undefined);
  try {
    await c.connect();
    return (await c.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    c.disconnect();
  }
}

/** Waits until every sentinel lists `replicas` replicas and `others` other sentinels of `name`. */
async function discovered(ports: number[], name: string, replicas: number, others: number): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  const clients = ports.map((port) => {
    const c = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 1 });
    c.on('error', () => undefined);
    return c;
  });
  try {
    for (;;) {
      let ok = true;
      let state = '';
      for (const [i, c] of clients.entries()) {
        const r = ((await c.call('SENTINEL', 'replicas', name).catch(() => [])) as unknown[]).length;
        const s = ((await c.call('SENTINEL', 'sentinels', name).catch(() => [])) as unknown[]).length;
        state += ` sentinel ${i}: ${r} replicas, ${s} sentinels;`;
        if (r < replicas || s < others) ok = false;
      }
      if (ok) return;
      if (Date.now() > deadline) throw new TestkitError('REDIS_START_FAILED', `the sentinels did not discover each other in ${READY_TIMEOUT_MS} ms:${state}`);
      await sleep(100);
    }
  } finally {
    for (const c of clients) c.disconnect();
  }
}
