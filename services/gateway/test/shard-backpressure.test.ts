// Overload backpressure (issue #10 item 6): senders of a room shard whose oldest unapplied
// entry is too old are held until the shard catches up; other shards are not held. When the
// shard's worker lists the rooms that are behind, only those rooms' senders are held.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { keySpace, redisTimeMs } from '@parley/bus';
import { startRedis, type RedisServer } from '@parley/testkit';
import { defineScripts, type ScriptedRedis } from '../src/routing/scripts.js';
import { ShardBackpressure } from '../src/routing/shard-backpressure.js';

const keys = keySpace(`t-bp-${randomBytes(4).toString('hex')}:`);
const log = pino({ level: 'silent' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
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

/** Appends an entry that has waited `ageMs` already (stream ids are Redis-clock milliseconds). */
async function oldEntry(shard: number, ageMs: number): Promise<void> {
  const ms = redisTimeMs(await redis.time()) - ageMs;
  await redis.xadd(keys.shardStream(shard), `${ms}-0`, 'k', 'v');
}

/** Resolves to 'resolved' if `p` settles within `ms`, else 'pending'. */
async function within(p: Promise<void>, ms: number): Promise<'resolved' | 'pending'> {
  return Promise.race([p.then(() => 'resolved' as const), sleep(ms).then(() => 'pending' as const)]);
}

describe('ShardBackpressure', () => {
  it('holds only the lagging shard, and releases its senders in order once it has caught up', async () => {
    const bp = new ShardBackpressure(redis, keys, { maxLagMs: 200, pollMs: 20, maxHoldMs: 60_000 }, log);
    bp.start();
    try {
      // The entries are there before the gateway writes (admit): a poll between the two would
      // read shard 3 without them and, with nothing written since, not read it again.
      await oldEntry(3, 1000);
      await redis.xadd(keys.shardStream(4), '*', 'k', 'v'); // fresh: no lag
      assert.equal(bp.admit(3), undefined, 'nothing known yet: not held');
      assert.equal(bp.admit(4), undefined);
      await sleep(150);
      assert.deepEqual(bp.heldShards, [3]);
      assert.equal(bp.admit(4), undefined, 'a shard that keeps up is not held');
      const order: number[] = [];
      const first = bp.admit(3);
      const second = bp.admit(3);
      assert.ok(first && second, 'the lagging shard holds its senders');
      void first.then(() => order.push(1));
      void second.then(() => order.push(2));
      assert.equal(await within(first, 150), 'pending');
      // The room worker commits: the stream is trimmed past what it applied.
      await redis.del(keys.shardStream(3));
      assert.equal(await within(Promise.all([first, second]).then(() => undefined), 1000), 'resolved');
      assert.deepEqual(order, [1, 2]);
      assert.deepEqual(bp.heldShards, []);
      assert.equal(bp.admit(3), undefined);
      assert.equal(bp.heldStanzas, 2);
    } finally {
      bp.stop();
    }
  });

  it('lets a held stanza go after maxHoldMs, and stop() releases every sender', async () => {
    const bp = new ShardBackpressure(redis, keys, { maxLagMs: 200, pollMs: 20, maxHoldMs: 300 }, log);
    bp.start();
    try {
      await oldEntry(7, 5000);
      bp.admit(7);
      await sleep(150);
      const held = bp.admit(7);
      assert.ok(held);
      assert.equal(await within(held, 100), 'pending');
      assert.equal(await within(held, 600), 'resolved', 'never held past maxHoldMs');
      const again = bp.admit(7);
      assert.ok(again, 'the shard still lags');
      bp.stop();
      assert.equal(await within(again, 100), 'resolved');
    } finally {
      bp.stop();
      await redis.del(keys.shardStream(7));
    }
  });

  it('holds only the rooms its worker lists as behind, and the whole shard only when the worker says its read-ahead is full', async () => {
    const bp = new ShardBackpressure(redis, keys, { maxLagMs: 2000, pollMs: 20, maxHoldMs: 60_000 }, log);
    bp.start();
    const shard = 11;
    const hot = keys.shardHotRooms(shard);
    const idAged = async (ageMs: number) => `${redisTimeMs(await redis.time()) - ageMs}-0`;
    try {
      // The stream's oldest entry is old (the flooded room's), but the worker lists the rooms.
      await oldEntry(shard, 5000);
      await redis.hset(hot, 'flood@conference.localhost', await idAged(5000), 'warm@conference.localhost', await idAged(120));
      bp.admit(shard, 'quiet@conference.localhost');
      await sleep(150);
      assert.deepEqual(bp.heldShards, [], 'not the whole shard');
      assert.deepEqual(bp.heldRooms.get(shard), ['flood@conference.localhost']);
      assert.equal(bp.admit(shard, 'quiet@conference.localhost'), undefined, 'a quiet room of the busy shard is not held');
      assert.equal(bp.admit(shard, 'warm@conference.localhost'), undefined, 'a room listed but below maxLagMs is not held');
      const held = bp.admit(shard, 'flood@conference.localhost');
      assert.ok(held, 'the room that is behind holds its senders');
      assert.equal(await within(held, 150), 'pending');
      // Its read-ahead full: every sender of the shard waits.
      await redis.hset(hot, '*', await idAged(5000));
      await sleep(150);
      assert.deepEqual(bp.heldShards, [shard]);
      const quiet = bp.admit(shard, 'quiet@conference.localhost');
      assert.ok(quiet, 'with the read-ahead full, the whole shard is held');
      // The worker caught up: the list is gone, and so is the backlog.
      await redis.del(hot, keys.shardStream(shard));
      assert.equal(await within(Promise.all([held, quiet]).then(() => undefined), 1000), 'resolved');
      assert.deepEqual(bp.heldShards, []);
      assert.equal(bp.heldRooms.size, 0);
      // No list while the stream lags (the worker is gone): the whole shard is held, as before rooms were listed.
      await oldEntry(shard, 5000);
      bp.admit(shard, 'quiet@conference.localhost'); // a sender to the shard: it is watched again
      await sleep(150);
      assert.deepEqual(bp.heldShards, [shard]);
    } finally {
      bp.stop();
      await redis.del(hot, keys.shardStream(shard));
    }
  });

  it("holds nothing when the worker's list says `-` (at work, no room behind) however old the stream's oldest entry", async () => {
    const bp = new ShardBackpressure(redis, keys, { maxLagMs: 2000, pollMs: 20, maxHoldMs: 60_000 }, log);
    bp.start();
    const shard = 12;
    const hot = keys.shardHotRooms(shard);
    try {
      // Entries of a turn not committed yet keep the stream old; the worker says nothing is behind.
      await oldEntry(shard, 5000);
      await redis.hset(hot, '-', '');
      bp.admit(shard, 'quiet@conference.localhost');
      await sleep(150);
      assert.deepEqual(bp.heldShards, [], 'not the whole shard');
      assert.equal(bp.heldRooms.get(shard)?.length ?? 0, 0, 'no room named `-`');
      assert.equal(bp.admit(shard, 'quiet@conference.localhost'), undefined);
      // The list expires (no worker serves the shard): the stream's age decides again.
      await redis.del(hot);
      bp.admit(shard, 'quiet@conference.localhost');
      await sleep(150);
      assert.deepEqual(bp.heldShards, [shard]);
    } finally {
      bp.stop();
      await redis.del(hot, keys.shardStream(shard));
    }
  });

  it('is off with maxLagMs 0', async () => {
    const bp = new ShardBackpressure(redis, keys, { maxLagMs: 0, pollMs: 20, maxHoldMs: 300 }, log);
    bp.start();
    await oldEntry(9, 5000);
    await sleep(100);
    assert.equal(bp.admit(9), undefined);
    bp.stop();
  });
});

describe('ShardBackpressure: delivery-hot rooms (a gateway whose delivery queue stands)', () => {
  const shardOf = (room: string) => (room.startsWith('a') ? 12 : 13);

  it('holds a hot room here at once and on another gateway after a poll, and releases both', async () => {
    const here = new ShardBackpressure(redis, keys, { maxLagMs: 1000, pollMs: 20, maxHoldMs: 60_000, shardOf }, log);
    const there = new ShardBackpressure(redis, keys, { maxLagMs: 1000, pollMs: 20, maxHoldMs: 60_000, shardOf }, log);
    here.start();
    there.start();
    try {
      assert.equal(there.admit(12, 'abc@muc'), undefined, 'nothing hot yet');
      here.setDeliveryHot({ hot: ['abc@muc'], released: [], minWaitMs: 40 });
      const heldHere = here.admit(12, 'abc@muc');
      assert.ok(heldHere, 'held at once on the gateway whose queue stands');
      assert.equal(here.admit(12, 'another@muc'), undefined, 'other rooms go on');
      assert.equal(here.admit(13, 'bcd@muc'), undefined);
      await sleep(150);
      assert.deepEqual(there.deliveryHeldRooms, ['abc@muc'], 'the other gateway read the published list');
      const heldThere = there.admit(12, 'abc@muc');
      assert.ok(heldThere);
      assert.equal(there.admit(12, 'another@muc'), undefined);
      here.setDeliveryHot({ hot: [], released: ['abc@muc'], minWaitMs: 5 });
      assert.equal(await within(heldHere, 100), 'resolved');
      assert.equal(await within(heldThere, 300), 'resolved', 'released on the other gateway once unlisted');
      assert.equal(await redis.hexists(keys.shardDeliveryHot(12), 'abc@muc'), 0);
    } finally {
      here.stop();
      there.stop();
      await redis.del(keys.shardDeliveryHot(12), keys.shardDeliveryHot(13));
    }
  });

  it('ignores and removes listed rooms whose deadline passed (a gateway that died while hot)', async () => {
    const bp = new ShardBackpressure(redis, keys, { maxLagMs: 0, pollMs: 20, maxHoldMs: 60_000, shardOf }, log);
    bp.start();
    try {
      const now = redisTimeMs(await redis.time());
      await redis.hset(keys.shardDeliveryHot(12), 'stale@muc', String(now - 10), 'live@muc', String(now + 60_000));
      bp.admit(12, 'x@muc');
      await sleep(150);
      assert.deepEqual(bp.deliveryHeldRooms, ['live@muc'], 'held with shard lag holds off, too');
      assert.equal(bp.admit(12, 'stale@muc'), undefined);
      assert.ok(bp.admit(12, 'live@muc'));
      assert.equal(await redis.hexists(keys.shardDeliveryHot(12), 'stale@muc'), 0);
    } finally {
      bp.stop();
      await redis.del(keys.shardDeliveryHot(12));
    }
  });
});
