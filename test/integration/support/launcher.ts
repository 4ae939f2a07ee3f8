import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { repoRoot } from '@parley/testkit';

/**
 * Spawns the local launcher (`node deploy/local/dist/cli.js ARGS`, as `npm run cluster` does
 * after building) with no inherited `REDIS_URL`, so it starts its own Redis. `ready` resolves
 * with the launcher's `READY` line; it rejects when the launcher exits first or after 60 s,
 * with everything the launcher printed. `detached` runs it as the leader of a process group of
 * its own, so that a test can signal the group as a terminal's Ctrl-C would.
 */
export function spawnLauncher(args: string[], opts: { detached?: boolean } = {}): { child: ChildProcess; ready: Promise<string>; output: string[] } {
  const cli = join(repoRoot(), 'deploy', 'local', 'dist', 'cli.js');
  const child = spawn(process.execPath, [cli, ...args], {
    cwd: repoRoot(),
    env: { ...process.env, REDIS_URL: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: opts.detached ?? false,
  });
  const output: string[] = [];
  const ready = new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      output.push(line);
      if (line.includes('READY')) resolve(line);
    });
    child.stderr!.on('data', (d: Buffer) => output.push(d.toString()));
    child.once('exit', (code) => reject(new Error(`launcher exited (${code}) before READY:\n${output.join('\n')}`)));
    setTimeout(() => reject(new Error(`no READY within 60 s:\n${output.join('\n')}`)), 60_000).unref();
  });
  return { child, ready, output };
}
