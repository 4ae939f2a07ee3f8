// Persistent rooms survive every worker stopping; temporary rooms go with their last
// occupant; occupants on gateways that died while no worker ran are removed at load.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { keySpace, orderStoredOccupants, shardForRoom } from '@parley/bus';
import { startRedis, type RedisServer } from '@parley/testkit';
import { RoomWorker } from '../src/room-worker.js';
import { bodiesFor, committedThrough, configure, gatewayView, groupchat, join, leave, markGatewaysLive, MUC, send, session } from './support/fake-cluster.js';
import { memoryLogger, testConfig, testPrefix } from './support/harness.js';

const SHARDS = 4;
const KEEP = `keep@${MUC}`;
const TEMP = `temp@${MUC}`;
const CLEAN = `cleanup@${MUC}`;
const shardOf = (room: string) => shardForRoom(room, SHARDS);
let server: RedisServer;
let redis: Redis;
const prefix = testPrefix('persistence');
const keys = keySpace(prefix);
const alice = session('alice@localhost/a', 'gA');
const bob = session('bob@localhost/b', 'gB');
const PERSISTENT = { 'muc#roomconfig_persistentroom': '1' };

/** Runs one worker until `room`'s shard has committed `id`, then stops it; returns its log lines. */
async function runWorkerUntil(room: string, id: string, workerId = 'w1'): Promise<Record<string, unknown>[]> {
  const { log, lines } = memoryLogger();
  const w = new RoomWorker(testConfig(server.url, prefix, { 'roomWorker.id': workerId, 'muc.shards': SHARDS, 'gateway.deadAfterMs': 600_000 }), log);
  await w.start();
  try {
    await committedThrough(redis, keys, shardOf(room), id);
  } finally {
    await w.stop();
  }
  return lines;
}

/** The stored room JSON, with its occupants (from its occupants hash) by shown nick. */
const stored = async (room: string) => {
  const raw = await redis.hget(keys.shardRooms(shardOf(room)), room);
  if (!raw) return undefined;
  const list = orderStoredOccupants(await redis.hvals(keys.roomOccupants(shardOf(room), room))).occupants;
  const occupants = Object.fromEntries(list.map((o) => [(o.occupant as { nick: string }).nick, o.occupant]));
  return { ...(JSON.parse(raw) as { history: unknown[]; config: { persistent: boolean } }), occupants };
};

before(async () => {
  server = await startRedis();
  redis = server.client();
  await markGatewaysLive(redis, keys, ['gA', 'gB']);
});
after(async () => {
  await server.stop();
});

describe('persistence', () => {
  it('a temporary room disappears with its last occupant; a persistent one stays', async () => {
    await send(redis, keys, SHARDS, alice, KEEP, join(alice, KEEP, 'Alice'));
    await send(redis, keys, SHARDS, alice, KEEP, configure(alice, KEEP, PERSISTENT));
    const said = await send(redis, keys, SHARDS, alice, KEEP, groupchat(alice, KEEP, 'remember-me'));
    await send(redis, keys, SHARDS, bob, TEMP, join(bob, TEMP, 'Bob'));
    const tempUp = await send(redis, keys, SHARDS, bob, TEMP, configure(bob, TEMP));
    await runWorkerUntil(KEEP, said);
    await runWorkerUntil(TEMP, tempUp);
    assert.ok(await stored(TEMP), 'the temporary room exists while occupied');
    assert.ok(await redis.hget(keys.roomDirectory(), TEMP), 'and is in the directory');
    assert.equal((await stored(KEEP))?.config.persistent, true);

    const keepLeft = await send(redis, keys, SHARDS, alice, KEEP, leave(alice, KEEP, 'Alice'));
    const tempLeft = await send(redis, keys, SHARDS, bob, TEMP, leave(bob, TEMP, 'Bob'));
    await runWorkerUntil(KEEP, keepLeft);
    await runWorkerUntil(TEMP, tempLeft);
    assert.equal(await stored(TEMP), undefined, 'the temporary room is gone');
    assert.equal(await redis.exists(keys.roomOccupants(shardOf(TEMP), TEMP)), 0, 'its occupants hash too');
    assert.equal(await redis.hget(keys.roomDirectory(), TEMP), null, 'and out of the directory');
    const keep = await stored(KEEP);
    assert.ok(keep, 'the persistent room stays');
    assert.deepEqual(keep.occupants, {});
    assert.deepEqual(keep.history, [], 'stored without history...');
    assert.equal(await redis.llen(keys.roomHistory(shardOf(KEEP), KEEP)), 1, '...which is in its own list');
  });

  it('a persistent room is loaded again by a new worker, history included', async () => {
    const rejoin = await send(redis, keys, SHARDS, alice, KEEP, join(alice, KEEP, 'Alice2'));
    const lines = await runWorkerUntil(KEEP, rejoin, 'w2');
    const acquired = lines.find((l) => l['msg'] === 'shard acquired' && l['shard'] === shardOf(KEEP));
    assert.ok(acquired, 'shard acquired is logged');
    assert.equal(typeof acquired['loadMs'], 'number');
    assert.ok((acquired['rooms'] as number) >= 1);
    const received = (await gatewayView(redis, keys, 'gA')).accepted.filter((r) => r.to === alice.jid);
    const sinceRejoin = received.slice(received.findIndex((r) => r.xml.includes(`${KEEP}/Alice2`)));
    assert.ok(received.some((r) => r.xml.includes('remember-me') && r.xml.includes('urn:xmpp:delay')), 'the history is sent on join, with a delay (XEP-0045 §7.2.15)');
    assert.ok(!sinceRejoin.some((r) => r.xml.includes('status code="201"')), 'the room was not created anew');
    assert.deepEqual(bodiesFor(received, alice.jid).filter((b) => b === 'remember-me').length, 2, 'once live, once as history');
  });

  it('occupants on gateways that died while no worker ran are removed when the shard is loaded', async () => {
    await send(redis, keys, SHARDS, alice, CLEAN, join(alice, CLEAN, 'Alice'));
    await send(redis, keys, SHARDS, alice, CLEAN, configure(alice, CLEAN, PERSISTENT));
    const bobIn = await send(redis, keys, SHARDS, bob, CLEAN, join(bob, CLEAN, 'Bob'));
    await runWorkerUntil(CLEAN, bobIn);
    assert.deepEqual(Object.keys((await stored(CLEAN))!.occupants).sort(), ['Alice', 'Bob']);

    await redis.zrem(keys.gateways(), 'gB'); // gB died (and was reaped) while no worker ran
    const gBBefore = await redis.xlen(keys.gatewayDelivery('gB'));
    const gABefore = (await gatewayView(redis, keys, 'gA')).accepted.length;
    const { log, lines } = memoryLogger();
    const w = new RoomWorker(testConfig(server.url, prefix, { 'roomWorker.id': 'w3', 'muc.shards': SHARDS, 'gateway.deadAfterMs': 600_000 }), log);
    await w.start();
    try {
      await waitFor(async () => Object.keys((await stored(CLEAN))?.occupants ?? {}).join() === 'Alice');
    } finally {
      await w.stop();
    }
    const cleanup = lines.find((l) => l['msg'] === 'removing occupants of gateways that are gone' && l['shard'] === shardOf(CLEAN));
    assert.deepEqual(cleanup?.['gateways'], ['gB']);
    const news = (await gatewayView(redis, keys, 'gA')).accepted.slice(gABefore).filter((r) => r.to === alice.jid);
    assert.ok(news.some((r) => r.xml.startsWith('<presence') && r.xml.includes(`${CLEAN}/Bob`) && r.xml.includes('type="unavailable"')), 'Alice sees Bob leave');
    assert.equal(await redis.xlen(keys.gatewayDelivery('gB')), gBBefore, 'nothing is written for a dead gateway');
  });
});

async function waitFor(fn: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}
