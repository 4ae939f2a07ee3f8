// XEP-0317 hats through the admin API, against a real room worker process: set, list, take
// off, and the refusals (4xx JSON errors) of the room and of the schemas.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import { startRedis, startRoomWorker, type RedisServer, type RoomWorkerProcess } from '@parley/testkit';
import { AS, testApp, testPrefix, type TestApp } from './support/harness.js';

let server: RedisServer;
let redis: Redis;
let t: TestApp;
let worker: RoomWorkerProcess;

before(async () => {
  server = await startRedis();
  redis = server.client();
  const prefix = testPrefix('hats');
  t = await testApp(redis, server.url, { name: 'hats', config: { 'redis.keyPrefix': prefix } });
  worker = await startRoomWorker({
    redisUrl: server.url,
    keyPrefix: prefix,
    env: {
      PARLEY_HOSTS: 'example.com',
      PARLEY_MUC_SHARDS: '4',
      PARLEY_LEASE_TTL_MS: '1000',
      PARLEY_ROOM_WORKER_HEARTBEAT_MS: '100',
      PARLEY_MUC_MAX_HATS_PER_USER: '3',
    },
  });
});
after(async () => {
  await t?.close();
  await worker?.stop();
  await server?.stop();
});

const ROOM = 'hatroom@conference.example.com';
const url = (suffix = '') => `/v1/rooms/${encodeURIComponent(ROOM)}${suffix}`;
const HOST = { uri: 'http://schemas.example.com/hosting', title: 'Host', hue: 210 };
const SPEAKER = { uri: 'urn:example:speaker', title: 'Speaker' };

describe('hats (XEP-0317)', () => {
  test('set, list (also in the room), replace, take off one and all', async () => {
    const created = await t.app.inject({ method: 'POST', url: '/v1/rooms', headers: AS.admin, payload: { jid: ROOM, owners: ['boss@example.com'] } });
    assert.equal(created.statusCode, 201, created.body);
    const member = await t.app.inject({ method: 'PUT', url: url('/affiliations/Alice@example.com'), headers: AS.admin, payload: { affiliation: 'member' } });
    assert.equal(member.statusCode, 204, member.body);

    const put = await t.app.inject({ method: 'PUT', url: url('/hats/Alice@example.com'), headers: AS.admin, payload: { hats: [HOST, SPEAKER] } });
    assert.equal(put.statusCode, 204, put.body);
    const list = await t.app.inject({ method: 'GET', url: url('/hats'), headers: AS.read });
    assert.equal(list.statusCode, 200);
    assert.deepEqual(list.json(), { items: [{ jid: 'alice@example.com', hats: [HOST, SPEAKER] }] });
    const room = await t.app.inject({ method: 'GET', url: url(), headers: AS.read });
    assert.deepEqual(room.json().hats, [{ jid: 'alice@example.com', hats: [HOST, SPEAKER] }]);

    await t.app.inject({ method: 'PUT', url: url('/hats/boss@example.com'), headers: AS.admin, payload: { hats: [SPEAKER] } });
    const two = await t.app.inject({ method: 'GET', url: url('/hats?limit=1'), headers: AS.read });
    assert.deepEqual(two.json().items, [{ jid: 'alice@example.com', hats: [HOST, SPEAKER] }]);
    const next = await t.app.inject({ method: 'GET', url: url(`/hats?limit=1&cursor=${two.json().next}`), headers: AS.read });
    assert.deepEqual(next.json(), { items: [{ jid: 'boss@example.com', hats: [SPEAKER] }] });

    const one = await t.app.inject({ method: 'DELETE', url: url(`/hats/alice@example.com?uri=${encodeURIComponent(HOST.uri)}`), headers: AS.admin });
    assert.equal(one.statusCode, 204, one.body);
    const again = await t.app.inject({ method: 'DELETE', url: url('/hats/alice@example.com'), headers: AS.admin, payload: { uri: HOST.uri } });
    assert.equal(again.statusCode, 404);
    assert.equal(again.json().error, 'item-not-found');
    const all = await t.app.inject({ method: 'DELETE', url: url('/hats/alice@example.com'), headers: AS.admin });
    assert.equal(all.statusCode, 204);
    const none = await t.app.inject({ method: 'DELETE', url: url('/hats/alice@example.com'), headers: AS.admin });
    assert.equal(none.statusCode, 404);
    const left = await t.app.inject({ method: 'GET', url: url('/hats'), headers: AS.read });
    assert.deepEqual(left.json(), { items: [{ jid: 'boss@example.com', hats: [SPEAKER] }] });
  });

  test('refusals: unaffiliated 409, beyond muc.maxHatsPerUser or malformed 400, unknown room 404, read token 403', async () => {
    const cases: Array<[string, unknown, number, string]> = [
      ['/hats/stranger@example.com', { hats: [SPEAKER] }, 409, 'not-allowed'],
      ['/hats/boss@example.com', { hats: [1, 2, 3, 4].map((i) => ({ uri: `urn:h:${i}`, title: `H${i}` })) }, 400, 'bad-request'],
      ['/hats/boss@example.com', { hats: [{ uri: 'no scheme', title: 'T' }] }, 400, 'bad-request'],
      ['/hats/boss@example.com', { hats: [SPEAKER, SPEAKER] }, 400, 'bad-request'],
      ['/hats/boss@example.com', { hats: [{ uri: 'urn:h', title: 'é'.repeat(200) }] }, 400, 'bad-request'],
      ['/hats/boss@example.com', { hats: [{ uri: 'urn:h', title: 'T', hue: 400 }] }, 400, 'validation'],
      ['/hats/boss@example.com', { hats: [{ uri: 'urn:h', title: 'T', hue: 360 }] }, 400, 'bad-request'],
      ['/hats/boss@example.com', { hats: [{ uri: 'urn:h', title: 'T', extra: 1 }] }, 400, 'validation'],
      ['/hats/boss@example.com', {}, 400, 'validation'],
      ['/hats/not%20a%20jid@', { hats: [] }, 400, 'invalid-jid'],
      ['/hats/boss@example.com%2Fres', { hats: [] }, 400, 'invalid-jid'],
    ];
    for (const [suffix, payload, status, error] of cases) {
      const res = await t.app.inject({ method: 'PUT', url: url(suffix), headers: AS.admin, payload: payload as object });
      assert.equal(res.statusCode, status, `${suffix} ${JSON.stringify(payload).slice(0, 60)}: ${res.body}`);
      assert.equal(res.json().error, error, res.body);
      assert.equal(typeof res.json().message, 'string');
    }
    const unchanged = await t.app.inject({ method: 'GET', url: url('/hats'), headers: AS.read });
    assert.deepEqual(unchanged.json(), { items: [{ jid: 'boss@example.com', hats: [SPEAKER] }] }, 'refusals changed nothing');
    const missing = await t.app.inject({ method: 'PUT', url: '/v1/rooms/nowhere@conference.example.com/hats/boss@example.com', headers: AS.admin, payload: { hats: [] } });
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json().error, 'room-not-found');
    const readOnly = await t.app.inject({ method: 'PUT', url: url('/hats/boss@example.com'), headers: AS.read, payload: { hats: [] } });
    assert.equal(readOnly.statusCode, 403);
  });
});
