import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { childEnv } from './child-env.js';
import { exitOf, terminate, trackChild, type ExitStatus } from './child-registry.js';
import { TestkitError } from './errors.js';
import { repoRoot } from './repo-root.js';

/** Options of {@link startRoomWorker}. */
export interface StartRoomWorkerOptions {
  /** `REDIS_URL` */
  redisUrl: string;
  /** `PARLEY_REDIS_KEY_PREFIX`; give every test file its own. */
  keyPrefix: string;
  /** More environment variables (`PARLEY_*`), applied last (e.g. `PARLEY_LEASE_TTL_MS`). */
  env?: Record<string, string>;
  /** How long to wait for the "room worker ready" line, ms (default 15 000). */
  readyTimeoutMs?: number;
}

/** A running `services/room-worker/dist/main.js`. */
export interface RoomWorkerProcess {
  /** The id the worker registered under in Redis. */
  readonly workerId: string;
  readonly pid: number;
  readonly child: ChildProcess;
  /** Every stdout line so far (pino JSON), in order; keeps growing while the process runs. */
  readonly logs: string[];
  /** Every stderr line so far. */
  readonly stderr: string[];
  /** Resolves when the process has exited. */
  readonly exited: Promise<ExitStatus>;
  /**
   * Resolves with the first stdout line (parsed JSON) satisfying `match`, looking at lines
   * already captured first; rejects after `timeoutMs` (default 5000) or when the process exits.
   */
  waitForLog(match: (entry: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Sends `signal` (default SIGKILL) and waits for the exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** SIGTERM, then waits for the exit (SIGKILL after 10 s). */
  stop(): Promise<void>;
  /** stdout and stderr captured so far, for failure messages. */
  output(): string;
}

/**
 * Spawns `node services/room-worker/dist/main.js` with `REDIS_URL`,
 * `PARLEY_REDIS_KEY_PREFIX` and `PARLEY_LOG_LEVEL=info` (each overridable through
 * `opts.env`), and resolves once it logs `"room worker ready"` with a string `workerId`.
 *
 * @throws TestkitError `NOT_BUILT` when dist/main.js is missing; an Error starting
 *   `room worker did not become ready` (with the captured output) when it exits or is not
 *   ready in time (it is then killed).
 */
export async function startRoomWorker(opts: StartRoomWorkerOptions): Promise<RoomWorkerProcess> {
  const main = join(repoRoot(), 'services', 'room-worker', 'dist', 'main.js');
  if (!existsSync(main)) throw new TestkitError('NOT_BUILT', `${main} does not exist`);
  const env = childEnv({
    REDIS_URL: opts.redisUrl,
    PARLEY_REDIS_KEY_PREFIX: opts.keyPrefix,
    PARLEY_LOG_LEVEL: 'info',
    ...opts.env,
  });
  const child = spawn(process.execPath, [main], { cwd: repoRoot(), env, stdio: ['ignore', 'pipe', 'pipe'] });
  trackChild(child);

  const logs: string[] = [];
  const stderr: string[] = [];
  const waiters = new Set<(line: string) => void>();
  createInterface({ input: child.stdout! }).on('line', (line) => {
    logs.push(line);
    for (const w of waiters) w(line);
  });
  createInterface({ input: child.stderr! }).on('line', (line) => stderr.push(line));
  const exited = exitOf(child);
  const streamsClosed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const output = () => [...logs, ...stderr.map((l) => `[stderr] ${l}`)].join('\n') || '(no output)';

  function waitForLog(match: (entry: Record<string, unknown>) => boolean, timeoutMs = 5000): Promise<Record<string, unknown>> {
    const test = (line: string): Record<string, unknown> | undefined => {
      const entry = parseLine(line);
      return entry !== undefined && match(entry) ? entry : undefined;
    };
    for (const line of logs) {
      const hit = test(line);
      if (hit) return Promise.resolve(hit);
    }
    return new Promise((resolve, reject) => {
      const done = (fn: () => void) => {
        clearTimeout(timer);
        waiters.delete(onLine);
        fn();
      };
      const onLine = (line: string) => {
        const hit = test(line);
        if (hit) done(() => resolve(hit));
      };
      const timer = setTimeout(() => done(() => reject(new Error(`no matching room worker log line within ${timeoutMs} ms`))), timeoutMs);
      waiters.add(onLine);
      void exited.then((s) => done(() => reject(new Error(`room worker exited (${s.code ?? s.signal}) before a matching log line`))));
    });
  }

  const spawnFailure = new Promise<never>((_, reject) => child.once('error', (err) => reject(err)));
  let ready: Record<string, unknown>;
  try {
    ready = await Promise.race([
      waitForLog((e) => e['msg'] === 'room worker ready' && typeof e['workerId'] === 'string', opts.readyTimeoutMs ?? 15_000),
      spawnFailure,
    ]);
  } catch (err) {
    await terminate(child, 'SIGKILL');
    await Promise.race([streamsClosed, new Promise((r) => setTimeout(r, 1000))]); // let the last lines arrive
    // TODO(#3): a ROOM_WORKER_START_FAILED code in errors.ts (owned by the testkit's maintainers).
    throw new Error(`room worker did not become ready: ${(err as Error).message}\n--- room worker output ---\n${output()}`);
  }

  return {
    workerId: ready['workerId'] as string,
    pid: child.pid ?? -1,
    child,
    logs,
    stderr,
    exited,
    waitForLog,
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      await terminate(child, signal);
    },
    async stop() {
      await terminate(child, 'SIGTERM');
    },
    output,
  };
}

function parseLine(line: string): Record<string, unknown> | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const v: unknown = JSON.parse(line);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
