// XEP-0313 room archives in Redis (commit-shard-n.lua's archive section and
// archive-store.ts's readArchivePage), on a real redis-server: appends in order with
// increasing stream ids even when the clock goes back, the bound on entries and on age
// (trimming the id index alike), reset on destroy, and RSM paging with ids and time.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { encodeRoomInput, keySpace } from '@parley/bus';
import type { ArchiveEntry, ArchiveQuery } from '@parley/muc';
import { startRedis, type RedisServer } from '@parley/testkit';
import { defineScripts, type ScriptedRedis } from '../src/redis-scripts.js';
import { readArchivePage } from '../src/shard/archive-store.js';
import { commitTurn } from '../src/shard/shard-store.js';
import type { ArchiveChange, TurnResult } from '../src/shard/shard-actor.js';
import { testPrefix } from './support/harness.js';

const ROOM = 'arch@conference.localhost';
const SHARD = 3;
const T0 = Date.UTC(2026, 0, 1);

let server: RedisServer;
let redis: ScriptedRedis;
const keys = keySpace(testPrefix('archive-store'));
let token = '';

before(async () => {
  server = await startRedis();
  redis = defineScripts(new Redis(server.url));
  token = String(await redis.acquireLease(keys.shardLease(SHARD), keys.shardFence(SHARD), 'w1', 60_000));
});
after(async () => {
  await redis.quit();
  await server.stop();
});

const entry = (id: string, at: number, nick = 'n'): ArchiveEntry => ({ id, at, xml: `<message from="${ROOM}/${nick}" type="groupchat"><body>${id}</body></message>`, nick, jid: `${nick}@localhost` });

let commits = 0;
async function commit(change: Partial<ArchiveChange>): Promise<void> {
  const id = (await redis.xadd(keys.shardStream(SHARD), '*', ...encodeRoomInput({ kind: 'gateway-down', gateway: 'none' }))) as string;
  const archive = new Map([[ROOM, { reset: false, append: [], retract: [], maxEntries: 0, minAt: 0, ...change }]]);
  const turn: TurnResult = { cursor: id, commit: ++commits, applied: 1, outputs: [], roomWrites: new Map(), history: new Map(), replies: [], archive };
  assert.equal(await commitTurn(redis, keys, SHARD, `w1 ${token}`, turn), 'ok');
}

const q = (over: Partial<ArchiveQuery> = {}): ArchiveQuery => ({ room: ROOM, to: 'u@localhost/r', route: { gatewayId: 'g', sessionId: 's' }, iqId: 'i', max: 50, realJids: false, enabled: true, ...over });
const limits = { now: T0 + 60_000, maxAgeMs: 0 };
async function ids(over: Partial<ArchiveQuery> = {}): Promise<string[]> {
  const page = await readArchivePage(redis, keys, SHARD, q(over), limits);
  assert.notEqual(page, 'item-not-found');
  return (page as Exclude<typeof page, string>).entries.map((e) => e.id);
}

describe('room archive store', () => {
  it('appends in order, with increasing stream ids when the clock goes back, and pages with RSM', async () => {
    await commit({ reset: true, append: [entry('a', T0), entry('b', T0 + 1000), entry('c', T0 + 500)] });
    await commit({ append: [entry('d', T0 + 2000, 'm'), entry('e', T0 + 3000)] });
    const streamIds = (await redis.xrange(keys.roomArchive(SHARD, ROOM), '-', '+')).map(([id]) => id);
    assert.deepEqual(streamIds, [`${T0}-0`, `${T0 + 1000}-0`, `${T0 + 1000}-1`, `${T0 + 2000}-0`, `${T0 + 3000}-0`]);
    assert.equal(await redis.hget(keys.roomArchiveIndex(SHARD, ROOM), 'c'), `${T0 + 1000}-1`);
    assert.deepEqual(await ids(), ['a', 'b', 'c', 'd', 'e']);
    assert.deepEqual(await ids({ max: 2 }), ['a', 'b']);
    assert.deepEqual(await ids({ max: 2, after: 'b' }), ['c', 'd']);
    assert.deepEqual(await ids({ max: 2, before: '' }), ['d', 'e']);
    assert.deepEqual(await ids({ max: 2, before: 'c' }), ['a', 'b']);
    assert.deepEqual(await ids({ start: T0 + 1000, end: T0 + 2000 }), ['b', 'c', 'd']);
    assert.deepEqual(await ids({ withNick: 'm' }), ['d']);
    assert.deepEqual(await ids({ withJid: 'n@localhost', max: 3, before: '' }), ['b', 'c', 'e']);
    const full = await readArchivePage(redis, keys, SHARD, q({ max: 2, after: 'c' }), limits);
    assert.ok(full !== 'item-not-found');
    assert.equal(full.complete, true);
    assert.equal(full.count, 5);
    const partial = await readArchivePage(redis, keys, SHARD, q({ max: 2 }), limits);
    assert.ok(partial !== 'item-not-found');
    assert.equal(partial.complete, false);
    assert.equal(await readArchivePage(redis, keys, SHARD, q({ after: 'zzz' }), limits), 'item-not-found');
    const off = await readArchivePage(redis, keys, SHARD, q({ enabled: false }), limits);
    assert.deepEqual(off, { entries: [], complete: true, count: 0 });
  });

  it('trims to the bound on entries and on age, removing trimmed ids from the index', async () => {
    await commit({ append: [entry('f', T0 + 4000)], maxEntries: 4 });
    assert.deepEqual(await ids(), ['c', 'd', 'e', 'f']);
    assert.equal(await redis.hlen(keys.roomArchiveIndex(SHARD, ROOM)), 4);
    assert.equal(await redis.hexists(keys.roomArchiveIndex(SHARD, ROOM), 'a'), 0);
    await commit({ append: [entry('g', T0 + 5000)], minAt: T0 + 2500 });
    assert.deepEqual(await ids(), ['e', 'f', 'g']);
    assert.equal(await redis.hlen(keys.roomArchiveIndex(SHARD, ROOM)), 3);
    // Left out at query time too, before the next commit trims them.
    const aged = await readArchivePage(redis, keys, SHARD, q(), { now: T0 + 4500, maxAgeMs: 1000 });
    assert.ok(aged !== 'item-not-found');
    assert.deepEqual(aged.entries.map((e) => e.id), ['f', 'g']);
  });

  it('deletes the archive and its index on reset (a destroyed room)', async () => {
    await commit({ reset: true });
    assert.equal(await redis.exists(keys.roomArchive(SHARD, ROOM), keys.roomArchiveIndex(SHARD, ROOM)), 0);
    assert.deepEqual(await ids(), []);
  });
});
