// /v1/sessions and /v1/users/{jid}/sessions: listing (cluster-wide with filters and
// pagination, one user's) and kicks (a `kick` envelope to the holding gateway, which ends
// the session with the stream error); /v1/messages to online sessions.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import { startRedis, type RedisServer } from '@parley/testkit';
import { AS, addSession, deliveries, testApp, type TestApp } from './support/harness.js';

let server: RedisServer;
let redis: Redis;
let t: TestApp;
const ids: Record<string, string> = {};

before(async () => {
  server = await startRedis();
  redis = server.client();
  t = await testApp(redis, server.url, { name: 'sessions' });
  await t.accounts.create('alice@example.com', 'pw');
  await t.accounts.create('carol@example.com', 'pw');
  ids.phone = (await addSession(redis, t.keys, 'alice@example.com/phone', { gateway: 'gw-a', transport: 'websocket', priority: 5 })).sessionId;
  ids.desk = (await addSession(redis, t.keys, 'alice@example.com/desk', { gateway: 'gw-b', available: false })).sessionId;
  ids.bob = (await addSession(redis, t.keys, 'bob@example.com/laptop', { gateway: 'gw-a' })).sessionId;
  ids.dave = (await addSession(redis, t.keys, 'dave@example.org/x', { gateway: 'gw-b' })).sessionId;
});
after(async () => {
  await t?.close();
  await server?.stop();
});

type Page = { items: { jid: string; gateway: string; transport: string; available: boolean; priority: number; since: number }[]; next?: string };

describe('sessions', () => {
  test('list: every session, sorted by full JID, with gateway, transport, presence', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/v1/sessions', headers: AS.read });
    assert.equal(res.statusCode, 200);
    const body = res.json() as Page;
    assert.deepEqual(body.items.map((s) => s.jid), ['alice@example.com/desk', 'alice@example.com/phone', 'bob@example.com/laptop', 'dave@example.org/x']);
    const phone = body.items[1]!;
    assert.deepEqual({ gateway: phone.gateway, transport: phone.transport, available: phone.available, priority: phone.priority, since: phone.since }, {
      gateway: 'gw-a', transport: 'websocket', available: true, priority: 5, since: 1_700_000_000_000,
    });
    assert.equal(body.items[0]!.available, false);
  });

  test('list: pages of 2 with a cursor; q and jid filters', async () => {
    const first = (await t.app.inject({ method: 'GET', url: '/v1/sessions?limit=2', headers: AS.read })).json() as Page;
    assert.equal(first.items.length, 2);
    assert.ok(first.next);
    const second = (await t.app.inject({ method: 'GET', url: `/v1/sessions?limit=2&cursor=${first.next}`, headers: AS.read })).json() as Page;
    assert.deepEqual(second.items.map((s) => s.jid), ['bob@example.com/laptop', 'dave@example.org/x']);
    const q = (await t.app.inject({ method: 'GET', url: '/v1/sessions?q=LAPTOP', headers: AS.read })).json() as Page;
    assert.deepEqual(q.items.map((s) => s.jid), ['bob@example.com/laptop']);
    const jid = (await t.app.inject({ method: 'GET', url: '/v1/sessions?jid=Alice@example.com', headers: AS.read })).json() as Page;
    assert.deepEqual(jid.items.map((s) => s.jid), ['alice@example.com/desk', 'alice@example.com/phone']);
  });

  test("a user's sessions; an unknown user without sessions: 404", async () => {
    const res = await t.app.inject({ method: 'GET', url: '/v1/users/alice@example.com/sessions', headers: AS.read });
    assert.equal((res.json() as Page).items.length, 2);
    const carol = await t.app.inject({ method: 'GET', url: '/v1/users/carol@example.com/sessions', headers: AS.read });
    assert.deepEqual(carol.json(), { items: [] });
    const nobody = await t.app.inject({ method: 'GET', url: '/v1/users/nobody@example.com/sessions', headers: AS.read });
    assert.equal(nobody.statusCode, 404);
    assert.equal(nobody.json().error, 'user-not-found');
  });

  test('send a message to a bare JID: every online session gets it from the server', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/v1/messages', headers: AS.admin, payload: { to: 'alice@example.com', body: 'maintenance at 5 <soon>', type: 'headline' } });
    assert.equal(res.statusCode, 200);
    assert.equal(res.json().delivered, 2);
    const a = (await deliveries(redis, t.keys, 'gw-a')).filter((e) => e.kind === 'stanza');
    assert.equal(a.length, 1);
    assert.equal(a[0]!.to, 'alice@example.com/phone');
    assert.equal(a[0]!.sid, ids.phone);
    assert.match(a[0]!.xml!, /^<message [^>]*xmlns="jabber:client"[^>]*from="example.com"/);
    assert.match(a[0]!.xml!, /type="headline"/);
    assert.match(a[0]!.xml!, /<body>maintenance at 5 &lt;soon&gt;<\/body>/);
  });

  test('send a message to a full JID: only that session; nobody online: 404 recipient-unavailable', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/v1/messages', headers: AS.admin, payload: { to: 'dave@example.org/x', body: 'hi', subject: 'S' } });
    assert.equal(res.json().delivered, 1);
    const b = (await deliveries(redis, t.keys, 'gw-b')).filter((e) => e.kind === 'stanza' && e.to === 'dave@example.org/x');
    assert.match(b[0]!.xml!, /<subject>S<\/subject><body>hi<\/body>/);
    for (const to of ['carol@example.com', 'dave@example.org/other']) {
      const none = await t.app.inject({ method: 'POST', url: '/v1/messages', headers: AS.admin, payload: { to, body: 'hi' } });
      assert.equal(none.statusCode, 404);
      assert.equal(none.json().error, 'recipient-unavailable');
    }
  });

  test('kick one session: 204 and a kick envelope (policy-violation, reason) to its gateway', async () => {
    const res = await t.app.inject({ method: 'DELETE', url: `/v1/sessions/${encodeURIComponent('bob@example.com/laptop')}?reason=spam`, headers: AS.admin });
    assert.equal(res.statusCode, 204);
    const kicks = (await deliveries(redis, t.keys, 'gw-a')).filter((e) => e.kind === 'kick');
    assert.deepEqual(kicks, [{ kind: 'kick', to: 'bob@example.com/laptop', sid: ids.bob, condition: 'policy-violation', text: 'spam' }]);
    // The options may come in a JSON body instead (the body wins); unknown ones are refused.
    const { sessionId } = await addSession(redis, t.keys, 'bob@example.com/tablet', { gateway: 'gw-c' });
    const viaBody = await t.app.inject({ method: 'DELETE', url: `/v1/sessions/${encodeURIComponent('bob@example.com/tablet')}?reason=q`, headers: AS.admin, payload: { reason: 'from body', condition: 'not-authorized' } });
    assert.equal(viaBody.statusCode, 204);
    assert.deepEqual((await deliveries(redis, t.keys, 'gw-c')).filter((e) => e.kind === 'kick'), [
      { kind: 'kick', to: 'bob@example.com/tablet', sid: sessionId, condition: 'not-authorized', text: 'from body' },
    ]);
    const unknown = await t.app.inject({ method: 'DELETE', url: `/v1/sessions/${encodeURIComponent('bob@example.com/tablet')}`, headers: AS.admin, payload: { why: 'x' } });
    assert.equal(unknown.statusCode, 400);
    assert.equal(unknown.json().error, 'validation');
    const gone = await t.app.inject({ method: 'DELETE', url: `/v1/sessions/${encodeURIComponent('bob@example.com/other')}`, headers: AS.admin });
    assert.equal(gone.statusCode, 404);
    assert.equal(gone.json().error, 'session-not-found');
  });

  test("kick all of a user's sessions with another condition", async () => {
    const res = await t.app.inject({ method: 'DELETE', url: '/v1/users/alice@example.com/sessions?condition=reset', headers: AS.admin });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { kicked: 2 });
    const a = (await deliveries(redis, t.keys, 'gw-a')).filter((e) => e.kind === 'kick' && e.to?.startsWith('alice'));
    const b = (await deliveries(redis, t.keys, 'gw-b')).filter((e) => e.kind === 'kick' && e.to?.startsWith('alice'));
    assert.deepEqual([...a, ...b].map((e) => [e.to, e.condition]), [['alice@example.com/phone', 'reset'], ['alice@example.com/desk', 'reset']]);
    const bad = await t.app.inject({ method: 'DELETE', url: '/v1/users/alice@example.com/sessions?condition=bye', headers: AS.admin });
    assert.equal(bad.statusCode, 400);
    const nobody = await t.app.inject({ method: 'DELETE', url: '/v1/users/nobody@example.com/sessions', headers: AS.admin });
    assert.equal(nobody.statusCode, 404);
  });
});
