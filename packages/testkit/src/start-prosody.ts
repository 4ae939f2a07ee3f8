import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { chown, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { exitOf, terminate, trackChild, trackDir, untrackDir } from './child-registry.js';
import { TestkitError } from './errors.js';
import { freePort } from './free-port.js';
import { repoRoot } from './repo-root.js';

/** A private Prosody 0.12 started by {@link startProsody}. */
export interface ProsodyServer {
  /** Loopback c2s port (plain TCP, SASL PLAIN, any password: `authentication = "insecure"`). */
  readonly c2sPort: number;
  /** Loopback HTTP port (used by the reference config's `http_file_share` component). */
  readonly httpPort: number;
  /** The Prosody process id (lua; `setpriv` execs it in place). */
  readonly pid: number;
  /** Working directory: the rewritten config, `data/`, `debug.log` (removed by `stop()`). */
  readonly dir: string;
  /** Console output (info level) and the last `debugLines` lines of the debug log, for failure messages. */
  output(debugLines?: number): string;
  /** SIGTERM (SIGKILL after 5 s), waits for the exit, removes {@link dir}. Idempotent. */
  stop(): Promise<void>;
}

/** Options of {@link startProsody}. */
export interface StartProsodyOptions {
  /**
   * Directory holding the reference `prosody.cfg.lua` (its `c2s_ports` and `http_ports`
   * lines are rewritten). Default: `../shared/reference/prosody` beside the repository.
   */
  referenceDir?: string;
  /** How long to wait for c2s to accept connections, ms (default 10000). */
  readyTimeoutMs?: number;
}

const START_ATTEMPTS = 5;
const PROSODY_USER = 'prosody';

/** `../shared/reference/prosody` beside the repository. */
export function prosodyReferenceDir(): string {
  return join(repoRoot(), '..', 'shared', 'reference', 'prosody');
}

/** Whether a `prosody` executable is on PATH (Debian package `prosody`). */
export function prosodyInstalled(): boolean {
  return onPath('prosody') !== undefined;
}

/**
 * Starts Debian's Prosody 0.12 with the reference configuration, as
 * `../shared/reference/prosody/run_prosody.sh` does, but private to the caller: a fresh
 * temporary directory (config copy, data directory, debug log), c2s and HTTP on free
 * loopback ports (the config's `c2s_ports` / `http_ports` rewritten), in the foreground,
 * as the `prosody` user when we are root (Prosody refuses to run as root). Resolves once
 * Prosody reports its c2s service active on our port and the port accepts a connection.
 * Prosody does not exit when a port is taken (it logs "Failed to open server port"): that
 * is detected and the start retried on other ports, so parallel starts never share a server.
 *
 * @throws TestkitError `PROSODY_NOT_INSTALLED` when `prosody` (or, as root, `setpriv`) is
 *   not on PATH; `PROSODY_START_FAILED` (with the console output) when the reference config
 *   lacks the port lines, Prosody exits, or it is not ready in time
 */
export async function startProsody(opts: StartProsodyOptions = {}): Promise<ProsodyServer> {
  const prosody = onPath('prosody');
  if (prosody === undefined) throw new TestkitError('PROSODY_NOT_INSTALLED');
  const root = process.getuid?.() === 0;
  const setpriv = root ? onPath('setpriv') : undefined;
  if (root && setpriv === undefined) throw new TestkitError('PROSODY_NOT_INSTALLED', 'setpriv (util-linux) is needed to run prosody as its own user');
  const ids = root ? userIds(PROSODY_USER) : undefined;
  const reference = readFileSync(join(opts.referenceDir ?? prosodyReferenceDir(), 'prosody.cfg.lua'), 'utf8');

  const dir = await mkdtemp(join(tmpdir(), 'parley-prosody-'));
  trackDir(dir);
  try {
    let lastFailure = '';
    for (let attempt = 0; attempt < START_ATTEMPTS; attempt++) {
      const c2sPort = await freePort();
      let httpPort = await freePort();
      while (httpPort === c2sPort) httpPort = await freePort();
      const cfg = join(dir, 'prosody.cfg.lua');
      await writeFile(cfg, withPorts(reference, c2sPort, httpPort));
      await rm(join(dir, 'data'), { recursive: true, force: true });
      await mkdir(join(dir, 'data'));
      await writeFile(join(dir, 'debug.log'), '');
      if (ids) for (const p of [dir, cfg, join(dir, 'data'), join(dir, 'debug.log')]) await chown(p, ids.uid, ids.gid);
      const started = await spawnProsody({ prosody, setpriv, dir, cfg, c2sPort, httpPort, readyTimeoutMs: opts.readyTimeoutMs ?? 10_000 });
      if (started.ok) return handle(started.child, started.console, dir, c2sPort, httpPort);
      lastFailure = started.output;
      if (!started.portTaken) break;
    }
    throw new TestkitError('PROSODY_START_FAILED', lastFailure);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    untrackDir(dir);
    throw err;
  }
}

/**
 * The reference config with `c2s_ports` and `http_ports` set to the given ports.
 * @throws TestkitError `PROSODY_START_FAILED` when either line is missing or appears twice
 */
function withPorts(config: string, c2sPort: number, httpPort: number): string {
  let out = config;
  for (const [key, port] of [['c2s_ports', c2sPort], ['http_ports', httpPort]] as const) {
    const re = new RegExp(`^${key}\\s*=\\s*\\{[^}\\n]*\\}`, 'gm');
    const hits = out.match(re)?.length ?? 0;
    if (hits !== 1) throw new TestkitError('PROSODY_START_FAILED', `the reference prosody.cfg.lua has ${hits} "${key} = { ... }" lines (expected one)`);
    out = out.replace(re, `${key} = { ${port} }`);
  }
  return out;
}

type Spawned = { ok: true; child: ChildProcess; console: () => string } | { ok: false; output: string; portTaken: boolean };

async function spawnProsody(o: {
  prosody: string;
  setpriv: string | undefined;
  dir: string;
  cfg: string;
  c2sPort: number;
  httpPort: number;
  readyTimeoutMs: number;
}): Promise<Spawned> {
  const args = ['--config', o.cfg, '-F'];
  const [cmd, argv] = o.setpriv ? [o.setpriv, [`--reuid=${PROSODY_USER}`, `--regid=${PROSODY_USER}`, '--init-groups', o.prosody, ...args]] : [o.prosody, args];
  // The reference config reads its data directory and debug log path from these (ENV_* in Lua).
  const env = { ...process.env, SCANSION_PROSODY_DATA: join(o.dir, 'data'), PROSODY_LOGFILE: join(o.dir, 'debug.log') };
  const child = spawn(cmd, argv, { cwd: o.dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  trackChild(child);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString('utf8')));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString('utf8')));
  let exited = false;
  void exitOf(child).then(() => (exited = true));
  const active = `Activated service 'c2s' on [127.0.0.1]:${o.c2sPort}`;
  const deadline = Date.now() + o.readyTimeoutMs;
  while (Date.now() < deadline) {
    if (/Failed to open server port/.test(out)) {
      await terminate(child, 'SIGKILL');
      return { ok: false, output: out, portTaken: true };
    }
    if (exited) return { ok: false, output: out || '(no output)', portTaken: false };
    if (out.includes(active) && (await accepts(o.c2sPort))) return { ok: true, child, console: () => out };
    await sleep(25);
  }
  await terminate(child, 'SIGKILL');
  return { ok: false, output: `not ready within ${o.readyTimeoutMs} ms\n${out}`, portTaken: false };
}

function handle(child: ChildProcess, consoleOut: () => string, dir: string, c2sPort: number, httpPort: number): ProsodyServer {
  let stopping: Promise<void> | undefined;
  return {
    c2sPort,
    httpPort,
    pid: child.pid ?? -1,
    dir,
    output(debugLines = 200) {
      let debug = '';
      try {
        debug = readFileSync(join(dir, 'debug.log'), 'utf8').split('\n').slice(-debugLines).join('\n');
      } catch {
        debug = '(no debug log)';
      }
      const exit = child.exitCode !== null || child.signalCode !== null ? `\n[prosody exited: ${child.exitCode ?? child.signalCode}]` : '';
      return `--- prosody console (c2s ${c2sPort}) ---\n${consoleOut()}${exit}\n--- prosody debug.log (last ${debugLines} lines) ---\n${debug}`;
    },
    stop() {
      stopping ??= (async () => {
        await terminate(child, 'SIGTERM', 5000);
        await rm(dir, { recursive: true, force: true });
        untrackDir(dir);
      })();
      return stopping;
    },
  };
}

/** Whether a TCP connection to 127.0.0.1:`port` is accepted within a second. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(1000, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

/** The absolute path of executable `bin` on PATH (plus the sbin directories), or undefined. */
function onPath(bin: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/bin', '/sbin', '/bin'];
  for (const d of dirs) {
    if (d === '') continue;
    const p = join(d, bin);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * uid and gid of a system user (Debian's prosody package creates `prosody`).
 * @throws TestkitError `PROSODY_NOT_INSTALLED` when the user does not exist
 */
function userIds(user: string): { uid: number; gid: number } {
  const uid = spawnSync('id', ['-u', user], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', user], { encoding: 'utf8' });
  if (uid.status !== 0 || gid.status !== 0) throw new TestkitError('PROSODY_NOT_INSTALLED', `no system user ${user}`);
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

