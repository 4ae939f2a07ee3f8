// batchWritesPerTurn (issue #15): the gateway's connection sends the commands of one event-loop
// turn in one socket write without ioredis's auto-pipelining, in call order, pipelines,
// transactions and Lua scripts included, and recovers after Redis drops the connection.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { startRedis, type RedisServer } from '@parley/testkit';
import { batchWritesPerTurn } from '../src/routing/batch-writes.js';
import { defineScripts, type ScriptedRedis } from '../src/routing/scripts.js';

let server: RedisServer;
let redis: ScriptedRedis;
const prefix = `t-bw-${randomBytes(4).toString('hex')}:`;

before(async () => {
  server = await startRedis();
  redis = defineScripts(batchWritesPerTurn(new Redis(server.url, { lazyConnect: true, enableAutoPipelining: false, maxRetriesPerRequest: null })));
  await redis.connect();
});

after(async () => {
  redis?.disconnect();
  await server?.stop();
});

test('the commands of one turn go into one corked write, uncorked at the next check phase', async () => {
  const socket = redis.stream;
  assert.equal(socket.writableCorked, 0, 'nothing pending before');
  const replies = [redis.set(`${prefix}a`, '1'), redis.incr(`${prefix}n`), redis.get(`${prefix}a`)];
  assert.equal(socket.writableCorked, 1, 'the first command of the turn corked the socket (once)');
  assert.equal(socket.writableLength > 0, true, 'the commands wait in the socket buffer');
  await new Promise<void>((resolve) => setImmediate(resolve));
  assert.equal(socket.writableCorked, 0, 'uncorked by the next check phase');
  assert.deepEqual(await Promise.all(replies), ['OK', 1, '1']);
});

test('a turn keeps call order across single commands, pipelines, transactions and scripts', async () => {
  const stream = `${prefix}order`;
  const hash = `${prefix}sessions`;
  const done: Array<Promise<unknown>> = [];
  done.push(redis.xadd(stream, '*', 'n', '1'));
  // With ioredis's auto-pipelining this pipeline (written at exec) overtook entry 1 (written
  // at the end of the turn).
  done.push(redis.pipeline().xadd(stream, '*', 'n', '2').xadd(stream, '*', 'n', '3').exec());
  done.push(redis.xadd(stream, '*', 'n', '4'));
  done.push(redis.multi().xadd(stream, '*', 'n', '5').exec());
  done.push(redis.bindSession(hash, 'r1', JSON.stringify({ sessionId: 's1' })));
  done.push(redis.xadd(stream, '*', 'n', '6'));
  await Promise.all(done);
  const entries = await redis.xrange(stream, '-', '+');
  assert.deepEqual(entries.map(([, fields]) => fields[1]), ['1', '2', '3', '4', '5', '6']);
  assert.ok(await redis.hget(hash, 'r1'), 'the script ran (EVAL on first use on the socket)');
});

test('commands issued while Redis is gone wait and go out in order once it is back', async () => {
  const stream = `${prefix}reconnect`;
  const admin = new Redis(server.url);
  const id = await redis.client('ID');
  assert.equal(await admin.call('CLIENT', 'KILL', 'ID', String(id)), 1, 'the connection was killed');
  admin.disconnect();
  const done = [1, 2, 3].map((n) => redis.xadd(stream, '*', 'n', String(n)));
  await Promise.all(done);
  const entries = await redis.xrange(stream, '-', '+');
  assert.deepEqual(entries.map(([, fields]) => fields[1]), ['1', '2', '3']);
  assert.equal(redis.stream.writableCorked, 0);
});
