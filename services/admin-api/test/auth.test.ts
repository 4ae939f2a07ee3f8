// Bearer tokens: 401 without a valid one (with WWW-Authenticate), 403 for a read token on
// anything but GET, /healthz open, other endpoints opened only by configuration.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { syncBuiltinESMExports } from 'node:module';
import { after, before, describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import type { RedisServer } from '@parley/testkit';
import { hashToken, TokenVerifier } from '../src/index.js';
import { AS, TOKENS, testApp, testAppOnOwnRedis, type TestApp } from './support/harness.js';

let server: RedisServer;
let redis: Redis;
let t: TestApp;
let stop: (() => Promise<void>) | undefined;

before(async () => {
  ({ server, redis, t, stop } = await testAppOnOwnRedis({ name: 'auth' }));
});
after(() => stop?.());

describe('authentication', () => {
  test('no token: 401 with WWW-Authenticate: Bearer and the error shape', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/v1/users' });
    assert.equal(res.statusCode, 401);
    assert.match(String(res.headers['www-authenticate']), /^Bearer /);
    assert.deepEqual(Object.keys(res.json()).sort(), ['error', 'message']);
    assert.equal(res.json().error, 'unauthorized');
  });

  test('a wrong token, a malformed header, another scheme: 401', async () => {
    for (const authorization of ['Bearer nope', 'Bearer', `Basic ${Buffer.from('a:b').toString('base64')}`, `Bearer ${TOKENS.admin}x`, TOKENS.admin]) {
      const res = await t.app.inject({ method: 'GET', url: '/v1/users', headers: { authorization } });
      assert.equal(res.statusCode, 401, authorization);
      assert.equal(res.json().error, 'unauthorized');
    }
  });

  test('the scheme is case-insensitive (RFC 7235 §2.1)', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/v1/users', headers: { authorization: `bearer ${TOKENS.read}` } });
    assert.equal(res.statusCode, 200);
  });

  test('read token: GET allowed, anything else 403 forbidden', async () => {
    assert.equal((await t.app.inject({ method: 'GET', url: '/v1/users', headers: AS.read })).statusCode, 200);
    const res = await t.app.inject({ method: 'POST', url: '/v1/users', headers: AS.read, payload: { jid: 'a@example.com', password: 'x' } });
    assert.equal(res.statusCode, 403);
    assert.equal(res.json().error, 'forbidden');
    assert.match(String(res.headers['www-authenticate']), /insufficient_scope/);
    const del = await t.app.inject({ method: 'DELETE', url: '/v1/users/a@example.com', headers: AS.read });
    assert.equal(del.statusCode, 403);
    assert.equal(await t.accounts.exists('a@example.com'), false, 'nothing was created');
  });

  test('admin token: writes allowed', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/v1/users', headers: AS.admin, payload: { jid: 'auth1@example.com', password: 'pw' } });
    assert.equal(res.statusCode, 201);
  });

  test('/healthz and /readyz need no token; /metrics, /openapi.json, /docs do by default', async () => {
    assert.equal((await t.app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
    // Probes carry no token (issue #14 item 4); readiness says only ready or not, per check.
    const ready = await t.app.inject({ method: 'GET', url: '/readyz' });
    assert.equal(ready.statusCode, 200);
    assert.deepEqual(ready.json(), { status: 'ready', checks: { redis: 'ok', jobs: 'ok' } });
    for (const url of ['/metrics', '/openapi.json', '/docs', '/docs/json', '/v1/cluster']) {
      assert.equal((await t.app.inject({ method: 'GET', url })).statusCode, 401, url);
    }
    assert.equal((await t.app.inject({ method: 'GET', url: '/openapi.json', headers: AS.read })).statusCode, 200);
  });

  test('unknown routes: 401 without a token, 404 with one (routes are not disclosed)', async () => {
    assert.equal((await t.app.inject({ method: 'GET', url: '/v1/nothing' })).statusCode, 401);
    const res = await t.app.inject({ method: 'GET', url: '/v1/nothing', headers: AS.read });
    assert.equal(res.statusCode, 404);
    assert.equal(res.json().error, 'not-found');
  });

  test('adminApi.publicEndpoints opens docs, metrics and readyz', async () => {
    const open = await testApp(redis, server.url, { name: 'auth-open', config: { 'adminApi.publicEndpoints': ['docs', 'metrics', 'readyz'] } });
    try {
      for (const url of ['/readyz', '/metrics', '/openapi.json', '/docs/json']) {
        assert.equal((await open.app.inject({ method: 'GET', url })).statusCode, 200, url);
      }
      assert.equal((await open.app.inject({ method: 'GET', url: '/v1/users' })).statusCode, 401);
    } finally {
      await open.close();
    }
  });

  test('no tokens configured: everything but /healthz is 401', async () => {
    const none = await testApp(redis, server.url, { name: 'auth-none', config: { 'adminApi.tokens': [] } });
    try {
      assert.equal((await none.app.inject({ method: 'GET', url: '/v1/users', headers: AS.admin })).statusCode, 401);
      assert.equal((await none.app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
    } finally {
      await none.close();
    }
  });
});

describe('TokenVerifier', () => {
  const tokens = [
    { name: 'a', scope: 'read' as const, sha256: hashToken('alpha') },
    { name: 'b', scope: 'admin' as const, sha256: hashToken('beta') },
  ];

  test('finds the token whose hash matches, whatever its position', () => {
    const v = new TokenVerifier(tokens);
    assert.deepEqual(v.verify('alpha'), { name: 'a', scope: 'read' });
    assert.deepEqual(v.verify('beta'), { name: 'b', scope: 'admin' });
    assert.equal(v.verify('gamma'), undefined);
    assert.equal(v.verify(''), undefined);
  });

  test('hashToken is the lowercase hex SHA-256 (the value to configure)', () => {
    assert.equal(hashToken('test'), '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08');
  });

  test('compares every configured hash with crypto.timingSafeEqual, 32-byte digests, no early exit', () => {
    const calls: [number, number][] = [];
    const original = crypto.timingSafeEqual;
    crypto.timingSafeEqual = (a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView) => {
      calls.push([a.byteLength, b.byteLength]);
      return original(a, b);
    };
    syncBuiltinESMExports(); // the named import in auth.ts sees the spy
    try {
      const v = new TokenVerifier(tokens);
      assert.equal(v.verify('a-token-of-a-quite-different-length-than-32-bytes-0123456789'), undefined);
      assert.deepEqual(v.verify('alpha'), { name: 'a', scope: 'read' }); // matches the first, still compares the second
    } finally {
      crypto.timingSafeEqual = original;
      syncBuiltinESMExports();
    }
    assert.deepEqual(calls, [[32, 32], [32, 32], [32, 32], [32, 32]]);
  });
});
