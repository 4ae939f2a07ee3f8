// Every stanza a room produces reaches each recipient once and in order, even when a turn
// is applied twice (a worker that died after delivering and before committing).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { keySpace, shardForRoom } from '@parley/bus';
import { startRedis, type RedisServer } from '@parley/testkit';
import { RoomWorker } from '../src/room-worker.js';
import { bodiesFor, committedThrough, configure, delivered, gatewayView, groupchat, join, markGatewaysLive, MUC, send, session } from './support/fake-cluster.js';
import { memoryLogger, testConfig, testPrefix } from './support/harness.js';

const SHARDS = 4;
const ROOM = `lounge@${MUC}`;
const shard = shardForRoom(ROOM, SHARDS);
let server: RedisServer;
let redis: Redis;
const prefix = testPrefix('exactly-once');
const keys = keySpace(prefix);
const alice = session('alice@localhost/a', 'gA');
const carol = session('carol@localhost/c', 'gA');
const bob = session('bob@localhost/b', 'gB');
const BODIES = ['m1', 'm2', 'm3', 'm4', 'm5'];

async function runWorkerUntil(id: string): Promise<void> {
  const w = new RoomWorker(testConfig(server.url, prefix, { 'roomWorker.id': 'w1', 'muc.shards': SHARDS, 'gateway.deadAfterMs': 600_000 }), memoryLogger().log);
  await w.start();
  try {
    await committedThrough(redis, keys, shard, id);
  } finally {
    await w.stop();
  }
}

/** The committed state of the shard and its pending entries, to put back later. */
async function snapshot() {
  return {
    rooms: await redis.hgetall(keys.shardRooms(shard)),
    occupants: await redis.hgetall(keys.roomOccupants(shard, ROOM)),
    history: await redis.lrange(keys.roomHistory(shard, ROOM), 0, -1),
    cursor: (await redis.get(keys.shardCursor(shard)))!,
    lanes: await redis.hgetall(keys.shardLanes(shard)),
    entries: await redis.xrange(keys.shardStream(shard), '-', '+'),
  };
}

async function restore(s: Awaited<ReturnType<typeof snapshot>>): Promise<void> {
  await redis.del(keys.shardRooms(shard), keys.roomOccupants(shard, ROOM), keys.roomHistory(shard, ROOM), keys.shardStream(shard));
  await redis.hset(keys.shardRooms(shard), s.rooms);
  if (Object.keys(s.occupants).length) await redis.hset(keys.roomOccupants(shard, ROOM), s.occupants);
  if (s.history.length) await redis.rpush(keys.roomHistory(shard, ROOM), ...s.history);
  await redis.set(keys.shardCursor(shard), s.cursor);
  await redis.del(keys.shardLanes(shard));
  if (Object.keys(s.lanes).length) await redis.hset(keys.shardLanes(shard), s.lanes);
  for (const [id, fields] of s.entries) await redis.xadd(keys.shardStream(shard), id, ...fields);
}

before(async () => {
  server = await startRedis();
  redis = server.client();
  await markGatewaysLive(redis, keys, ['gA', 'gB']);
});
after(async () => {
  await server.stop();
});

describe('exactly-once delivery', () => {
  let firstRun: { gA: Awaited<ReturnType<typeof gatewayView>>; gB: Awaited<ReturnType<typeof gatewayView>> };
  let saved: Awaited<ReturnType<typeof snapshot>>;

  it('delivers joins and groupchat once each, in order, broadcasts fanned out per gateway', async () => {
    await send(redis, keys, SHARDS, alice, ROOM, join(alice, ROOM, 'Alice'));
    await send(redis, keys, SHARDS, alice, ROOM, configure(alice, ROOM));
    await send(redis, keys, SHARDS, bob, ROOM, join(bob, ROOM, 'Bob'));
    const last = await send(redis, keys, SHARDS, carol, ROOM, join(carol, ROOM, 'Carol'));
    await runWorkerUntil(last);
    const joined = await redis.hget(keys.shardRooms(shard), ROOM);
    assert.ok(joined, 'the room is stored');
    assert.deepEqual((await redis.hkeys(keys.roomOccupants(shard, ROOM))).sort(), ['Alice', 'Bob', 'Carol']);

    // Messages queued while no worker runs, so that the turn can be replayed exactly.
    let id = '';
    for (const [i, body] of BODIES.entries()) id = await send(redis, keys, SHARDS, i % 2 ? bob : alice, ROOM, groupchat(i % 2 ? bob : alice, ROOM, body));
    saved = await snapshot();
    assert.equal(saved.entries.length, BODIES.length, 'the applied joins were trimmed from the stream');
    await runWorkerUntil(id);

    const gA = await gatewayView(redis, keys, 'gA');
    const gB = await gatewayView(redis, keys, 'gB');
    firstRun = { gA, gB };
    assert.equal(gA.repeats + gB.repeats, 0);
    assert.deepEqual(bodiesFor(gA.accepted, alice.jid), BODIES);
    assert.deepEqual(bodiesFor(gA.accepted, carol.jid), BODIES);
    assert.deepEqual(bodiesFor(gB.accepted, bob.jid), BODIES);
    assert.ok(gA.accepted.every((r) => r.to === alice.jid || r.to === carol.jid), 'gA only gets its own sessions\' stanzas');
    // Bob's join reached Alice before Carol's did, and each presence only once.
    const presences = gA.accepted.filter((r) => r.to === alice.jid && r.xml.startsWith('<presence')).map((r) => /from="[^"]*\/(\w+)"/.exec(r.xml)?.[1]);
    assert.deepEqual(presences.filter((n) => n !== 'Alice'), ['Bob', 'Carol']);
    // One envelope per message on gA (Alice and Carol share it), not two.
    const raw = await redis.xrange(keys.gatewayDelivery('gA'), '-', '+');
    const fanouts = raw.filter(([, f]) => f[1] === 'fanout' && f.join(' ').includes('<body>'));
    assert.equal(fanouts.length, BODIES.length);
    assert.deepEqual(await redis.lrange(keys.roomHistory(shard, ROOM), 0, -1).then((h) => h.map((e) => /<body>(\w+)</.exec(JSON.parse(e).xml)?.[1])), BODIES);
  });

  it('a turn applied again after a crash between delivery and commit is dropped by the gateways\' marks', async () => {
    const envelopesBefore = (await redis.xlen(keys.gatewayDelivery('gA'))) + (await redis.xlen(keys.gatewayDelivery('gB')));
    // The commit "did not happen": put the committed state and the entries back.
    await restore(saved);
    await runWorkerUntil(saved.entries.at(-1)![0]);

    const rawA = await delivered(redis, keys, 'gA');
    assert.equal(bodiesFor(rawA, alice.jid).length, 2 * BODIES.length, 'the messages were written twice');
    const gA = await gatewayView(redis, keys, 'gA');
    const gB = await gatewayView(redis, keys, 'gB');
    const envelopesAfter = gA.envelopes + gB.envelopes;
    assert.equal(gA.repeats + gB.repeats, envelopesAfter - envelopesBefore, 'every envelope of the replay is a repeat');
    assert.deepEqual(gA.accepted, firstRun.gA.accepted, 'gA delivers exactly what it did after the first run');
    assert.deepEqual(gB.accepted, firstRun.gB.accepted);
    const history = await redis.lrange(keys.roomHistory(shard, ROOM), 0, -1);
    assert.equal(history.length, BODIES.length, 'history was not appended twice');
    assert.equal(await redis.xlen(keys.shardStream(shard)), 0, 'applied entries are trimmed');
  });
});
