import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, lstatSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createConnection, createServer, type AddressInfo } from 'node:net';

/** A redis-server child process started by the launcher. */
export interface RedisChild {
  /** `redis://<user>:<password>@127.0.0.1:<port>`: the ACL user every child logs in as. */
  url: string;
  port: number;
  /** The `sh` wrapper around redis-server (its own session; see {@link startRedis}). */
  process: ChildProcess;
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1 (bound and released at once). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** Whether the server answers `AUTH user password` + `PING` with `+OK` and `+PONG`. */
async function answersPing(port: number, user: string, password: string): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createConnection({ port, host: '127.0.0.1' });
    sock.setTimeout(500);
    sock.once('connect', () => sock.write(`AUTH ${user} ${password}\r\nPING\r\n`));
    let got = '';
    sock.on('data', (d) => {
      got += d.toString();
      if (got.includes('+PONG') || got.includes('-') || got.length > 1024) {
        sock.destroy();
        resolve(got.startsWith('+OK\r\n+PONG'));
      }
    });
    sock.once('error', () => resolve(false));
    // A connection closed before an answer (a node still starting, or another process on the
    // port) is a no; without this the promise never settled and the launcher hung.
    sock.once('close', () => resolve(false));
    sock.once('timeout', () => {
      sock.destroy();
      resolve(false);
    });
  });
}

/** Options of {@link startRedis}. */
export interface LaunchedRedisOptions {
  /** Redis `maxmemory` (e.g. `256mb`); writes beyond it fail with OOM errors (`maxmemory-policy noeviction`), nothing is evicted. */
  maxmemory: string;
  /** Loopback port to use (e.g. the previous start's); a free one when absent or taken. */
  port?: number;
  /** Password of the ACL user (e.g. the previous start's); a fresh one when absent. */
  password?: string;
}

/** Whether `port` can be bound on 127.0.0.1 right now. */
export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/**
 * Runs redis-server under `sh` in a session of its own (`detached`), so that a Ctrl-C or a
 * SIGTERM sent to the launcher's process group does not reach it: the launcher stops its
 * services first and Redis last. The shell holds the read end of a pipe from the launcher on
 * fd 3; when it reaches end of file (the launcher closed it in `stop()`, or the launcher died
 * in any way, SIGKILL included) it sends redis-server SIGTERM (a clean shutdown), so Redis
 * never outlives its launcher. The shell exits with redis-server's status.
 */
const REDIS_WRAPPER = [
  'exec 3<&0 </dev/null',
  'redis-server "$1" 3<&- &',
  'redis=$!',
  '( cat <&3 >/dev/null; kill -TERM "$redis" 2>/dev/null ) &',
  'watcher=$!',
  'exec 3<&-',
  'wait "$redis"',
  'status=$?',
  'kill "$watcher" 2>/dev/null',
  'exit "$status"',
].join('\n');

/** The ACL user the launcher's children log in as. */
export const LAUNCHER_REDIS_USER = 'parley';

/** Makes `dir` 0700 and everything under it 0700 (directories) / 0600 (files); symlinks are left alone. */
function restrictTree(dir: string): void {
  chmodSync(dir, 0o700);
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const st = lstatSync(path);
    if (st.isDirectory()) restrictTree(path);
    else if (st.isFile()) chmodSync(path, 0o600);
  }
}

/**
 * Starts Debian's `redis-server` (under a small `sh` wrapper in its own session, see
 * REDIS_WRAPPER: it stops when the launcher closes the pipe or dies) on `opts.port` when that
 * is free, otherwise on a free loopback port, with its data in `dataDir`
 * (append-only file on, `appendfsync everysec`, so a local cluster keeps accounts across
 * restarts), locked down (issue #10 item 7):
 * - ACL: the `default` user is off (every command without AUTH gets NOAUTH); one user,
 *   {@link LAUNCHER_REDIS_USER}, with `opts.password` or a generated password (24 random bytes,
 *   base64url), stored only as its SHA-256 in `redis.conf`; the password is in the returned URL;
 * - `maxmemory` from `opts` with `maxmemory-policy noeviction`;
 * - `dataDir` mode 0700, its files 0600 (existing ones are fixed at start; the server runs
 *   with umask 077 so that the AOF/RDB files it creates are 0600 too).
 * @throws Error when redis-server is missing or does not answer PING within 10 s
 */
export async function startRedis(dataDir: string, opts: LaunchedRedisOptions): Promise<RedisChild> {
  checkMaxmemory(opts.maxmemory);
  const port = opts.port !== undefined && (await portFree(opts.port)) ? opts.port : await freePort();
  const password = opts.password ?? randomBytes(24).toString('base64url');
  return launchRedisServer(dataDir, { port, password, maxmemory: opts.maxmemory, extraConf: [] });
}

/** @throws Error unless `maxmemory` looks like `256mb` (digits, optional k/m/g unit). */
export function checkMaxmemory(maxmemory: string): void {
  if (!/^\d+(?:[kmg]b?)?$/i.test(maxmemory)) throw new Error(`maxmemory: expected e.g. 256mb, got ${JSON.stringify(maxmemory)}`);
}

/** A redis.conf string value in double quotes (backslashes and quotes escaped). */
export function confQuoted(v: string): string {
  return `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** What {@link launchRedisServer} runs. */
export interface RedisServerSpec {
  /** Loopback port (the caller checked it is free). */
  port: number;
  /** Password of the ACL user {@link LAUNCHER_REDIS_USER}. */
  password: string;
  /** `maxmemory` (checked with {@link checkMaxmemory}); `noeviction`. */
  maxmemory: string;
  /** More redis.conf lines (e.g. the cluster settings of a Redis Cluster node). */
  extraConf: string[];
}

/**
 * The locked-down redis-server of {@link startRedis} (ACL user, `default` off, maxmemory
 * noeviction, AOF in `dataDir`, `dataDir` 0700 and its files 0600, umask 077), on
 * `spec.port`, with `spec.extraConf` appended to its redis.conf; shared by the single Redis
 * and every node of the launcher's Redis Cluster (redis-cluster.ts). Resolves once it
 * answers `AUTH` + `PING`.
 * @throws Error when redis-server is missing, exits, or does not answer within 10 s
 */
export async function launchRedisServer(dataDir: string, spec: RedisServerSpec): Promise<RedisChild> {
  checkMaxmemory(spec.maxmemory);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  restrictTree(dataDir);
  const { port, password } = spec;
  const passwordHash = createHash('sha256').update(password).digest('hex');
  const confFile = join(dataDir, 'redis.conf');
  writeFileSync(
    confFile,
    [
      `port ${port}`,
      'bind 127.0.0.1',
      `dir ${confQuoted(dataDir)}`,
      'appendonly yes',
      'appendfsync everysec',
      'save ""',
      `maxmemory ${spec.maxmemory}`,
      'maxmemory-policy noeviction',
      // `off`: nobody can log in as `default` (NOAUTH without AUTH, WRONGPASS with it). Its
      // permissions stay `+@all` because Redis 7.0 replays MULTI/EXEC blocks of the AOF as
      // the default user: with no permissions every transaction (e.g. an account and its
      // index entry) was refused at load and lost at the next start.
      'user default off resetpass ~* &* +@all',
      `user ${LAUNCHER_REDIS_USER} on #${passwordHash} ~* &* +@all`,
      ...spec.extraConf,
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  chmodSync(confFile, 0o600);
  // umask is inherited by the child: files redis-server creates (AOF, RDB) get 0600.
  const umask = process.umask(0o077);
  let child: ChildProcess;
  try {
    child = spawn('sh', ['-c', REDIS_WRAPPER, 'parley-redis', confFile], { stdio: ['pipe', 'ignore', 'inherit'], detached: true });
  } finally {
    process.umask(umask);
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const spawnError = new Promise<never>((_, reject) => child.once('error', (err) => reject(new Error(`cannot start redis-server: ${err.message} (run npm run setup)`))));
  const deadline = Date.now() + 10_000;
  try {
    while (!(await Promise.race([answersPing(port, LAUNCHER_REDIS_USER, password), spawnError]))) {
      if (child.exitCode === 127) throw new Error('cannot start redis-server: not found (run npm run setup)');
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`redis-server did not start on 127.0.0.1:${port}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } catch (err) {
    child.stdin?.end(); // a server that came up late stops too
    throw err;
  }
  return {
    url: `redis://${LAUNCHER_REDIS_USER}:${password}@127.0.0.1:${port}`,
    port,
    process: child,
    async stop() {
      // End of file on the wrapper's pipe: it sends redis-server SIGTERM and exits with it.
      child.stdin?.end();
      await exited;
    },
  };
}
