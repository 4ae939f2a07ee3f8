import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { exitOf, terminate, trackChild, trackDir, untrackDir } from './child-registry.js';
import { TestkitError } from './errors.js';
import { freePort } from './free-port.js';

/** A private redis-server started by {@link startRedis}. */
export interface RedisServer {
  /** `redis://127.0.0.1:<port>`, or `redis://<user>:<password>@127.0.0.1:<port>` with {@link StartRedisOptions.acl} */
  readonly url: string;
  /** The ACL user the URL logs in as, with {@link StartRedisOptions.acl}. */
  readonly acl?: { readonly user: string; readonly password: string };
  readonly port: number;
  /** The server's process id (a new one after {@link RedisServer.restart}). */
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
  /**
   * Sends `signal` (default SIGKILL) to the server and waits until it has exited; the data
   * directory stays, for {@link RedisServer.restart}. Clients made by `client()` stay
   * (they reconnect once it is back).
   */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /**
   * Starts the server again on the same port with the same data directory and options
   * (with `appendOnly`, it loads its AOF), after {@link RedisServer.kill}; waits until it answers PING.
   * @throws TestkitError `REDIS_START_FAILED` when it does not come back
   */
  restart(): Promise<void>;
}

/** Options of {@link startRedis}. */
export interface StartRedisOptions {
  /** Persistence as a production deployment would have it: AOF on, `appendfsync everysec`. Default off. */
  appendOnly?: boolean;
  /**
   * ACL as the local launcher sets it up: the `default` user switched off (no command
   * without AUTH) and one user with every right and this password (generated when `true`);
   * the password goes in a 0600 config file in the server's directory, not on its command line.
   * Default: no ACL (the `default` user, no password).
   */
  acl?: true | { user: string; password: string };
  /** Start as a replica of the Redis on 127.0.0.1 at this port (`--replicaof`); see start-redis-sentinel.ts. */
  replicaOf?: number;
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
export async function startRedis(opts: StartRedisOptions = {}): Promise<RedisServer> {
  const dir = await mkdtemp(join(tmpdir(), 'parley-redis-'));
  trackDir(dir);
  if (opts.acl === true) opts = { ...opts, acl: { user: 'parley', password: randomBytes(18).toString('base64url') } };
  try {
    if (opts.acl && opts.acl !== true) {
      const { user, password } = opts.acl;
      if (!/^[A-Za-z0-9_-]{1,64}$/.test(user) || !/^[A-Za-z0-9_-]{8,128}$/.test(password)) {
        throw new TestkitError('REDIS_START_FAILED', 'acl: user 1-64 and password 8-128 characters of [A-Za-z0-9_-]');
      }
      // `default` is off (unusable) but keeps +@all: Redis 7.0 replays AOF transactions as it.
      await writeFile(join(dir, 'acl.conf'), `user default off resetpass ~* &* +@all\nuser ${user} on >${password} ~* &* +@all\n`, { mode: 0o600 });
    }
    let lastFailure = '';
    for (let attempt = 0; attempt < START_ATTEMPTS; attempt++) {
      const port = await freePort();
      const started = await spawnRedis(dir, port, opts);
      if (started.ok) return handle(started.child, port, dir, opts);
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

export type Spawned = { ok: true; child: ChildProcess } | { ok: false; output: string };

async function spawnRedis(dir: string, port: number, opts: StartRedisOptions): Promise<Spawned> {
  const persistence = opts.appendOnly ? ['--appendonly', 'yes', '--appendfsync', 'everysec'] : ['--appendonly', 'no'];
  // With an ACL, the config file comes first (redis-server <file> [--option value ...]).
  const config = opts.acl ? [join(dir, 'acl.conf')] : [];
  const replica = opts.replicaOf !== undefined ? ['--replicaof', '127.0.0.1', String(opts.replicaOf)] : [];
  const args = [...config, '--save', '', ...persistence, ...replica, '--port', String(port), '--bind', '127.0.0.1', '--dir', dir];
  return spawnRedisServer(args, dir, port, opts.acl === true ? undefined : opts.acl);
}

/**
 * Spawns `redis-server <args>` in `dir` and waits (10 s at most) until it answers PING on
 * `port` (with `acl` when given). Used for single servers, Sentinel's and Cluster's nodes.
 * @returns the child once it answers, or its output when it exited or never answered
 *   (killed then)
 * @throws TestkitError `REDIS_NOT_INSTALLED` when `redis-server` is not on PATH,
 *   `REDIS_START_FAILED` when it cannot be spawned
 */
export async function spawnRedisServer(args: string[], dir: string, port: number, acl?: { user: string; password: string }): Promise<Spawned> {
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
    if (await answersPing(port, acl)) return { ok: true, child };
    await sleep(25);
  }
  if (!exited) await terminate(child, 'SIGKILL');
  return { ok: false, output: output || '(no output)' };
}

async function answersPing(port: number, acl?: { user: string; password: string }): Promise<boolean> {
  const probe = new Redis({
    host: '127.0.0.1',
    port,
    ...(acl ? { username: acl.user, password: acl.password } : {}),
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

function handle(first: ChildProcess, port: number, dir: string, opts: StartRedisOptions): RedisServer {
  const acl = opts.acl === true ? undefined : opts.acl;
  const url = acl ? `redis://${acl.user}:${acl.password}@127.0.0.1:${port}` : `redis://127.0.0.1:${port}`;
  const clients = new Set<Redis>();
  let stopping: Promise<void> | undefined;
  let child: ChildProcess | undefined = first;
  return {
    url,
    ...(acl ? { acl: { user: acl.user, password: acl.password } } : {}),
    port,
    get pid() {
      return child?.pid ?? -1;
    },
    dir,
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (!child) return;
      const c = child;
      child = undefined;
      await terminate(c, signal, 5000);
    },
    async restart() {
      if (child) throw new TestkitError('REDIS_START_FAILED', 'restart() needs kill() first');
      let last = '';
      // The port was ours a moment ago; retry briefly in case the kernel still holds it.
      for (let attempt = 0; attempt < START_ATTEMPTS; attempt++) {
        const started = await spawnRedis(dir, port, opts);
        if (started.ok) {
          child = started.child;
          return;
        }
        last = started.output;
        await sleep(200);
      }
      throw new TestkitError('REDIS_START_FAILED', `restart on port ${port}: ${last}`);
    },
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
        if (child) await terminate(child, 'SIGTERM', 5000);
        await rm(dir, { recursive: true, force: true });
        untrackDir(dir);
      })();
      return stopping;
    },
  };
}
