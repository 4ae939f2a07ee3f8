/*
 * The data schema version (issue #14 items 2 and 3): the first process to start on an empty
 * data set writes `<prefix>schema-version`; a process finding a newer version refuses to
 * start with one line on stderr and exit status 78, touching nothing.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot, startGateway, startRedis, type RedisServer } from '@parley/testkit';

/** DATA_SCHEMA_VERSION of packages/service-runtime/src/schema-version.ts. */
const DATA_SCHEMA_VERSION = 1;

let redis: RedisServer;
before(async () => {
  redis = await startRedis();
});
after(async () => {
  await redis?.stop();
});

/** Runs a service's dist/main.js; resolves with its exit code and stderr (killed after 20 s). */
function run(service: string, keyPrefix: string): Promise<{ code: number | null; stderr: string; stdout: string }> {
  const child = spawn(process.execPath, [join(repoRoot(), 'services', service, 'dist', 'main.js')], {
    env: { ...process.env, REDIS_URL: redis.url, PARLEY_REDIS_KEY_PREFIX: keyPrefix, PARLEY_C2S_PORT: '0', PARLEY_WS_PORT: '0', PARLEY_ADMIN_PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  return new Promise((resolve) => child.once('exit', (code) => {
    clearTimeout(timer);
    resolve({ code, stderr, stdout });
  }));
}

test('the first start writes the schema version', async () => {
  const db = redis.client();
  assert.equal(await db.get('sv1:schema-version'), null);
  const gw = await startGateway({ redisUrl: redis.url, keyPrefix: 'sv1:' });
  try {
    assert.equal(await db.get('sv1:schema-version'), String(DATA_SCHEMA_VERSION));
  } finally {
    await gw.stop();
  }
});

test('data newer than the code: every service refuses with one line and exit 78', async () => {
  const db = redis.client();
  await db.set('sv2:schema-version', String(DATA_SCHEMA_VERSION + 1));
  for (const service of ['gateway', 'room-worker', 'admin-api']) {
    const r = await run(service, 'sv2:');
    assert.equal(r.code, 78, `${service}: ${r.stderr}`);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.equal(lines[0], `parley ${service}: the data in Redis has schema version ${DATA_SCHEMA_VERSION + 1}, newer than this version of parley reads (${DATA_SCHEMA_VERSION}); run a parley release that supports it`);
    assert.equal(r.stdout, '', 'nothing started');
  }
  assert.equal(await db.get('sv2:schema-version'), String(DATA_SCHEMA_VERSION + 1), 'left as it was');
  assert.deepEqual((await db.keys('sv2:*')).sort(), ['sv2:schema-version'], 'nothing written');
});
