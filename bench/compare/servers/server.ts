// What every server under comparison provides: a private instance started with equivalent
// settings, its c2s targets, its processes (for memory and CPU), and a way to stop it.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { killSame, processTree, startTime } from '../lib/proc.js';
import type { RedisCounters } from '../lib/redis-stats.js';

/** How clients authenticate on the instance. */
export type AuthMode =
  /** any user logs in over PLAIN with any password (test setups: Prosody "insecure", ejabberd login_anon, parley open auth) */
  | 'open'
  /** real stored SCRAM credentials: SCRAM-SHA-1 and PLAIN (one PBKDF2 check) both work; accounts created before the run */
  | 'accounts';

export interface StartOptions {
  /** a fresh directory for this instance's configuration, data and logs */
  workDir: string;
  /** discussion history kept per new room, in messages (0 for throughput runs) */
  historyLength: number;
  auth: AuthMode;
  /** accounts to create before the instance is handed over (auth 'accounts'); all share `password` */
  accounts?: { usernames: readonly string[]; password: string };
  /** progress lines for the harness log */
  log: (msg: string) => void;
}

export interface RunningServer {
  /** the variant id, e.g. `prosody-gen` */
  id: string;
  /** c2s targets, `host:port`, the generator spreads clients over them */
  targets: string[];
  /** the XMPP domain and the MUC service */
  domain: string;
  mucDomain: string;
  /** every process serving (Redis included for parley; not the launcher's own supervisor), alive now */
  pids(): number[];
  /** the counters of the server's Redis (parley only; lib/redis-stats.ts), undefined when there is none */
  redisCounters?(): RedisCounters | undefined;
  stop(): Promise<void>;
}

/** A server (and layout or tuning) that the comparison can start. */
export interface ServerVariant {
  id: string;
  /** one line for the results: product, version and layout */
  label: string;
  /** the settings that matter for fairness, as written into its configuration */
  settings: string[];
  start(opts: StartOptions): Promise<RunningServer>;
}

export const DOMAIN = 'localhost';
export const MUC_DOMAIN = 'conference.localhost';

/** A child process whose stdout and stderr go to a log file, with an exit watcher. */
export interface LoggedChild {
  child: ChildProcess;
  /** why it is gone (exit code or signal), or undefined while it runs */
  exited(): string | undefined;
  /** SIGTERM, then SIGKILL to the whole tree after `graceMs` */
  stop(graceMs?: number): Promise<void>;
}

export function spawnLogged(cmd: string, args: string[], logFile: string, opts: { env?: NodeJS.ProcessEnv; cwd?: string; onLine?: (line: string) => void } = {}): LoggedChild {
  const out = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(cmd, args, { env: opts.env ?? process.env, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let gone: string | undefined;
  const exitedP = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      gone = `${cmd} exited (${signal ?? `code ${code}`}); see ${logFile}`;
      resolve();
    });
    child.once('error', (err) => {
      gone = `${cmd} could not start: ${err.message}`;
      resolve();
    });
  });
  let partial = '';
  child.stdout!.on('data', (d: Buffer) => {
    out.write(d);
    if (!opts.onLine) return;
    const lines = (partial + d.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const l of lines) opts.onLine(l);
  });
  child.stderr!.on('data', (d: Buffer) => out.write(d));
  return {
    child,
    exited: () => gone,
    async stop(graceMs = 10_000) {
      if (gone === undefined && child.pid !== undefined) {
        const tree = processTree(child.pid).map((pid) => ({ pid, start: startTime(pid) }));
        child.kill('SIGTERM');
        await Promise.race([exitedP, sleep(graceMs)]);
        // Whatever of the tree is still alive (timed out, or orphans left behind) is killed.
        killSame(tree);
        await exitedP;
      }
      out.end();
    },
  };
}
