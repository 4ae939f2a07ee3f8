import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { childEnv } from './child-env.js';
import { terminate, trackChild } from './child-registry.js';
import { TestkitError } from './errors.js';
import { repoRoot } from './repo-root.js';

/** Where {@link xmppctl} finds the cluster. */
export interface XmppctlOptions {
  /** `REDIS_URL` */
  redisUrl: string;
  /** `PARLEY_REDIS_KEY_PREFIX` */
  keyPrefix: string;
  /** More environment variables, applied last. */
  env?: Record<string, string>;
  /** Kill the command after this many ms (default 30 000); it then resolves with code null. */
  timeoutMs?: number;
  /**
   * Written to the command's standard input, which is then closed (not a terminal): how
   * `user add` / `user passwd` get their password, e.g. `'pw\n'`. Default: empty input.
   */
  stdin?: string;
}

/** How an {@link xmppctl} run ended. */
export interface XmppctlResult {
  /** Exit code; null when killed by a signal (e.g. the timeout). */
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `node services/gateway/dist/xmppctl.js ...args` against the given Redis and key
 * prefix, e.g. `xmppctl(['user', 'add', 'alice@localhost'], { ...opts, stdin: 'pw\n' })` (passwords
 * never go on the command line). Never rejects
 * because of the command's own failure: check `code`.
 *
 * @throws TestkitError `NOT_BUILT` when dist/xmppctl.js is missing
 */
export async function xmppctl(args: string[], opts: XmppctlOptions): Promise<XmppctlResult> {
  const cli = join(repoRoot(), 'services', 'gateway', 'dist', 'xmppctl.js');
  if (!existsSync(cli)) throw new TestkitError('NOT_BUILT', `${cli} does not exist`);
  const env = childEnv({ REDIS_URL: opts.redisUrl, PARLEY_REDIS_KEY_PREFIX: opts.keyPrefix, ...opts.env });
  const child = spawn(process.execPath, [cli, ...args], { cwd: repoRoot(), env, stdio: ['pipe', 'pipe', 'pipe'] });
  trackChild(child);
  child.stdin.on('error', () => undefined); // the command may exit without reading it
  child.stdin.end(opts.stdin ?? '');
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  const timer = setTimeout(() => void terminate(child, 'SIGKILL'), opts.timeoutMs ?? 30_000);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (c) => resolve(c));
  });
  clearTimeout(timer);
  return { code, stdout, stderr };
}
