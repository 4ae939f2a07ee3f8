#!/usr/bin/env node
// Brings a fresh checkout to a runnable state, using only what Node 20 ships with:
//  1. dependencies through pnpm 9 (fetched with `npx`; corepack cannot download here),
//  2. a TypeScript build of every workspace project (`tsc -b`, incremental),
//  3. Debian's `redis-server`, installed with apt-get when it is missing, and with
//     `--with-prosody` (npm test, npm run setup) Debian's `prosody` (0.12, the reference
//     server of test/scansion/test/prosody-differential.test.ts) too, without starting its
//     system service (a system Prosody on 5222 would collide with `npm run cluster`), and with
//     `--with-slixmpp` (npm test, npm run setup) Debian's `python3-slixmpp`, the client library
//     test/integration/slixmpp-interop.test.ts drives with Debian's /usr/bin/python3, and with
//     `--with-sendxmpp` (npm test, npm run setup) Debian's `go-sendxmpp` and `sendxmpp`, the
//     command-line clients of test/integration/sendxmpp-interop.test.ts, and with
//     `--with-deploy-tools` (npm test, npm run setup) Debian's `kubernetes-client` (its
//     `kubectl kustomize` renders deploy/k8s offline) and `systemd` (`systemd-analyze verify`
//     of deploy/systemd), for test/integration/k8s-manifests.test.ts and packaging.test.ts,
//  4. a `pnpm` command on the PATH (npm install -g pnpm@9), so that `pnpm cluster ...` works.
// Idempotent: a second run only re-checks and rebuilds what changed.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const quiet = process.argv.includes('--quiet');
const withProsody = process.argv.includes('--with-prosody');
const withSlixmpp = process.argv.includes('--with-slixmpp');
const withSendxmpp = process.argv.includes('--with-sendxmpp');
const withDeployTools = process.argv.includes('--with-deploy-tools');
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

// 3. redis-server from Debian, unless REDIS_URL points at an existing server; prosody with
// --with-prosody; python3-slixmpp with --with-slixmpp (checked by importing it with Debian's
// interpreter: a python3 earlier on the PATH, e.g. pyenv's, does not see Debian's packages).
const missing = [];
if (!onPath('redis-server') && !process.env.REDIS_URL) missing.push('redis-server');
if (withProsody && !onPath('prosody')) missing.push('prosody');
if (withSlixmpp && spawnSync('/usr/bin/python3', ['-c', 'import slixmpp'], { stdio: 'ignore' }).status !== 0) missing.push('python3-slixmpp');
if (withSendxmpp && !onPath('go-sendxmpp')) missing.push('go-sendxmpp');
if (withSendxmpp && !onPath('sendxmpp')) missing.push('sendxmpp');
if (withDeployTools && !onPath('kubectl')) missing.push('kubernetes-client');
if (withDeployTools && !onPath('systemd-analyze')) missing.push('systemd');
if (missing.length > 0) {
  say(`not found: installing Debian package(s) ${missing.join(' ')}`);
  const root = process.getuid && process.getuid() === 0;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const apt = (...args) => (root ? run('apt-get', args, { env }) : run('sudo', ['apt-get', ...args], { env }));
  // Packages' maintainer scripts start their services through invoke-rc.d / deb-systemd-invoke,
  // which ask /usr/sbin/policy-rc.d first: 101 means "action forbidden" (invoke-rc.d(8)). Ours
  // exists for the install only, and only when there was none. Our tests and the cluster start
  // their own redis-server and Prosody processes on free ports; system services are not wanted.
  const policy = '/usr/sbin/policy-rc.d';
  const ourPolicy = root && !existsSync(policy);
  const removePolicy = () => {
    if (ourPolicy && existsSync(policy)) unlinkSync(policy);
  };
  if (ourPolicy) {
    writeFileSync(policy, '#!/bin/sh\n# temporary, written by parley scripts/bootstrap.mjs: no service starts during the install\nexit 101\n', { mode: 0o755 });
    process.once('exit', removePolicy); // run() exits the process when apt-get fails
  }
  apt('update', '-qq');
  apt('install', '-y', '-qq', ...missing);
  removePolicy();
  // With a policy-rc.d that allowed it (not ours), the install may have started the system
  // Prosody on 5222/5269/5280: stop the service we just installed.
  if (missing.includes('prosody')) stopSystemProsody(root);
}

function stopSystemProsody(root) {
  const pidfile = '/run/prosody/prosody.pid';
  if (!existsSync(pidfile)) return;
  say('stopping the system prosody service started by its installation');
  const sudo = root ? [] : ['sudo'];
  const systemd = existsSync('/run/systemd/system');
  const [cmd, ...args] = systemd ? [...sudo, 'systemctl', 'stop', 'prosody'] : [...sudo, '/etc/init.d/prosody', 'stop'];
  const r = spawnSync(cmd, args, { stdio: quiet ? 'ignore' : 'inherit' });
  if (r.status !== 0) say(`could not stop the system prosody (${cmd} ${args.join(' ')} exited ${r.status ?? r.signal}): stop it before \`npm run cluster\``);
}
// 4. `pnpm` itself, for the documented `pnpm cluster ...` form of the launcher.
if (!onPath('pnpm')) {
  say('pnpm not found: installing pnpm 9 globally with npm');
  run('npm', ['install', '-g', '--silent', 'pnpm@9.15.9']);
}
say('ready');
