// Per-room fairness (issue #10 item 6): a flooded room does not make a quiet room of the
// same shard wait behind its whole backlog. Observed by the order of delivery (the
// project measures speed in benchmarks, not in tests): the quiet room's message reaches its
// occupant before the flood's backlog has drained, and every message of both rooms arrives
// once, in order.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { encodeRoomInput, keySpace, laneForRoom, shardForRoom } from '@parley/bus';
import { startRedis, type RedisServer } from '@parley/testkit';
import { RoomWorker } from '../src/room-worker.js';
import { bodiesFor, committedThrough, configure, gatewayView, groupchat, join, markGatewaysLive, MUC, send, session, type FakeSession, type Received } from './support/fake-cluster.js';
import { memoryLogger, testConfig, testPrefix } from './support/harness.js';

const SHARDS = 4;
const LANES = 64;
const BATCH = 16;
const FLOOD = 1000;
const flood = `flood@${MUC}`;
const shard = shardForRoom(flood, SHARDS);
/** Rooms of the flood's shard, each in a lane of its own (and not the flood's). */
const quietRooms: string[] = [];
for (let i = 0; quietRooms.length < 2; i++) {
  const room = `quiet${i}@${MUC}`;
  const lane = laneForRoom(room, LANES);
  if (shardForRoom(room, SHARDS) === shard && lane !== laneForRoom(flood, LANES) && quietRooms.every((r) => laneForRoom(r, LANES) !== lane)) quietRooms.push(room);
}
const alice = session('alice@localhost/a', 'gA');
const bob = session('bob@localhost/b', 'gA');
let server: RedisServer;
let redis: Redis;

before(async () => {
  server = await startRedis();
  redis = server.client();
});
after(async () => {
  await server.stop();
});

function worker(prefix: string): RoomWorker {
  return new RoomWorker(
    testConfig(server.url, prefix, { 'roomWorker.id': 'w1', 'muc.shards': SHARDS, 'roomWorker.batchSize': BATCH, 'roomWorker.lanes': LANES, 'roomWorker.readAhead': 4096 }),
    memoryLogger().log,
  );
}

/** The flood's messages, then one message to `quiet`, in one MULTI (a reader sees all or none); the last id. */
async function floodThenQuiet(keys: ReturnType<typeof keySpace>, quiet: string, from: FakeSession): Promise<string> {
  const multi = redis.multi();
  const stream = keys.shardStream(shard);
  for (let i = 0; i < FLOOD; i++) multi.xadd(stream, '*', ...encodeRoomInput({ kind: 'stanza', room: flood, xml: groupchat(alice, flood, `f${i}`), gateway: alice.gateway, sessionId: alice.sessionId }));
  multi.xadd(stream, '*', ...encodeRoomInput({ kind: 'stanza', room: quiet, xml: groupchat(from, quiet, 'q'), gateway: from.gateway, sessionId: from.sessionId }));
  const replies = (await multi.exec()) ?? [];
  return replies.at(-1)![1] as string;
}

/** How many flood messages Alice got before Bob got the quiet room's message. */
function floodBeforeQuiet(accepted: Received[]): number {
  const q = accepted.findIndex((r) => r.to === bob.jid && r.xml.includes('<body>q</body>'));
  assert.ok(q >= 0, 'the quiet room\'s message was delivered');
  return bodiesFor(accepted.slice(0, q), alice.jid).filter((b) => b.startsWith('f')).length;
}

async function setUp(keys: ReturnType<typeof keySpace>, quiet: string): Promise<string> {
  await markGatewaysLive(redis, keys, ['gA']);
  await send(redis, keys, SHARDS, alice, flood, join(alice, flood, 'Alice'));
  await send(redis, keys, SHARDS, alice, flood, configure(alice, flood));
  await send(redis, keys, SHARDS, bob, quiet, join(bob, quiet, 'Bob'));
  return send(redis, keys, SHARDS, bob, quiet, configure(bob, quiet));
}

describe('per-room fairness in a shard', () => {
  it('serves a quiet room\'s message before a flooded room\'s backlog of the same shard drains (live reads)', async () => {
    const prefix = testPrefix('fair-live');
    const keys = keySpace(prefix);
    const quiet = quietRooms[0]!;
    const w = worker(prefix);
    await w.start();
    try {
      await committedThrough(redis, keys, shard, await setUp(keys, quiet));
      const last = await floodThenQuiet(keys, quiet, bob);
      await committedThrough(redis, keys, shard, last, 30_000);
    } finally {
      await w.stop();
    }
    const view = await gatewayView(redis, keys, 'gA');
    const before = floodBeforeQuiet(view.accepted);
    // Before lanes: all FLOOD. With them: within the first turns (BATCH entries each, round robin).
    assert.ok(before < FLOOD / 2, `${before} of ${FLOOD} flood messages went before the quiet room's one`);
    assert.ok(before <= 2 * BATCH, `${before} flood messages before the quiet one: more than two turns' worth`);
    assert.deepEqual(bodiesFor(view.accepted, alice.jid), Array.from({ length: FLOOD }, (_, i) => `f${i}`), 'the flooded room keeps its order, each message once');
    assert.equal(view.repeats, 0);
    assert.equal(await redis.xlen(keys.shardStream(shard)), 0, 'everything applied is trimmed');
    assert.equal(await redis.hlen(keys.shardLanes(shard)), 1, 'no lane mark is left once the cursor has passed them (only the commit count)');
  });

  it('does the same for a backlog found when the shard is loaded (replay after a failover)', async () => {
    const prefix = testPrefix('fair-replay');
    const keys = keySpace(prefix);
    const quiet = quietRooms[1]!;
    let w = worker(prefix);
    await w.start();
    try {
      await committedThrough(redis, keys, shard, await setUp(keys, quiet));
    } finally {
      await w.stop();
    }
    const last = await floodThenQuiet(keys, quiet, bob);
    w = worker(prefix);
    await w.start();
    try {
      await committedThrough(redis, keys, shard, last, 30_000);
    } finally {
      await w.stop();
    }
    const view = await gatewayView(redis, keys, 'gA');
    const before = floodBeforeQuiet(view.accepted);
    assert.ok(before <= 2 * BATCH, `${before} of ${FLOOD} flood messages went before the quiet room's one`);
    assert.deepEqual(bodiesFor(view.accepted, alice.jid), Array.from({ length: FLOOD }, (_, i) => `f${i}`));
    assert.equal(view.repeats, 0);
  });
});
