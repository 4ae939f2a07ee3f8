/*
 * Container and service recipes (issue #14 item 3), checked statically where Docker cannot
 * run here: deploy/compose/compose.yaml parsed as YAML (services, Redis password and
 * noeviction, health checks), the Dockerfile read (stages, non-root user, HEALTHCHECK,
 * entry point, environment variable names the configuration knows), the entry point script
 * and the HEALTHCHECK script run for real, and the systemd units checked with
 * `systemd-analyze verify`. The Kubernetes manifests: k8s-manifests.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { freePort, repoRoot } from '@parley/testkit';

const root = repoRoot();
const read = (path: string) => readFileSync(join(root, path), 'utf8');
/** Every `PARLEY_*` name the configuration reads (packages/config/src/load-config.ts). */
const knownEnv = new Set([...read('packages/config/src/load-config.ts').matchAll(/^\s+(PARLEY_[A-Z0-9_]+|REDIS_URL):/gm)].map((m) => m[1]));
/** Variables that are not configuration settings but are read by the image's own scripts. */
const imageOnlyEnv = new Set(['PARLEY_HEALTHCHECK_URL']);

type Service = { command?: string[]; image?: string; build?: { context: string; dockerfile: string }; environment?: Record<string, string>; ports?: string[]; depends_on?: Record<string, { condition: string }>; healthcheck?: { test: string[] }; volumes?: string[] };

test('compose.yaml: Redis with a password and noeviction, 2 gateways, 2 room workers, the admin API', () => {
  const doc = parse(read('deploy/compose/compose.yaml'), { merge: true }) as { services: Record<string, Service>; volumes: Record<string, unknown> };
  const services = doc.services;
  assert.deepEqual(Object.keys(services).sort(), ['admin-api', 'gateway-1', 'gateway-2', 'redis', 'room-worker-1', 'room-worker-2']);

  const redis = services.redis!;
  const script = (redis.command ?? []).join('\n');
  assert.match(script, /requirepass/);
  assert.match(script, /maxmemory-policy noeviction/);
  assert.match(script, /appendonly yes/);
  assert.doesNotMatch(script, /redis-server [^\n]*--requirepass/, 'no password on the command line');
  assert.match(String(redis.environment?.REDIS_PASSWORD), /^\$\{PARLEY_REDIS_PASSWORD:\?/, 'the password is required from the environment, never a literal');
  assert.ok(redis.healthcheck && redis.volumes?.some((v) => v.endsWith(':/data')));

  const byCommand = new Map<string, number>();
  const hostPorts: string[] = [];
  for (const [name, s] of Object.entries(services)) {
    if (name === 'redis') continue;
    const cmd = s.command?.[0] ?? '';
    byCommand.set(cmd, (byCommand.get(cmd) ?? 0) + 1);
    assert.ok(existsSync(join(resolve(root, 'deploy/compose', s.build!.context), s.build!.dockerfile)), `${name}: build context holds the Dockerfile`);
    assert.equal(s.image, 'parley:latest', `${name}: one image for every service`);
    assert.match(String(s.environment?.REDIS_URL), /^redis:\/\/:\$\{PARLEY_REDIS_PASSWORD:\?[^}]*\}@redis:6379$/, name);
    assert.equal(s.depends_on?.redis?.condition, 'service_healthy', name);
    for (const key of Object.keys(s.environment ?? {})) assert.ok(knownEnv.has(key) || imageOnlyEnv.has(key), `${name}: ${key} is a known variable`);
    for (const p of s.ports ?? []) hostPorts.push(p.split(':').slice(0, -1).join(':'));
  }
  assert.deepEqual(Object.fromEntries(byCommand), { gateway: 2, 'room-worker': 2, 'admin-api': 1 });
  assert.equal(new Set(hostPorts).size, hostPorts.length, `host ports unique: ${hostPorts.join(' ')}`);
  assert.equal(services['admin-api']!.environment?.PARLEY_HEALTHCHECK_URL, 'http://127.0.0.1:5380/readyz');
  assert.ok('redis-data' in doc.volumes);
});

test('Dockerfile: multi-stage, non-root, HEALTHCHECK, one entry point for the three services', () => {
  const text = read('Dockerfile');
  const lines = text.split('\n').filter((l) => !l.trimStart().startsWith('#'));
  const froms = lines.filter((l) => /^FROM /.test(l));
  assert.ok(froms.length >= 2, 'multi-stage');
  const runtime = text.slice(text.lastIndexOf('\nFROM '));
  const user = /\nUSER (\S+)/.exec(runtime)?.[1];
  assert.ok(user && user !== 'root' && user !== '0', `runtime user ${user}`);
  assert.match(runtime, /\nHEALTHCHECK [^\n]*\\\n\s+CMD \["node", "\/app\/deploy\/docker\/healthcheck\.mjs"\]/);
  assert.match(runtime, /\nENTRYPOINT \["\/app\/deploy\/docker\/parley"\]/);
  assert.ok(!/COPY --from=build[^\n]*node_modules\/\.pnpm-store/.test(text));
  // pnpm as the repository pins it.
  const pm = (JSON.parse(read('package.json')) as { packageManager: string }).packageManager;
  assert.ok(text.includes(`corepack prepare ${pm} `), pm);
  // Every variable the image sets is one the configuration reads (or the health check's own).
  const envBlock = /\nENV ((?:[^\n]*\\\n)*[^\n]*)/.exec(runtime)?.[1] ?? '';
  const names = [...envBlock.matchAll(/([A-Z_]+)=/g)].map((m) => m[1]!).filter((n) => n !== 'NODE_ENV');
  assert.ok(names.length >= 5);
  for (const n of names) assert.ok(knownEnv.has(n) || imageOnlyEnv.has(n), n);
  // What the entry point runs exists after a build (the image's /app is the repository).
  const entry = read('deploy/docker/parley');
  for (const m of entry.matchAll(/exec node \/app\/(\S+)/g)) assert.ok(existsSync(join(root, m[1]!)), m[1]);
  accessSync(join(root, 'deploy/docker/parley'), constants.X_OK);
  assert.ok(read('.dockerignore').split('\n').includes('**/node_modules'));
});

test('the entry point refuses an unknown service with its usage and exit 64', () => {
  const r = spawnSync('sh', [join(root, 'deploy/docker/parley'), 'mail-server'], { encoding: 'utf8' });
  assert.equal(r.status, 64);
  assert.match(r.stderr, /^usage: parley gateway\|room-worker\|admin-api\|xmppctl/);
});

test('the HEALTHCHECK script: 0 on 200, 1 on 503 and on a closed port', async () => {
  let status = 200;
  const server = createServer((_req, res) => res.writeHead(status).end('{}'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  const check = (url: string) => new Promise<number | null>((res) => {
    const c = spawn(process.execPath, [join(root, 'deploy/docker/healthcheck.mjs')], { env: { ...process.env, PARLEY_HEALTHCHECK_URL: url }, stdio: 'ignore' });
    c.once('exit', (code) => res(code));
  });
  try {
    assert.equal(await check(`http://127.0.0.1:${port}/readyz`), 0);
    status = 503;
    assert.equal(await check(`http://127.0.0.1:${port}/readyz`), 1);
    assert.equal(await check(`http://127.0.0.1:${await freePort()}/readyz`), 1);
  } finally {
    server.close();
  }
});

test('systemd units pass systemd-analyze verify and start what the build makes', () => {
  // Debian's `systemd` package, installed by `scripts/bootstrap.mjs --with-deploy-tools` (npm test);
  // `systemd-analyze verify` needs no running systemd (it works in a container).
  assert.equal(spawnSync('systemd-analyze', ['--version']).status, 0, 'systemd-analyze is not on PATH: run `npm run setup`');
  const dir = mkdtempSync(join(tmpdir(), 'parley-units-'));
  try {
    cpSync(join(root, 'deploy/systemd'), dir, { recursive: true });
    const units = readdirSync(dir).map((u) => (u.endsWith('@.service') ? u.replace('@.service', '@1.service') : u));
    assert.deepEqual(units.sort(), ['parley-admin-api.service', 'parley-gateway.service', 'parley-room-worker@1.service', 'parley.target']);
    const r = spawnSync('systemd-analyze', ['verify', '--man=no', ...units.map((u) => `./${u}`)], { cwd: dir, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr.trim(), '', 'no warning');
    for (const file of readdirSync(dir).filter((u) => u.endsWith('.service'))) {
      const text = readFileSync(join(dir, file), 'utf8');
      const script = /^ExecStart=\/usr\/bin\/node \/opt\/parley\/(\S+)/m.exec(text)?.[1];
      assert.ok(script && existsSync(join(root, script)), `${file}: ${script}`);
      assert.match(text, /^User=parley$/m);
      assert.match(text, /^RestartPreventExitStatus=64 78$/m);
      assert.match(text, /^TimeoutStopSec=15$/m, 'longer than the services\' own 10 s stop limit');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
