import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { childEnv } from './child-env.js';
import { exitOf, terminate, trackChild, type ExitStatus } from './child-registry.js';
import { TestkitError, type TestkitErrorCode } from './errors.js';
import { repoRoot } from './repo-root.js';

/** A running service process (gateway, room worker) and what it has printed. */
export interface ServiceProcess {
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

/** What {@link spawnService} needs to know about one kind of service. */
export interface ServiceSpec {
  /** Name used in messages, e.g. `gateway`. */
  name: string;
  /** Script to run with node. */
  main: string;
  /** Environment on top of the testkit's child environment. */
  env: Record<string, string>;
  /** Recognises the log line that says the process serves. */
  isReady(entry: Record<string, unknown>): boolean;
  /** How long to wait for it, ms. */
  readyTimeoutMs: number;
  /** Error code thrown when it does not become ready. */
  startError: TestkitErrorCode;
}

/**
 * Spawns `node <spec.main>`, captures its output and resolves once it logs its ready line.
 *
 * @returns the process handle and the ready line (parsed JSON)
 * @throws TestkitError `NOT_BUILT` when the script is missing; `spec.startError` (with the
 *   captured output) when the process exits or is not ready in time (it is then killed)
 */
export async function spawnService(spec: ServiceSpec): Promise<{ handle: ServiceProcess; ready: Record<string, unknown> }> {
  if (!existsSync(spec.main)) throw new TestkitError('NOT_BUILT', `${spec.main} does not exist`);
  const child = spawn(process.execPath, [spec.main], { cwd: repoRoot(), env: childEnv(spec.env), stdio: ['ignore', 'pipe', 'pipe'] });
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
      const timer = setTimeout(() => done(() => reject(new Error(`no matching ${spec.name} log line within ${timeoutMs} ms`))), timeoutMs);
      waiters.add(onLine);
      void exited.then((s) => done(() => reject(new Error(`${spec.name} exited (${s.code ?? s.signal}) before a matching log line`))));
    });
  }

  const spawnFailure = new Promise<never>((_, reject) => child.once('error', (err) => reject(new TestkitError(spec.startError, err.message))));
  let ready: Record<string, unknown>;
  try {
    ready = await Promise.race([waitForLog(spec.isReady, spec.readyTimeoutMs), spawnFailure]);
  } catch (err) {
    await terminate(child, 'SIGKILL');
    await Promise.race([streamsClosed, new Promise((r) => setTimeout(r, 1000))]); // let the last lines arrive
    throw new TestkitError(spec.startError, `${(err as Error).message}\n--- ${spec.name} output ---\n${output()}`);
  }

  const handle: ServiceProcess = {
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
  return { handle, ready };
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
