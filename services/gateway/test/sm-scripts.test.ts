// The Lua scripts behind XEP-0198 resumption after the holding gateway died (issue #13),
// against a real redis-server: adoption by a reaper (compare-and-set), the queueing of a
// dead gateway's delivery entries without repeating those it had queued itself (`did`), the
// claim (refused while the reaper still queues, then everything at once) and the end of
// the window (one caller wins; a claimed session is not ended).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { keySpace, type SessionRecord } from '@parley/bus';
import { startRedis, type RedisServer } from '@parley/testkit';
import { defineScripts, type ScriptedRedis } from '../src/routing/scripts.js';

const keys = keySpace(`smscripts:${randomBytes(3).toString('hex')}:`);
let server: RedisServer;
let redis: ScriptedRedis;

before(async () => {
  server = await startRedis();
  redis = defineScripts(new Redis(server.url));
});

after(async () => {
  redis.disconnect();
  await server.stop();
});

const BARE = 'ann@localhost';
const RES = 'phone';
const record = (gateway: string, extra: Partial<SessionRecord> = {}): string =>
  JSON.stringify({ gateway, sessionId: 's1', available: true, priority: 0, since: 1, transport: 'tcp', sm: 'id1', ...extra });

async function setUp(smId: string): Promise<{ state: string; queue: string; rooms: string; sessions: string }> {
  const k = { state: keys.smState(BARE, smId), queue: keys.smQueue(BARE, smId), rooms: keys.smRooms(BARE, smId), sessions: keys.userSessions(BARE) };
  await redis.del(k.state, k.queue, k.rooms, k.sessions);
  await redis.hset(k.sessions, RES, record('gwA'));
  await redis.hset(k.state, { sid: 's1', res: RES, gw: 'gwA', h: '7', acked: '3', win: '300', det: '', did: '100-0' });
  await redis.rpush(k.queue, '{"x":"<message><body>1</body></message>","t":1}');
  await redis.sadd(k.rooms, 'r@conference.localhost');
  return k;
}

test('adoption, queueing without repeats, claim after the reap, and no end for a claimed session', async () => {
  const k = await setUp('id1');
  const raw = (await redis.hget(k.sessions, RES))!;
  // Compare-and-set: a stale record or another holder is refused.
  assert.equal(await redis.smOrphan(k.sessions, k.state, RES, 'stale', record('gwR', { detached: 5 }), 'gwA', 'gwR', 5), 0);
  assert.equal(await redis.smOrphan(k.sessions, k.state, RES, raw, record('gwR', { detached: 5 }), 'gwX', 'gwR', 5), 0);
  assert.equal(await redis.smOrphan(k.sessions, k.state, RES, raw, record('gwR', { detached: 5 }), 'gwA', 'gwR', 5), 1);
  assert.equal(JSON.parse((await redis.hget(k.sessions, RES))!).gateway, 'gwR');
  assert.deepEqual(await redis.hmget(k.state, 'gw', 'orphan', 'reaping', 'det'), ['gwR', '1', '1', '5']);
  // The dead gateway's entries: 99-5 and 100-0 were queued by it already; 100-1 was not.
  assert.equal(await redis.smAppend(k.state, k.queue, 'gwR', 'old', '99-5'), -1);
  assert.equal(await redis.smAppend(k.state, k.queue, 'gwR', 'same', '100-0'), -1);
  assert.equal(await redis.smAppend(k.state, k.queue, 'gwR', '{"x":"<message><body>2</body></message>","t":2}', '100-1'), 2);
  assert.equal(await redis.smAppend(k.state, k.queue, 'gwR', 'again', '100-1'), -1, 'a repeated reap queues nothing twice');
  assert.equal(await redis.smAppend(k.state, k.queue, 'gwOther', 'x', ''), 0, 'only the holder queues');
  assert.equal(await redis.smAppend(k.state, k.queue, 'gwR', '{"x":"<message><body>3</body></message>","t":3}', ''), 3);
  // Not claimable while the reaper still queues.
  const cur = (await redis.hget(k.sessions, RES))!;
  const mine = record('gwB');
  assert.equal(await redis.smClaim(k.sessions, k.state, k.queue, k.rooms, RES, cur, mine, 'gwR', 'gwB'), null);
  await redis.hdel(k.state, 'reaping');
  assert.equal(await redis.smClaim(k.sessions, k.state, k.queue, k.rooms, RES, 'stale', mine, 'gwR', 'gwB'), null, 'compare-and-set');
  const got = await redis.smClaim(k.sessions, k.state, k.queue, k.rooms, RES, cur, mine, 'gwR', 'gwB');
  assert.ok(got);
  const [h, acked, win, items, rooms] = got;
  assert.deepEqual([h, acked, win], ['7', '3', '300']);
  assert.deepEqual(items.map((i) => (JSON.parse(i) as { x: string }).x), ['<message><body>1</body></message>', '<message><body>2</body></message>', '<message><body>3</body></message>']);
  assert.deepEqual(rooms, ['r@conference.localhost']);
  assert.equal(await redis.hget(k.sessions, RES), mine);
  assert.deepEqual(await redis.hmget(k.state, 'gw', 'orphan'), ['gwB', null]);
  // Claimed: the sweep's end script leaves it alone, and a second claim fails.
  assert.equal(await redis.smEnd(k.sessions, k.state, k.queue, k.rooms, RES), null);
  assert.equal(await redis.smClaim(k.sessions, k.state, k.queue, k.rooms, RES, mine, mine, 'gwR', 'gwC'), null);
  assert.equal(await redis.hget(k.sessions, RES), mine);
});

test('the end of an orphan removes it all at once, for one caller only', async () => {
  const k = await setUp('id2');
  const raw = (await redis.hget(k.sessions, RES))!;
  assert.equal(await redis.smOrphan(k.sessions, k.state, RES, raw, record('gwR', { detached: 5 }), 'gwA', 'gwR', 5), 1);
  const ended = await redis.smEnd(k.sessions, k.state, k.queue, k.rooms, RES);
  assert.ok(ended);
  const [removed, holder, sid, items, rooms] = ended;
  assert.equal(JSON.parse(removed).gateway, 'gwR');
  assert.deepEqual([holder, sid, items.length, rooms], ['gwR', 's1', 1, ['r@conference.localhost']]);
  assert.equal(await redis.exists(k.state, k.queue, k.rooms), 0);
  assert.equal(await redis.hget(k.sessions, RES), null);
  assert.equal(await redis.smEnd(k.sessions, k.state, k.queue, k.rooms, RES), null, 'a second sweeper gets nothing');
  // A newer session bound to the resource meanwhile keeps its record.
  const k3 = await setUp('id3');
  const raw3 = (await redis.hget(k3.sessions, RES))!;
  assert.equal(await redis.smOrphan(k3.sessions, k3.state, RES, raw3, record('gwR'), 'gwA', 'gwR', 5), 1);
  const newer = record('gwB', { sessionId: 's2' });
  await redis.hset(k3.sessions, RES, newer);
  const e3 = await redis.smEnd(k3.sessions, k3.state, k3.queue, k3.rooms, RES);
  assert.equal(e3?.[0], '', 'no record removed');
  assert.equal(await redis.hget(k3.sessions, RES), newer);
});
