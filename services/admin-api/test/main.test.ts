// The process: starts on a free port, prints `admin api ready` with its URL (even at log
// level warn), serves with its token, exits 78 on a bad configuration and 0 on SIGTERM.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { repoRoot, startAdminApi, startRedis, type AdminApiProcess, type RedisServer } from '@parley/testkit';
import { testPrefix } from './support/harness.js';

let server: RedisServer;
let api: AdminApiProcess;

before(async () => {
  server = await startRedis();
  api = await startAdminApi({ redisUrl: server.url, keyPrefix: testPrefix('main'), env: { PARLEY_LOG_LEVEL: 'warn' } });
});
after(async () => {
  await api?.stop();
  await server?.stop();
});

describe('admin api process', () => {
  test('prints its base URL on a free port', () => {
    assert.match(api.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.ok(api.port > 0);
  });

  test('serves: /healthz open, /v1 with the token only, /readyz ready', async () => {
    assert.equal((await fetch(`${api.url}/healthz`)).status, 200);
    const anon = await fetch(`${api.url}/v1/users`);
    assert.equal(anon.status, 401);
    assert.equal(anon.headers.get('www-authenticate')?.startsWith('Bearer'), true);
    const users = await fetch(`${api.url}/v1/users`, { headers: api.headers });
    assert.equal(users.status, 200);
    assert.deepEqual(await users.json(), { items: [] });
    const created = await fetch(`${api.url}/v1/users`, { method: 'POST', headers: { ...api.headers, 'content-type': 'application/json' }, body: JSON.stringify({ jid: 'p@localhost', password: 'x' }) });
    assert.equal(created.status, 201);
    const ready = await fetch(`${api.url}/readyz`, { headers: api.headers });
    assert.equal(ready.status, 200);
  });

  test('a bad configuration exits 78 with the problem on stderr', () => {
    const r = spawnSync(process.execPath, [join(repoRoot(), 'services', 'admin-api', 'dist', 'main.js')], {
      env: { PATH: process.env.PATH ?? '', PARLEY_ADMIN_TOKENS: 'ops:root:abc' },
      encoding: 'utf8',
      timeout: 10_000,
    });
    assert.equal(r.status, 78, r.stderr);
    assert.match(r.stderr, /adminApi.tokens.0.scope/);
  });

  test('SIGTERM stops it cleanly (exit 0)', async () => {
    const other = await startAdminApi({ redisUrl: server.url, keyPrefix: testPrefix('main2') });
    other.child.kill('SIGTERM');
    const status = await other.exited;
    assert.equal(status.code, 0, other.output());
  });
});
