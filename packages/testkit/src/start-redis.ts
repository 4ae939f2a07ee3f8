import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { exitOf, terminate, trackChild, trackDir, untrackDir } from './child-registry.js';
import { TestkitError } from './errors.js';
import { freePort } from './free-port.js';

/** A private redis-server started by {@link startRedis}. */
export interface RedisServer {
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** The server's process id. */
  readonly pid: number;
  /** The server's working directory (removed by `stop()`). */
  readonly dir: string;
  /**
   * A new ioredis client on this server; it is disconnected by {@link RedisServer.stop}
   * (or earlier by the caller with `quit()`).
   */
  client(): Redis;
  /** Disconnects the clients made by `client()`, stops the server, removes its directory. */
  stop(): Promise<void>;
}

const START_ATTEMPTS = 5;
const READY_TIMEOUT_MS = 10_000;

/**
 * Starts Debian's `redis-server` on a free loopback port, in a fresh temporary directory,
 * with persistence off (`--save '' --appendonly no`), and waits until it answers PING.
 * Never uses a Redis that happens to be running already.
 *
 * @throws TestkitError `REDIS_NOT_INSTALLED` when `redis-server` is not on PATH,
 *   `REDIS_START_FAILED` (with the server's output) when it exits or never answers.
 */
export async function startRedis(): Promise<RedisServer> {
  const dir = await mkdtemp(join(tmpdir(), 'parley-redis-'));
  trackDir(dir);
  try {
    let lastFailure = '';
    for (let attempt = 0; attempt < START_ATTEMPTS; attempt++) {
      const port = await freePort();
      const started = await spawnRedis(dir, port);
      if (started.ok) return handle(started.child, port, dir);
      lastFailure = started.output;
      // Most likely another process took the port between freePort() and bind(): try another.
    }
    throw new TestkitError('REDIS_START_FAILED', `after ${START_ATTEMPTS} attempts; last output:\n${lastFailure}`);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    untrackDir(dir);
    throw err;
  }
}

type Spawned = { ok: true; child: ChildProcess } | { ok: false; output: string };

async function spawnRedis(dir: string, port: number): Promise<Spawned> {
  const args = ['--save', '', '--appendonly', 'no', '--port', String(port), '--bind', '127.0.0.1', '--dir', dir];
  const child = spawn('redis-server', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString('utf8')));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString('utf8')));
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  const early = await Promise.race([
    spawnError.then((e) => ({ kind: 'error' as const, e })),
    new Promise<{ kind: 'spawned' }>((resolve) => child.once('spawn', () => resolve({ kind: 'spawned' }))),
  ]);
  if (early.kind === 'error') {
    if ((early.e as NodeJS.ErrnoException).code === 'ENOENT') throw new TestkitError('REDIS_NOT_INSTALLED');
    throw new TestkitError('REDIS_START_FAILED', early.e.message);
  }
  trackChild(child);

  let exited = false;
  void exitOf(child).then(() => (exited = true));
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!exited && Date.now() < deadline) {
    if (await answersPing(port)) return { ok: true, child };
    await sleep(25);
  }
  if (!exited) await terminate(child, 'SIGKILL');
  return { ok: false, output: output || '(no output)' };
}

async function answersPing(port: number): Promise<boolean> {
  const probe = new Redis({
    host: '127.0.0.1',
    port,
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 1000,
  });
  probe.on('error', () => {});
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

function handle(child: ChildProcess, port: number, dir: string): RedisServer {
  const url = `redis://127.0.0.1:${port}`;
  const clients = new Set<Redis>();
  let stopping: Promise<void> | undefined;
  return {
    url,
    port,
    pid: child.pid ?? -1,
    dir,
    client() {
      const c = new Redis(url, { maxRetriesPerRequest: 1 });
      c.on('error', () => {}); // reported through the failing command instead
      clients.add(c);
      return c;
    },
    stop() {
      stopping ??= (async () => {
        for (const c of clients) c.disconnect();
        clients.clear();
        await terminate(child, 'SIGTERM', 5000);
        await rm(dir, { recursive: true, force: true });
        untrackDir(dir);
      })();
      return stopping;
    },
  };
}
