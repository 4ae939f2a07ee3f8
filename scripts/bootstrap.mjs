#!/usr/bin/env node
// Brings a fresh checkout to a runnable state, using only what Node 20 ships with:
//  1. dependencies through pnpm 9 (fetched with `npx`; corepack cannot download here),
//  2. a TypeScript build of every workspace project (`tsc -b`, incremental),
//  3. Debian's `redis-server`, installed with apt-get when it is missing,
//  4. a `pnpm` command on the PATH (npm install -g pnpm@9), so that `pnpm cluster ...` works.
// Idempotent: a second run only re-checks and rebuilds what changed.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const quiet = process.argv.includes('--quiet');
const say = (msg) => { if (!quiet) process.stderr.write(`[setup] ${msg}\n`); };

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: quiet ? ['ignore', 'ignore', 'inherit'] : 'inherit', ...opts });
  if (r.status !== 0) {
    process.stderr.write(`[setup] failed: ${cmd} ${args.join(' ')} (exit ${r.status ?? r.signal})\n`);
    process.exit(r.status || 1);
  }
}

function onPath(bin) {
  return spawnSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }).status === 0;
}

// 1. Dependencies, installed again whenever the lockfile changed since the last install.
const lockHash = createHash('sha256').update(readFileSync(join(root, 'pnpm-lock.yaml'))).digest('hex');
const marker = join(root, 'node_modules', '.parley-lockfile-hash');
if (!existsSync(marker) || readFileSync(marker, 'utf8') !== lockHash) {
  say('installing dependencies with pnpm 9');
  run('npx', ['-y', 'pnpm@9.15.9', 'install', '--frozen-lockfile']);
  writeFileSync(marker, lockHash);
}

// 2. Build (incremental).
say('building (tsc -b)');
run(join(root, 'node_modules', '.bin', 'tsc'), ['-b']);

// 3. redis-server from Debian, unless REDIS_URL points at an existing server.
if (!onPath('redis-server') && !process.env.REDIS_URL) {
  say('redis-server not found: installing Debian package redis-server');
  const sudo = process.getuid && process.getuid() === 0 ? [] : ['sudo'];
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  run(sudo[0] ?? 'apt-get', [...sudo.slice(1), ...(sudo.length ? ['apt-get'] : []), 'update', '-qq'], { env });
  run(sudo[0] ?? 'apt-get', [...sudo.slice(1), ...(sudo.length ? ['apt-get'] : []), 'install', '-y', '-qq', 'redis-server'], { env });
}
// 4. `pnpm` itself, for the documented `pnpm cluster ...` form of the launcher.
if (!onPath('pnpm')) {
  say('pnpm not found: installing pnpm 9 globally with npm');
  run('npm', ['install', '-g', '--silent', 'pnpm@9.15.9']);
}
say('ready');
