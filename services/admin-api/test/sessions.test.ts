// /v1/sessions and /v1/users/{jid}/sessions: listing (cluster-wide with filters and
// pagination, one user's) and kicks (a `kick` envelope to the holding gateway, which ends
// the session with the stream error); /v1/messages to online sessions, and stored offline
// for an account with none (RFC 6121 §8.5.2.2.1), archived for the account (XEP-0313) with its
// stanza-id in the delivered and the stored copy.
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

  test('send a message to a full JID: only that session; an unbound resource: as to the bare JID unless headline', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/v1/messages', headers: AS.admin, payload: { to: 'dave@example.org/x', body: 'hi', subject: 'S' } });
    assert.equal(res.json().delivered, 1);
    const b = (await deliveries(redis, t.keys, 'gw-b')).filter((e) => e.kind === 'stanza' && e.to === 'dave@example.org/x');
    assert.match(b[0]!.xml!, /<subject>S<\/subject><body>hi<\/body>/);
    // RFC 6121 §8.5.3.2.1: normal/chat to an unbound resource are handled as if to the bare JID.
    const other = await t.app.inject({ method: 'POST', url: '/v1/messages', headers: AS.admin, payload: { to: 'dave@example.org/other', body: 'rerouted', type: 'chat' } });
    assert.equal(other.statusCode, 200, other.body);
    assert.equal(other.json().delivered, 1);
    const rerouted = (await deliveries(redis, t.keys, 'gw-b')).filter((e) => e.kind === 'stanza' && e.xml!.includes('rerouted'));
    assert.equal(rerouted[0]?.to, 'dave@example.org/x');
    // XEP-0313 §3.5: a chat delivered online is archived too, its stanza-id the archive id (a headline is not).
    const delivered = /<stanza-id xmlns="urn:xmpp:sid:0" by="dave@example.org" id="([0-9a-f-]{36})"\/>/.exec(rerouted[0]!.xml!);
    assert.ok(delivered, rerouted[0]!.xml);
    assert.ok(await redis.hget(t.keys.mamArchiveIndex('dave@example.org'), delivered[1]!), 'in the archive under that id');
    assert.equal(await redis.xlen(t.keys.mamArchive('alice@example.com')), 0, 'the headline to alice was not archived');
    const headline = await t.app.inject({ method: 'POST', url: '/v1/messages', headers: AS.admin, payload: { to: 'dave@example.org/other', body: 'hi', type: 'headline' } });
    assert.equal(headline.statusCode, 404);
    assert.equal(headline.json().error, 'recipient-unavailable');
  });

  test('an account with no online session: normal and chat stored offline (202), headline not (404), unknown account 404', async () => {
    const offlineOf = async (bare: string) => redis.lrange(t.keys.offline(bare), 0, -1);
    assert.deepEqual(await offlineOf('carol@example.com'), []);
    for (const type of ['normal', 'chat'] as const) {
      const res = await t.app.inject({ method: 'POST', url: '/v1/messages', headers: AS.admin, payload: { to: 'carol@example.com', body: `kept ${type} <1>`, type } });
      assert.equal(res.statusCode, 202, res.body);
      assert.equal(res.json().stored, 'offline');
      assert.match(res.json().id, /^[0-9a-f-]{36}$/);
    }
    const stored = await offlineOf('carol@example.com');
    assert.equal(stored.length, 2);
    // As the gateways store it (the same OfflineStore): to, from the host, a XEP-0203 delay stamp.
    assert.match(stored[0]!, /^<message [^>]*from="example.com"/);
    assert.match(stored[0]!, /to="carol@example.com"/);
    assert.match(stored[0]!, /type="normal"/);
    // XEP-0313 §3.5, as the gateways' router: archived for the account, the stored copy names the archive entry.
    const sid = /<body>kept normal &lt;1&gt;<\/body><stanza-id xmlns="urn:xmpp:sid:0" by="carol@example.com" id="([0-9a-f-]{36})"\/><delay xmlns="urn:xmpp:delay" from="example.com" stamp="\d{4}-\d\d-\d\dT[0-9:.]+Z"\/><\/message>$/.exec(stored[0]!);
    assert.ok(sid, stored[0]);
    assert.match(stored[1]!, /type="chat"/);
    const archive = await redis.xrange(t.keys.mamArchive('carol@example.com'), '-', '+');
    assert.equal(archive.length, 2, 'both archived');
    const fields = (e: [string, string[]]) => new Map(e[1].reduce<[string, string][]>((acc, v, i, a) => (i % 2 === 0 ? [...acc, [v, a[i + 1]!]] : acc), []));
    const first = fields(archive[0]!);
    assert.equal(first.get('s'), sid[1], 'the archive id is the stored copy\'s stanza-id');
    assert.equal(first.get('w'), 'example.com', 'archived as from the server');
    assert.match(first.get('x')!, /<body>kept normal &lt;1&gt;<\/body>/);
    assert.equal(await redis.hget(t.keys.mamArchiveIndex('carol@example.com'), sid[1]!), archive[0]![0]);
    assert.equal(await redis.hget(t.keys.offlineQuota('carol@example.com'), 'n:example.com'), '2', 'counted against the per-sender quota');
    // A full JID of an account with nobody online is stored for the account too.
    const full = await t.app.inject({ method: 'POST', url: '/v1/messages', headers: AS.admin, payload: { to: 'carol@example.com/gone', body: 'to a resource' } });
    assert.equal(full.statusCode, 202, full.body);
    assert.equal((await offlineOf('carol@example.com')).length, 3);

    const headline = await t.app.inject({ method: 'POST', url: '/v1/messages', headers: AS.admin, payload: { to: 'carol@example.com', body: 'news', type: 'headline' } });
    assert.equal(headline.statusCode, 404);
    assert.equal(headline.json().error, 'recipient-unavailable');
    const unknown = await t.app.inject({ method: 'POST', url: '/v1/messages', headers: AS.admin, payload: { to: 'nobody@example.com', body: 'hi' } });
    assert.equal(unknown.statusCode, 404);
    assert.equal(unknown.json().error, 'user-not-found');
    assert.equal((await offlineOf('carol@example.com')).length, 3, 'neither was stored');
    assert.equal(await redis.xlen(t.keys.mamArchive('carol@example.com')), 3, 'the headline was not archived');
    assert.equal(await redis.exists(t.keys.offline('nobody@example.com')), 0);
  });

  test('offline storage: a full quota is 507 offline-storage-full; offline.enabled=false stores nothing (404)', async () => {
    const tight = await testApp(redis, server.url, { name: 'sessions-quota', config: { 'offline.maxMessagesPerSender': 1 } });
    const off = await testApp(redis, server.url, { name: 'sessions-off', config: { 'offline.enabled': false } });
    try {
      for (const app of [tight, off]) await app.accounts.create('erin@example.com', 'pw');
      const send = (app: TestApp) => app.app.inject({ method: 'POST', url: '/v1/messages', headers: AS.admin, payload: { to: 'erin@example.com', body: 'hi' } });
      assert.equal((await send(tight)).statusCode, 202);
      const full = await send(tight);
      assert.equal(full.statusCode, 507, full.body);
      assert.equal(full.json().error, 'offline-storage-full');
      assert.deepEqual(full.json().details, { quota: 'sender-messages' });
      assert.equal(await redis.llen(tight.keys.offline('erin@example.com')), 1);
      const disabled = await send(off);
      assert.equal(disabled.statusCode, 404);
      assert.equal(disabled.json().error, 'recipient-unavailable');
      assert.equal(await redis.exists(off.keys.offline('erin@example.com')), 0);
    } finally {
      await tight.close();
      await off.close();
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
