// /v1/users: create (conflicts, tombstones), list/search with pagination, get, password,
// delete as a job.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import { startRedis, type RedisServer } from '@parley/testkit';
import { AS, addSession, FakeJobs, testApp, type TestApp } from './support/harness.js';

let server: RedisServer;
let redis: Redis;
let t: TestApp;
let jobs: FakeJobs;

before(async () => {
  server = await startRedis();
  redis = server.client();
  jobs = new FakeJobs();
  t = await testApp(redis, server.url, { name: 'users', deps: { jobs, clock: () => 1_700_000_123_000 } });
});
after(async () => {
  await t?.close();
  await server?.stop();
});

const create = (jid: string, password = 'secret', extra: Record<string, unknown> = {}) =>
  t.app.inject({ method: 'POST', url: '/v1/users', headers: AS.admin, payload: { jid, password, ...extra } });

describe('users', () => {
  test('create: 201 with Location; the account can authenticate', async () => {
    const res = await create('juliet@example.com');
    assert.equal(res.statusCode, 201);
    assert.equal(res.headers.location, '/v1/users/juliet%40example.com');
    assert.deepEqual(res.json(), { jid: 'juliet@example.com', created: 1_700_000_123_000, sessions: 0 });
    assert.ok(await t.accounts.getCredentials('juliet@example.com'));
  });

  test('create an existing user: 409 user-exists', async () => {
    await create('romeo@example.com');
    const res = await create('Romeo@example.com');
    assert.equal(res.statusCode, 409);
    assert.equal(res.json().error, 'user-exists');
  });

  test('create a tombstoned name: 409 tombstoned with deletedAt, unless ignoreTombstone', async () => {
    await t.accounts.markDeleted('ghost@example.com', 60_000, 1_699_999_000_000);
    const res = await create('ghost@example.com');
    assert.equal(res.statusCode, 409);
    assert.deepEqual(res.json().error, 'tombstoned');
    assert.deepEqual(res.json().details, { deletedAt: 1_699_999_000_000 });
    const forced = await create('ghost@example.com', 'pw', { ignoreTombstone: true });
    assert.equal(forced.statusCode, 201);
    assert.equal(await t.accounts.deletedAt('ghost@example.com'), undefined, 'tombstone cleared');
  });

  test('get: created and online session count; unknown: 404 user-not-found', async () => {
    await create('nurse@example.com');
    await addSession(redis, t.keys, 'nurse@example.com/phone');
    await addSession(redis, t.keys, 'nurse@example.com/desk');
    const res = await t.app.inject({ method: 'GET', url: '/v1/users/nurse@example.com', headers: AS.read });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { jid: 'nurse@example.com', created: 1_700_000_123_000, sessions: 2 });
    const missing = await t.app.inject({ method: 'GET', url: '/v1/users/nobody@example.com', headers: AS.read });
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json().error, 'user-not-found');
  });

  test('a deleted user: 404 with deletedAt in details', async () => {
    await t.accounts.markDeleted('gone@example.com', 60_000, 1_699_000_000_000);
    const res = await t.app.inject({ method: 'GET', url: '/v1/users/gone@example.com', headers: AS.read });
    assert.equal(res.statusCode, 404);
    assert.deepEqual(res.json().details, { deletedAt: 1_699_000_000_000 });
  });

  test('list: sorted, paginated with an opaque cursor, searchable', async () => {
    for (let i = 0; i < 7; i++) await create(`page${i}@example.org`);
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const res = await t.app.inject({ method: 'GET', url: `/v1/users?q=page&limit=3${cursor ? `&cursor=${cursor}` : ''}`, headers: AS.read });
      assert.equal(res.statusCode, 200);
      const body = res.json() as { items: { jid: string }[]; next?: string };
      assert.ok(body.items.length <= 3);
      seen.push(...body.items.map((u) => u.jid));
      cursor = body.next;
      pages++;
    } while (cursor);
    assert.equal(pages, 3);
    assert.deepEqual(seen, Array.from({ length: 7 }, (_, i) => `page${i}@example.org`));
    const all = (await t.app.inject({ method: 'GET', url: '/v1/users', headers: AS.read })).json() as { items: { jid: string }[]; next?: string };
    assert.equal(all.next, undefined);
    assert.ok(all.items.some((u) => u.jid === 'juliet@example.com'));
    const none = (await t.app.inject({ method: 'GET', url: '/v1/users?q=zzz', headers: AS.read })).json();
    assert.deepEqual(none, { items: [] });
  });

  test('change password: 204 and new credentials; unknown user: 404', async () => {
    await create('pw@example.com', 'old');
    const before = await t.accounts.getCredentials('pw@example.com');
    const res = await t.app.inject({ method: 'PUT', url: '/v1/users/pw@example.com/password', headers: AS.admin, payload: { password: 'new' } });
    assert.equal(res.statusCode, 204);
    assert.equal(res.body, '');
    assert.notDeepEqual(await t.accounts.getCredentials('pw@example.com'), before);
    const missing = await t.app.inject({ method: 'PUT', url: '/v1/users/nobody@example.com/password', headers: AS.admin, payload: { password: 'new' } });
    assert.equal(missing.statusCode, 404);
    assert.equal(await t.accounts.exists('nobody@example.com'), false);
  });

  test('delete: 202 with the delete-user job and Location; unknown: 404', async () => {
    await create('bye@example.com');
    const res = await t.app.inject({ method: 'DELETE', url: '/v1/users/bye@example.com', headers: AS.admin });
    assert.equal(res.statusCode, 202);
    assert.equal(res.json().name, 'delete-user');
    assert.deepEqual(res.json().data, { jid: 'bye@example.com' });
    assert.equal(res.headers.location, `/v1/jobs/${encodeURIComponent('delete-user:bye@example.com')}`);
    const job = await t.app.inject({ method: 'GET', url: res.headers.location as string, headers: AS.read });
    assert.equal(job.statusCode, 200);
    assert.equal(job.json().id, 'delete-user:bye@example.com');
    const missing = await t.app.inject({ method: 'DELETE', url: '/v1/users/nobody@example.com', headers: AS.admin });
    assert.equal(missing.statusCode, 404);
  });
});
