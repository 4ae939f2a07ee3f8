// Rooms, occupants, affiliations and room messages against a real room worker process: every
// change goes to the room's actor as a command over its shard stream. Also: refusals mapped
// to 4xx, and a room nobody serves → 503 room-unavailable.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import { startRedis, startRoomWorker, type RedisServer, type RoomWorkerProcess } from '@parley/testkit';
import { AS, ScriptedRooms, testApp, testPrefix, type TestApp } from './support/harness.js';

let server: RedisServer;
let redis: Redis;
let t: TestApp;
let worker: RoomWorkerProcess;

before(async () => {
  server = await startRedis();
  redis = server.client();
  const prefix = testPrefix('rooms');
  t = await testApp(redis, server.url, { name: 'rooms', config: { 'redis.keyPrefix': prefix } });
  worker = await startRoomWorker({
    redisUrl: server.url,
    keyPrefix: prefix,
    env: { PARLEY_HOSTS: 'example.com,example.org', PARLEY_MUC_SHARDS: '4', PARLEY_LEASE_TTL_MS: '1000', PARLEY_ROOM_WORKER_HEARTBEAT_MS: '100' },
  });
});
after(async () => {
  await t?.close();
  await worker?.stop();
  await server?.stop();
});

const ROOM = 'lobby@conference.example.com';
const url = (suffix = '') => `/v1/rooms/${encodeURIComponent(ROOM)}${suffix}`;

async function eventually<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('rooms', () => {
  test('create by name: 201, Location, configured, unlocked, owners set', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/rooms',
      headers: AS.admin,
      payload: { name: 'Lobby', config: { name: 'The Lobby', membersOnly: true, maxUsers: 20 }, owners: ['Boss@example.com'] },
    });
    assert.equal(res.statusCode, 201, res.body);
    assert.equal(res.headers.location, url());
    const room = res.json();
    assert.equal(room.jid, ROOM);
    assert.equal(room.locked, false);
    assert.equal(room.config.name, 'The Lobby');
    assert.equal(room.config.membersOnly, true);
    assert.equal(room.config.maxUsers, 20);
    assert.equal(room.config.persistent, true);
    assert.deepEqual(room.affiliations, [{ jid: 'boss@example.com', affiliation: 'owner' }]);
    assert.deepEqual(room.occupants, []);
  });

  test('create an existing room: 409 conflict; neither or both of jid and name: 400', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/v1/rooms', headers: AS.admin, payload: { jid: ROOM } });
    assert.equal(res.statusCode, 409);
    assert.equal(res.json().error, 'conflict');
    for (const payload of [{}, { jid: ROOM, name: 'lobby' }]) {
      const bad = await t.app.inject({ method: 'POST', url: '/v1/rooms', headers: AS.admin, payload });
      assert.equal(bad.statusCode, 400);
      assert.equal(bad.json().error, 'validation');
    }
  });

  test('get; unknown room: 404 room-not-found', async () => {
    const res = await t.app.inject({ method: 'GET', url: url(), headers: AS.read });
    assert.equal(res.statusCode, 200);
    assert.equal(res.json().config.name, 'The Lobby');
    assert.ok('subject' in res.json());
    const missing = await t.app.inject({ method: 'GET', url: '/v1/rooms/nowhere@conference.example.com', headers: AS.read });
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json().error, 'room-not-found');
  });

  test('list from the directory, with filters and pagination', async () => {
    await t.app.inject({ method: 'POST', url: '/v1/rooms', headers: AS.admin, payload: { name: 'open', config: { public: true } } });
    await t.app.inject({ method: 'POST', url: '/v1/rooms', headers: AS.admin, payload: { name: 'hidden', config: { public: false } } });
    const all = await eventually('three rooms listed', async () => {
      const body = (await t.app.inject({ method: 'GET', url: '/v1/rooms', headers: AS.read })).json() as { items: { jid: string }[] };
      return body.items.length === 3 ? body : undefined;
    });
    assert.deepEqual(all.items.map((r) => r.jid), ['hidden@conference.example.com', 'lobby@conference.example.com', 'open@conference.example.com']);
    assert.deepEqual(all.items[1], { jid: ROOM, name: 'The Lobby', public: true, persistent: true, membersOnly: true, occupants: 0 });
    const hidden = (await t.app.inject({ method: 'GET', url: '/v1/rooms?public=false', headers: AS.read })).json();
    assert.deepEqual(hidden.items.map((r: { jid: string }) => r.jid), ['hidden@conference.example.com']);
    const members = (await t.app.inject({ method: 'GET', url: '/v1/rooms?membersOnly=true&q=lobby', headers: AS.read })).json();
    assert.equal(members.items.length, 1);
    const page = (await t.app.inject({ method: 'GET', url: '/v1/rooms?limit=2', headers: AS.read })).json();
    assert.equal(page.items.length, 2);
    const rest = (await t.app.inject({ method: 'GET', url: `/v1/rooms?limit=2&cursor=${page.next}`, headers: AS.read })).json();
    assert.deepEqual(rest.items.map((r: { jid: string }) => r.jid), ['open@conference.example.com']);
    assert.equal(rest.next, undefined);
  });

  test('configure: 200 with the new configuration; the body has the shape of POST (`config`), the flat form is refused', async () => {
    const res = await t.app.inject({ method: 'PATCH', url: url(), headers: AS.admin, payload: { config: { description: 'Front door', moderated: true } } });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().config.description, 'Front door');
    assert.equal(res.json().config.moderated, true);
    assert.equal(res.json().config.membersOnly, true, 'other fields unchanged');
    for (const payload of [{}, { config: {} }, { description: 'flat, as API 1.0 took it' }]) {
      const bad = await t.app.inject({ method: 'PATCH', url: url(), headers: AS.admin, payload });
      assert.equal(bad.statusCode, 400, JSON.stringify(payload));
      assert.equal(bad.json().error, 'validation');
    }
    const after = await t.app.inject({ method: 'GET', url: url(), headers: AS.read });
    assert.equal(after.json().config.description, 'Front door', 'a refused body changed nothing');
  });

  test('the room password: left out of GET, POST and PATCH answers unless ?secrets=true with an admin token', async () => {
    const set = await t.app.inject({ method: 'PATCH', url: url(), headers: AS.admin, payload: { config: { password: 'sesame' } } });
    assert.equal(set.statusCode, 200, set.body);
    assert.equal(set.json().config.passwordProtected, true);
    assert.ok(!('password' in set.json().config), set.body);
    for (const headers of [AS.read, AS.admin]) {
      const got = await t.app.inject({ method: 'GET', url: url(), headers });
      assert.equal(got.statusCode, 200);
      assert.equal(got.json().config.passwordProtected, true);
      assert.ok(!('password' in got.json().config), got.body);
      assert.ok(!got.body.includes('sesame'), got.body);
    }
    const asked = await t.app.inject({ method: 'GET', url: url('?secrets=true'), headers: AS.admin });
    assert.equal(asked.statusCode, 200);
    assert.equal(asked.json().config.password, 'sesame');
    const refused = await t.app.inject({ method: 'GET', url: url('?secrets=true'), headers: AS.read });
    assert.equal(refused.statusCode, 403);
    assert.equal(refused.json().error, 'forbidden');
    assert.ok(!refused.body.includes('sesame'));
    const patched = await t.app.inject({ method: 'PATCH', url: url('?secrets=true'), headers: AS.admin, payload: { config: { name: 'The Lobby' } } });
    assert.equal(patched.json().config.password, 'sesame');
    const created = await t.app.inject({ method: 'POST', url: '/v1/rooms', headers: AS.admin, payload: { name: 'vault', config: { password: 'hunter2' } } });
    assert.equal(created.statusCode, 201, created.body);
    assert.equal(created.json().config.passwordProtected, true);
    assert.ok(!created.body.includes('hunter2'), created.body);
    const cleared = await t.app.inject({ method: 'PATCH', url: url(), headers: AS.admin, payload: { config: { password: '' } } });
    assert.equal(cleared.json().config.passwordProtected, false);
    assert.equal((await t.app.inject({ method: 'DELETE', url: '/v1/rooms/vault@conference.example.com', headers: AS.admin })).statusCode, 204);
  });

  test('affiliations: set one, set many, list by type, refusal mapped', async () => {
    const one = await t.app.inject({ method: 'PUT', url: url(`/affiliations/${encodeURIComponent('Member@example.com')}`), headers: AS.admin, payload: { affiliation: 'member', nick: 'mem' } });
    assert.equal(one.statusCode, 204, one.body);
    const many = await t.app.inject({
      method: 'POST',
      url: url('/affiliations'),
      headers: AS.admin,
      payload: { items: [{ jid: 'adm@example.com', affiliation: 'admin' }, { jid: 'troll@example.org', affiliation: 'outcast', reason: 'spam' }] },
    });
    assert.equal(many.statusCode, 204, many.body);
    const all = (await t.app.inject({ method: 'GET', url: url('/affiliations'), headers: AS.read })).json() as { items: { jid: string; affiliation: string }[] };
    assert.deepEqual(all.items.map((a) => [a.jid, a.affiliation]), [
      ['adm@example.com', 'admin'], ['boss@example.com', 'owner'], ['member@example.com', 'member'], ['troll@example.org', 'outcast'],
    ]);
    const members = (await t.app.inject({ method: 'GET', url: url('/affiliations?affiliation=member'), headers: AS.read })).json();
    assert.deepEqual(members.items, [{ jid: 'member@example.com', affiliation: 'member', nick: 'mem' }]);
    // Removing the only owner is refused by the room.
    const last = await t.app.inject({ method: 'PUT', url: url('/affiliations/boss@example.com'), headers: AS.admin, payload: { affiliation: 'none' } });
    assert.ok([409, 400].includes(last.statusCode), last.body);
    assert.ok(['not-allowed', 'conflict', 'bad-request'].includes(last.json().error));
  });

  test('occupants: empty list; kicking or changing the role of an absent nick: 404', async () => {
    assert.deepEqual((await t.app.inject({ method: 'GET', url: url('/occupants'), headers: AS.read })).json(), { items: [] });
    const kick = await t.app.inject({ method: 'DELETE', url: url('/occupants/nobody?reason=bye'), headers: AS.admin });
    assert.equal(kick.statusCode, 404, kick.body);
    assert.equal(kick.json().error, 'item-not-found');
    const role = await t.app.inject({ method: 'PUT', url: url('/occupants/nobody/role'), headers: AS.admin, payload: { role: 'moderator' } });
    assert.equal(role.statusCode, 404);
    const badRole = await t.app.inject({ method: 'PUT', url: url('/occupants/nobody/role'), headers: AS.admin, payload: { role: 'none' } });
    assert.equal(badRole.statusCode, 400);
  });

  test('nicks named like Object.prototype members are ordinary absent nicks: 404 item-not-found', async () => {
    for (const nick of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      const kick = await t.app.inject({ method: 'DELETE', url: url(`/occupants/${encodeURIComponent(nick)}`), headers: AS.admin });
      assert.equal(kick.statusCode, 404, `${nick}: ${kick.body}`);
      assert.equal(kick.json().error, 'item-not-found');
      assert.equal(typeof kick.json().message, 'string');
      const role = await t.app.inject({ method: 'PUT', url: url(`/occupants/${encodeURIComponent(nick)}/role`), headers: AS.admin, payload: { role: 'visitor' } });
      assert.equal(role.statusCode, 404, `${nick}: ${role.body}`);
      assert.equal(role.json().error, 'item-not-found');
    }
    // The room still answers, with nothing changed.
    const room = await t.app.inject({ method: 'GET', url: url(), headers: AS.read });
    assert.equal(room.statusCode, 200, room.body);
    assert.deepEqual(room.json().occupants, []);
    assert.equal(({} as Record<string, unknown>).role, undefined, 'Object.prototype untouched in the API process');
  });

  test('a message from the room: 204', async () => {
    const res = await t.app.inject({ method: 'POST', url: url('/messages'), headers: AS.admin, payload: { body: 'welcome' } });
    assert.equal(res.statusCode, 204, res.body);
  });

  test('destroy with reason and alternate: 204, then 404', async () => {
    const res = await t.app.inject({ method: 'DELETE', url: `/v1/rooms/open@conference.example.com?reason=moved&alternate=${encodeURIComponent(ROOM)}`, headers: AS.admin });
    assert.equal(res.statusCode, 204, res.body);
    const gone = await t.app.inject({ method: 'GET', url: '/v1/rooms/open@conference.example.com', headers: AS.read });
    assert.equal(gone.statusCode, 404);
  });
});

describe('room command failures', () => {
  test('nobody serves the shard: 503 room-unavailable after adminApi.commandTimeoutMs', async () => {
    const lonely = await testApp(redis, server.url, { name: 'rooms-none', config: { 'adminApi.commandTimeoutMs': 200 } });
    try {
      const started = Date.now();
      const res = await lonely.app.inject({ method: 'GET', url: url(), headers: AS.read });
      assert.equal(res.statusCode, 503);
      assert.equal(res.json().error, 'room-unavailable');
      assert.ok(Date.now() - started < 3000);
    } finally {
      await lonely.close();
    }
  });

  test('refusals map to 400/404/409', async () => {
    const codes = { 'bad-request': [400, 'bad-request'], conflict: [409, 'conflict'], 'not-allowed': [409, 'not-allowed'], 'item-not-found': [404, 'room-not-found'] } as const;
    for (const [condition, [status, code]] of Object.entries(codes)) {
      const rooms = new ScriptedRooms(() => ({ ok: false, error: condition as keyof typeof codes, message: `refused: ${condition}` }));
      const app = await testApp(redis, server.url, { name: 'rooms-refuse', deps: { rooms } });
      try {
        const res = await app.app.inject({ method: 'PATCH', url: url(), headers: AS.admin, payload: { config: { name: 'x' } } });
        assert.equal(res.statusCode, status, condition);
        assert.deepEqual(res.json(), { error: code, message: `refused: ${condition}`, details: { room: ROOM, op: 'configure', condition } });
      } finally {
        await app.close();
      }
    }
  });
});
