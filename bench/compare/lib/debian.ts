// Installing the peers from Debian when they are missing, the way scripts/bootstrap.mjs
// installs redis-server: `apt-get update -qq` then `apt-get install -y -qq`, as root or
// through sudo, DEBIAN_FRONTEND=noninteractive.
//
// Installing prosody or ejabberd normally starts their system services (on the default
// ports). We never rely on those services and stop nothing: our instances use their own
// configuration and free ports. When we install and no /usr/sbin/policy-rc.d exists, one
// that answers 101 ("action forbidden", invoke-rc.d(8)) is put there for the duration of the
// install only, so that the install does not start a second server competing for the CPU.
import { spawnSync } from 'node:child_process';
import { existsSync, unlinkSync, writeFileSync } from 'node:fs';

function installed(pkg: string): boolean {
  const r = spawnSync('dpkg-query', ['-W', '-f', '${Status}', pkg], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.includes('install ok installed');
}

function run(args: string[]): void {
  const sudo = process.getuid?.() === 0 ? [] : ['sudo'];
  const [cmd, ...rest] = [...sudo, ...args];
  const r = spawnSync(cmd!, rest, { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (r.status !== 0) throw new Error(`${[cmd, ...rest].join(' ')} failed (exit ${r.status ?? r.signal})`);
}

/**
 * Installs the Debian packages of `pkgs` that are not installed.
 * @throws Error when apt-get fails (no network, no root and no sudo, ...)
 */
export function ensureDebianPackages(pkgs: readonly string[], log: (msg: string) => void): void {
  const missing = pkgs.filter((p) => !installed(p));
  if (missing.length === 0) return;
  log(`installing Debian packages: ${missing.join(' ')}`);
  const policy = '/usr/sbin/policy-rc.d';
  const ours = !existsSync(policy) && process.getuid?.() === 0;
  if (ours) writeFileSync(policy, '#!/bin/sh\n# temporary, bench/compare: do not start services while installing\nexit 101\n', { mode: 0o755 });
  try {
    run(['apt-get', 'update', '-qq']);
    run(['apt-get', 'install', '-y', '-qq', ...missing]);
  } finally {
    if (ours) unlinkSync(policy);
  }
}

/** Processes of system-wide instances that would compete for the CPU (reported, never stopped). */
export function foreignServers(): string[] {
  const r = spawnSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' });
  return r.stdout
    .split('\n')
    .filter((l) => /\/usr\/bin\/prosody|beam\.smp.*ejabberd/.test(l))
    .map((l) => l.trim());
}
