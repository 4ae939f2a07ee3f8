// A worker whose lease is taken stops the shard at once and writes nothing more for it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { keySpace, shardForRoom } from '@parley/bus';
import { startRedis, type RedisServer } from '@parley/testkit';
import { defineScripts, type ScriptedRedis } from '../src/redis-scripts.js';
import { RoomWorker } from '../src/room-worker.js';
import { committedThrough, join, markGatewaysLive, MUC, send, session } from './support/fake-cluster.js';
import { eventually, memoryLogger, testConfig, testPrefix } from './support/harness.js';

const SHARDS = 2;
const ROOM = `stolen@${MUC}`;
const shard = shardForRoom(ROOM, SHARDS);
let server: RedisServer;
let redis: ScriptedRedis;
let worker: RoomWorker;
const prefix = testPrefix('lease-loss');
const keys = keySpace(prefix);
const { log, lines } = memoryLogger();
const alice = session('alice@localhost/a', 'gA');

before(async () => {
  server = await startRedis();
  redis = defineScripts(new Redis(server.url));
  await markGatewaysLive(redis, keys, ['gA']);
  worker = new RoomWorker(testConfig(server.url, prefix, { 'roomWorker.id': 'victim', 'muc.shards': SHARDS, 'gateway.deadAfterMs': 600_000 }), log);
  await worker.start();
});
after(async () => {
  await worker.stop();
  await redis.quit();
  await server.stop();
});

describe('lease loss', () => {
  it('drops the shard on a refused renewal and neither delivers nor commits for it', async () => {
    await eventually('the worker to hold the shard', () => worker.shards.includes(shard));
    // Another grant replaces the victim's (as after an expiry during a pause).
    await redis.del(keys.shardLease(shard));
    const token = await redis.acquireLease(keys.shardLease(shard), keys.shardFence(shard), 'thief', 60_000);
    assert.ok(token !== null && token > 1);
    const lost = await eventually('shard lost', () => lines.find((l) => l['msg'] === 'shard lost' && l['shard'] === shard), 2000);
    assert.equal(lost['reason'], 'renewal refused');
    assert.ok(!worker.shards.includes(shard));

    const id = await send(redis, keys, SHARDS, alice, ROOM, join(alice, ROOM, 'Alice'));
    await sleep(500); // several heartbeats and read loops
    assert.equal(await redis.get(keys.shardCursor(shard)), null, 'no commit');
    assert.equal(await redis.exists(keys.shardRooms(shard), keys.gatewayDelivery('gA')), 0, 'no room written, nothing delivered');
    assert.equal(await redis.xlen(keys.shardStream(shard)), 1, 'the entry waits for the lease holder');

    // When the thief lets go, the desired owner takes the shard again and applies the entry.
    assert.equal(await redis.releaseLease(keys.shardLease(shard), `thief ${token}`), 1);
    await committedThrough(redis, keys, shard, id);
    assert.ok(await redis.hget(keys.shardRooms(shard), ROOM));
    assert.ok((await redis.xlen(keys.gatewayDelivery('gA'))) > 0, 'Alice got her presence');
    assert.equal((await redis.get(keys.shardLease(shard)))?.split(' ')[0], 'victim');
  });
});
