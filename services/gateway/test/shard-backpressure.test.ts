// Overload backpressure (issue #10 item 6): senders of a room shard whose oldest unapplied
// entry is too old are held until the shard catches up; other shards are not held.
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
      assert.equal(bp.admit(3), undefined, 'nothing known yet: not held');
      assert.equal(bp.admit(4), undefined);
      await oldEntry(3, 1000);
      await redis.xadd(keys.shardStream(4), '*', 'k', 'v'); // fresh: no lag
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

  it('is off with maxLagMs 0', async () => {
    const bp = new ShardBackpressure(redis, keys, { maxLagMs: 0, pollMs: 20, maxHoldMs: 300 }, log);
    bp.start();
    await oldEntry(9, 5000);
    await sleep(100);
    assert.equal(bp.admit(9), undefined);
    bp.stop();
  });
});
