// One error shape for every 4xx, and never a 500 for bad input: schema violations, bad
// JSON, wrong content types, invalid JIDs, bad cursors and limits.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import { API_ERRORS } from '../src/index.js';
import { AS, testAppOnOwnRedis, type TestApp } from './support/harness.js';

let redis: Redis;
let t: TestApp;
let stop: (() => Promise<void>) | undefined;

before(async () => {
  ({ redis, t, stop } = await testAppOnOwnRedis({ name: 'validation' }));
});
after(() => stop?.());

/** Asserts the error shape and returns the body. */
function errorOf(res: { statusCode: number; json(): unknown; headers: Record<string, unknown> }, status: number, code: string): { error: string; message: string; details?: unknown } {
  assert.equal(res.statusCode, status, JSON.stringify(res.json()));
  assert.match(String(res.headers['content-type']), /^application\/json/);
  const body = res.json() as { error: string; message: string; details?: unknown };
  assert.equal(body.error, code);
  assert.equal(typeof body.message, 'string');
  assert.ok(body.message.length > 0);
  for (const key of Object.keys(body)) assert.ok(['error', 'message', 'details'].includes(key), `unexpected key ${key}`);
  assert.equal(API_ERRORS[code as keyof typeof API_ERRORS].status, status);
  return body;
}

describe('validation errors', () => {
  test('a missing required property: 400 validation with the path in details', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/v1/users', headers: AS.admin, payload: { jid: 'a@example.com' } });
    const body = errorOf(res, 400, 'validation');
    assert.deepEqual(body.details, [{ in: 'body', path: '/password', message: "must have required property 'password'" }]);
  });

  test('an unknown property is refused, not dropped', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/v1/users', headers: AS.admin, payload: { jid: 'a@example.com', password: 'x', admin: true } });
    const body = errorOf(res, 400, 'validation');
    assert.deepEqual(body.details, [{ in: 'body', path: '/admin', message: 'unknown property' }]);
  });

  test('a wrong type in a nested property', async () => {
    const res = await t.app.inject({ method: 'PATCH', url: '/v1/rooms/r@conference.example.com', headers: AS.admin, payload: { config: { maxUsers: 'ten' } } });
    const body = errorOf(res, 400, 'validation');
    assert.equal((body.details as { path: string }[])[0]?.path, '/config/maxUsers');
  });

  test('query limits: 0, 1001 and text are 400 validation', async () => {
    for (const limit of ['0', '1001', 'ten', '-1']) {
      const res = await t.app.inject({ method: 'GET', url: `/v1/users?limit=${limit}`, headers: AS.read });
      const body = errorOf(res, 400, 'validation');
      assert.equal((body.details as { in: string }[])[0]?.in, 'querystring');
    }
  });

  test('an unknown query parameter is 400', async () => {
    errorOf(await t.app.inject({ method: 'GET', url: '/v1/users?page=2', headers: AS.read }), 400, 'validation');
  });

  test('a cursor the API did not issue: 400 invalid-cursor', async () => {
    for (const cursor of ['garbage', 'Zm9v', '%00']) {
      errorOf(await t.app.inject({ method: 'GET', url: `/v1/users?cursor=${cursor}`, headers: AS.read }), 400, 'invalid-cursor');
    }
  });

  test('malformed JSON: 400 bad-body; empty JSON body: 400 bad-body', async () => {
    errorOf(await t.app.inject({ method: 'POST', url: '/v1/users', headers: { ...AS.admin, 'content-type': 'application/json' }, payload: '{"jid":' }), 400, 'bad-body');
    errorOf(await t.app.inject({ method: 'POST', url: '/v1/users', headers: { ...AS.admin, 'content-type': 'application/json' }, payload: '' }), 400, 'bad-body');
  });

  test('a body that is not an object: 400 validation', async () => {
    errorOf(await t.app.inject({ method: 'POST', url: '/v1/users', headers: { ...AS.admin, 'content-type': 'application/json' }, payload: '[1,2]' }), 400, 'validation');
  });

  test('an unsupported content type: 415', async () => {
    errorOf(await t.app.inject({ method: 'POST', url: '/v1/users', headers: { ...AS.admin, 'content-type': 'application/xml' }, payload: '<a/>' }), 415, 'unsupported-media-type');
  });

  test('a body over the limit: 413', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/v1/announcements', headers: AS.admin, payload: { body: 'x'.repeat(1024 * 1024 + 10) } });
    errorOf(res, 413, 'payload-too-large');
  });

  test('invalid JIDs anywhere: 400 invalid-jid with the field', async () => {
    const cases = [
      { method: 'GET', url: `/v1/users/${encodeURIComponent('@example.com')}` },
      { method: 'GET', url: `/v1/users/${encodeURIComponent('a@b@c')}` },
      { method: 'GET', url: `/v1/users/${encodeURIComponent('example.com')}` }, // no localpart
      { method: 'GET', url: `/v1/users/${encodeURIComponent('a@example.com/res')}` }, // not bare
      { method: 'GET', url: `/v1/users/${encodeURIComponent('a@example.net')}` }, // not a served host
      { method: 'GET', url: `/v1/rooms/${encodeURIComponent('room@example.com')}` }, // not the MUC service
      { method: 'GET', url: `/v1/sessions?jid=${encodeURIComponent('a b@example.com')}` },
      { method: 'DELETE', url: `/v1/sessions/${encodeURIComponent('a@example.com')}` }, // not full
      { method: 'POST', url: '/v1/users', payload: { jid: 'x@exa mple.com', password: 'p' } },
      { method: 'POST', url: '/v1/messages', payload: { to: 'a@', body: 'hi' } },
      { method: 'POST', url: '/v1/rooms', payload: { jid: 'r@conference.example.com', owners: ['bad@@jid'] } },
    ] as const;
    for (const c of cases) {
      const res = await t.app.inject({ method: c.method, url: c.url, headers: AS.admin, ...('payload' in c ? { payload: c.payload } : {}) });
      const body = errorOf(res, 400, 'invalid-jid');
      assert.equal(typeof (body.details as { field?: unknown }).field, 'string', c.url);
    }
  });

  test('JIDs are normalised: a user created as Alice@EXAMPLE.com is alice@example.com', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/v1/users', headers: AS.admin, payload: { jid: 'Alice@EXAMPLE.com', password: 'pw' } });
    assert.equal(res.statusCode, 201);
    assert.equal(res.json().jid, 'alice@example.com');
    assert.equal((await t.app.inject({ method: 'GET', url: '/v1/users/ALICE@example.COM', headers: AS.read })).json().jid, 'alice@example.com');
  });

  test('unknown route: 404 not-found in the same shape', async () => {
    errorOf(await t.app.inject({ method: 'GET', url: '/v2/users', headers: AS.read }), 404, 'not-found');
    errorOf(await t.app.inject({ method: 'PATCH', url: '/v1/users', headers: AS.admin, payload: {} }), 404, 'not-found');
  });
});
