// The turn loop's XREAD with its RESP text made beforehand (xread-command.ts): the same bytes
// as ioredis's own serialisation, and the same replies from a real Redis, alone and in a
// pipeline, with and without BLOCK.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Command, Redis } from 'ioredis';
import { startRedis, type RedisServer } from '@parley/testkit';
import type { ScriptedPipeline } from '../src/redis-scripts.js';
import { xreadCommand } from '../src/shard/xread-command.js';
import { testPrefix } from './support/harness.js';

let server: RedisServer;
let redis: Redis;

before(async () => {
  server = await startRedis();
  redis = new Redis(server.url);
});

after(async () => {
  redis.disconnect();
  await server.stop();
});

/** What ioredis itself writes for `xread(...args)`. */
const ioredisText = (args: Array<string | number>) => String(new Command('xread', args).toWritable({}));

describe('xreadCommand', () => {
  it('writes what ioredis writes, with and without BLOCK, for ASCII and multi-byte keys', () => {
    const keys = ['parley:shard:0:in', 'parley:shard:63:in', 'clé:ünïcode:☃'];
    const cursors = ['0-0', '1796646957843-12', '1796646957843-0'];
    assert.equal(String(xreadCommand(1024, 200, keys, cursors).toWritable({})), ioredisText(['COUNT', 1024, 'BLOCK', 200, 'STREAMS', ...keys, ...cursors]));
    assert.equal(String(xreadCommand(7, undefined, keys, cursors).toWritable({})), ioredisText(['COUNT', 7, 'STREAMS', ...keys, ...cursors]));
    // The key parts are cached: a second command with other cursors is still right.
    const later = ['5-1', '6-0', '7-3'];
    assert.equal(String(xreadCommand(1024, undefined, keys, later).toWritable({})), ioredisText(['COUNT', 1024, 'STREAMS', ...keys, ...later]));
  });

  it('gets the replies of xread from Redis, on a client and in a pipeline', async () => {
    const prefix = testPrefix('xread');
    const keys = [`${prefix}:a`, `${prefix}:b`, `${prefix}:é`];
    const a1 = await redis.xadd(keys[0]!, '*', 'f', '1');
    await redis.xadd(keys[2]!, '*', 'f', '2');
    const cursors = ['0-0', '0-0', '0-0'];
    const expected = await redis.xread('COUNT', 10, 'STREAMS', ...keys, ...cursors);
    assert.ok(expected && expected.length === 2, 'two streams have entries');
    assert.deepEqual(await redis.sendCommand(xreadCommand(10, undefined, keys, cursors)), expected);
    assert.deepEqual(await redis.sendCommand(xreadCommand(10, 50, keys, cursors)), expected);
    const pipeline = redis.pipeline() as ScriptedPipeline;
    pipeline.set(`${prefix}:x`, '1');
    pipeline.sendCommand(xreadCommand(10, 50, keys, [a1!, '0-0', '0-0']));
    const replies = await pipeline.exec();
    assert.deepEqual(replies?.[1], [null, expected.filter(([key]) => key !== keys[0])]);
    // BLOCK with nothing new: waits about blockMs, then null.
    const started = Date.now();
    assert.equal(await redis.sendCommand(xreadCommand(10, 100, keys, ['9999999999999-0', '9999999999999-0', '9999999999999-0'])), null);
    assert.ok(Date.now() - started >= 90, 'blocked');
  });
});
