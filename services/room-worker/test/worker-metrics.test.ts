// The room worker's Prometheus metrics, as published to Redis for the admin API (issue #4).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { keySpace, shardForRoom } from '@parley/bus';
import { readClusterMetrics } from '@parley/metrics';
import { startRedis, type RedisServer } from '@parley/testkit';
import { RoomWorker } from '../src/room-worker.js';
import { committedThrough, feed, join, markGatewaysLive, MUC, send, session } from './support/fake-cluster.js';
import { eventually, memoryLogger, testConfig, testPrefix } from './support/harness.js';

const SHARDS = 2;
const ROOM = `metered@${MUC}`;
let server: RedisServer;
let redis: Redis;
let worker: RoomWorker;
const prefix = testPrefix('worker-metrics');
const keys = keySpace(prefix);
const alice = session('alice@localhost/a', 'gA');

before(async () => {
  server = await startRedis();
  redis = server.client();
  await markGatewaysLive(redis, keys, ['gA']);
  worker = new RoomWorker(
    testConfig(server.url, prefix, { 'roomWorker.id': 'w-m', 'muc.shards': SHARDS, 'gateway.deadAfterMs': 600_000, 'metrics.publishMs': 100 }),
    memoryLogger().log,
  );
  await worker.start();
});
after(async () => {
  await worker.stop();
  await server.stop();
});

describe('room worker metrics', () => {
  it('publishes rooms, occupants, shards, inputs, turns, lag and Redis round trips', async () => {
    const id = await send(redis, keys, SHARDS, alice, ROOM, join(alice, ROOM, 'Alice'));
    await committedThrough(redis, keys, shardForRoom(ROOM, SHARDS), id);
    await feed(redis, keys, SHARDS, { kind: 'command', room: ROOM, commandId: 'c1', command: 'not json', replyTo: keys.commandReply('c1') });
    await eventually('the command result', () => redis.exists(keys.commandReply('c1')));
    const labels = 'service="room-worker",process="w-m"';
    const text = await eventually('metrics with the room', async () => {
      const t = await readClusterMetrics(redis, keys);
      return t.includes(`parley_rooms{${labels}} 1`) && t.includes('kind="command"') ? t : undefined;
    });
    assert.match(text, new RegExp(`^parley_occupants\\{${labels}\\} 1$`, 'm'));
    assert.match(text, new RegExp(`^parley_shards_held\\{${labels}\\} ${SHARDS}$`, 'm'));
    assert.match(text, new RegExp(`^parley_room_inputs_total\\{kind="stanza",${labels}\\} 1$`, 'm'));
    assert.match(text, new RegExp(`^parley_room_inputs_total\\{kind="command",${labels}\\} 1$`, 'm'));
    assert.match(text, new RegExp(`^parley_turns_total\\{${labels}\\} [1-9]\\d*$`, 'm'));
    for (let s = 0; s < SHARDS; s++) assert.match(text, new RegExp(`^parley_shard_lag_entries\\{shard="${s}",${labels}\\} 0$`, 'm'));
    assert.match(text, new RegExp(`^parley_redis_rtt_seconds_count\\{${labels}\\} [1-9]\\d*$`, 'm'));

    await worker.stop();
    assert.doesNotMatch(await readClusterMetrics(redis, keys), /process="w-m"/, 'a stopped worker removes its metrics');
  });
});
