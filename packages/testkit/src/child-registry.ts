import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';

/*
 * Children and temporary directories that must not outlive the test process, even when a
 * test crashes before its `after` hook runs: they are killed / removed on process exit.
 */
const children = new Set<ChildProcess>();
const dirs = new Set<string>();
let hooked = false;

function hook(): void {
  if (hooked) return;
  hooked = true;
  process.once('exit', () => {
    for (const child of children) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
}

/** Kills `child` (SIGKILL) if the test process exits while it is still running. */
export function trackChild(child: ChildProcess): void {
  hook();
  children.add(child);
  child.once('exit', () => children.delete(child));
}

/** Removes `dir` when the test process exits, unless {@link untrackDir} was called. */
export function trackDir(dir: string): void {
  hook();
  dirs.add(dir);
}

/** Forgets a directory given to {@link trackDir} (after the caller removed it). */
export function untrackDir(dir: string): void {
  dirs.delete(dir);
}

/** Exit status of a child process. */
export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Resolves when `child` has exited (at once if it already has). */
export function exitOf(child: ChildProcess): Promise<ExitStatus> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

/**
 * Sends `signal` and waits for the exit; escalates to SIGKILL after `graceMs`.
 * @returns how the child exited
 */
export async function terminate(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', graceMs = 10_000): Promise<ExitStatus> {
  const exited = exitOf(child);
  if (child.exitCode !== null || child.signalCode !== null) return exited;
  child.kill(signal);
  if (signal === 'SIGKILL') return exited;
  let timer: NodeJS.Timeout | undefined;
  const escalate = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve();
    }, graceMs);
  });
  await Promise.race([exited, escalate]);
  clearTimeout(timer);
  return exited;
}
