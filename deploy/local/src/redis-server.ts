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
}

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
 * Starts Debian's `redis-server` on a free loopback port with its data in `dataDir`
 * (append-only file on, `appendfsync everysec`, so a local cluster keeps accounts across
 * restarts), locked down (issue #10 item 7):
 * - ACL: the `default` user is off (every command without AUTH gets NOAUTH); one user,
 *   {@link LAUNCHER_REDIS_USER}, with a password generated at each start (24 random bytes,
 *   base64url), stored only as its SHA-256 in `redis.conf`; the password is in the returned URL;
 * - `maxmemory` from `opts` with `maxmemory-policy noeviction`;
 * - `dataDir` mode 0700, its files 0600 (existing ones are fixed at start; the server runs
 *   with umask 077 so that the AOF/RDB files it creates are 0600 too).
 * @throws Error when redis-server is missing or does not answer PING within 10 s
 */
export async function startRedis(dataDir: string, opts: LaunchedRedisOptions): Promise<RedisChild> {
  if (!/^\d+(?:[kmg]b?)?$/i.test(opts.maxmemory)) throw new Error(`maxmemory: expected e.g. 256mb, got ${JSON.stringify(opts.maxmemory)}`);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  restrictTree(dataDir);
  const port = await freePort();
  const password = randomBytes(24).toString('base64url');
  const passwordHash = createHash('sha256').update(password).digest('hex');
  const confFile = join(dataDir, 'redis.conf');
  const quoted = (v: string) => `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  writeFileSync(
    confFile,
    [
      `port ${port}`,
      'bind 127.0.0.1',
      `dir ${quoted(dataDir)}`,
      'appendonly yes',
      'appendfsync everysec',
      'save ""',
      `maxmemory ${opts.maxmemory}`,
      'maxmemory-policy noeviction',
      'user default off',
      `user ${LAUNCHER_REDIS_USER} on #${passwordHash} ~* &* +@all`,
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  chmodSync(confFile, 0o600);
  // umask is inherited by the child: files redis-server creates (AOF, RDB) get 0600.
  const umask = process.umask(0o077);
  let child: ChildProcess;
  try {
    child = spawn('redis-server', [confFile], { stdio: ['ignore', 'ignore', 'inherit'] });
  } finally {
    process.umask(umask);
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const spawnError = new Promise<never>((_, reject) => child.once('error', (err) => reject(new Error(`cannot start redis-server: ${err.message} (run npm run setup)`))));
  const deadline = Date.now() + 10_000;
  while (!(await Promise.race([answersPing(port, LAUNCHER_REDIS_USER, password), spawnError]))) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error('redis-server did not start');
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `redis://${LAUNCHER_REDIS_USER}:${password}@127.0.0.1:${port}`,
    port,
    process: child,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
