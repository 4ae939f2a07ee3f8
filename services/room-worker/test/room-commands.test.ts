// Room commands (issue #4): entries of kind `command` go through the shard like stanzas, and
// their results reach the reply lists once the turn that applied them is committed.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { keySpace, shardForRoom, type KeySpace } from '@parley/bus';
import type { CommandResult, RoomCommand } from '@parley/muc';
import { startRedis, type RedisServer } from '@parley/testkit';
import { RoomWorker } from '../src/room-worker.js';
import { committedThrough, feed, markGatewaysLive, MUC } from './support/fake-cluster.js';
import { eventually, memoryLogger, testConfig, testPrefix } from './support/harness.js';

const SHARDS = 4;
let server: RedisServer;
let redis: Redis;

before(async () => {
  server = await startRedis();
  redis = server.client();
});
after(async () => {
  await server.stop();
});

/** Appends a command entry (`command` as JSON, or raw text) and returns its id and reply list. */
async function sendCommand(keys: KeySpace, room: string, command: RoomCommand | string): Promise<{ entry: string; replyTo: string }> {
  const commandId = `c-${randomBytes(6).toString('hex')}`;
  const replyTo = keys.commandReply(commandId);
  const json = typeof command === 'string' ? command : JSON.stringify(command);
  const entry = await feed(redis, keys, SHARDS, { kind: 'command', room, commandId, command: json, replyTo });
  return { entry, replyTo };
}

async function reply(replyTo: string): Promise<CommandResult> {
  const raw = await eventually(`a result on ${replyTo}`, () => redis.lindex(replyTo, 0));
  return JSON.parse(raw) as CommandResult;
}

describe('room commands through a room worker', () => {
  const prefix = testPrefix('commands');
  const keys = keySpace(prefix);
  let worker: RoomWorker;

  before(async () => {
    await markGatewaysLive(redis, keys, ['gA']);
    worker = new RoomWorker(testConfig(server.url, prefix, { 'roomWorker.id': 'w1', 'muc.shards': SHARDS, 'gateway.deadAfterMs': 600_000 }), memoryLogger().log);
    await worker.start();
  });
  after(async () => {
    await worker.stop();
  });

  it('creates a room and then reads it back', async () => {
    const room = `created@${MUC}`;
    const create = await sendCommand(keys, room, { op: 'create', config: { name: 'Created' }, owners: ['owner@localhost'] });
    const created = await reply(create.replyTo);
    assert.equal(created.ok, true, JSON.stringify(created));
    const ttl = await redis.pttl(create.replyTo);
    assert.ok(ttl > 0 && ttl <= 60_000, `the reply list expires (pttl ${ttl})`);
    assert.ok(await redis.hget(keys.shardRooms(shardForRoom(room, SHARDS)), room), 'the room is committed before its result is pushed');

    const get = await sendCommand(keys, room, { op: 'get' });
    const got = await reply(get.replyTo);
    assert.ok(got.ok && got.room, JSON.stringify(got));
    assert.equal(got.room.jid, room);
    assert.equal(got.room.config.name, 'Created');
    assert.deepEqual(got.room.affiliations.map((a) => [a.jid, a.affiliation]), [['owner@localhost', 'owner']]);
    assert.equal(await redis.llen(get.replyTo), 1, 'one result per command');
  });

  it('answers item-not-found for a room that does not exist', async () => {
    const { replyTo } = await sendCommand(keys, `missing@${MUC}`, { op: 'get' });
    const r = await reply(replyTo);
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.error, 'item-not-found');
  });

  it('answers bad-request for a command that is not JSON, without touching the room', async () => {
    const room = `created@${MUC}`;
    const before = await redis.hget(keys.shardRooms(shardForRoom(room, SHARDS)), room);
    const { entry, replyTo } = await sendCommand(keys, room, '{"op": "destroy"');
    const r = await reply(replyTo);
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.error, 'bad-request');
    assert.ok(!r.ok && r.message.length > 0);
    await committedThrough(redis, keys, shardForRoom(room, SHARDS), entry);
    assert.equal(await redis.hget(keys.shardRooms(shardForRoom(room, SHARDS)), room), before, 'the room is unchanged');

    const notObject = await reply((await sendCommand(keys, room, '["get"]')).replyTo);
    assert.equal(!notObject.ok && notObject.error, 'bad-request');
  });
});

describe('room commands in a fenced turn', () => {
  const prefix = testPrefix('commands-fenced');
  const keys = keySpace(prefix);
  const room = `fenced@${MUC}`;
  const shard = shardForRoom(room, SHARDS);
  const { log, lines } = memoryLogger();
  let worker: RoomWorker;

  before(async () => {
    await markGatewaysLive(redis, keys, ['gA']);
    // Renewals are rare, so the stolen lease is only noticed by the commit.
    worker = new RoomWorker(
      testConfig(server.url, prefix, {
        'roomWorker.id': 'w-fenced',
        'muc.shards': SHARDS,
        'gateway.deadAfterMs': 600_000,
        'roomWorker.leaseTtlMs': 600_000,
        'roomWorker.heartbeatMs': 60_000,
      }),
      log,
    );
    await worker.start();
  });
  after(async () => {
    await worker.stop();
  });

  it('pushes no result when the commit is fenced', async () => {
    await eventually('the shard to be loaded', () => lines.find((l) => l['msg'] === 'shard acquired' && l['shard'] === shard));
    await redis.set(keys.shardLease(shard), 'thief 999', 'PX', 600_000);
    const { replyTo } = await sendCommand(keys, room, { op: 'create' });
    const lost = await eventually('shard lost', () => lines.find((l) => l['msg'] === 'shard lost' && l['shard'] === shard));
    assert.equal(lost['reason'], 'fenced at commit');
    await sleep(200);
    assert.equal(await redis.exists(replyTo), 0, 'no result for an uncommitted turn');
    assert.equal(await redis.hexists(keys.shardRooms(shard), room), 0, 'nothing committed');
    assert.ok(lines.some((l) => l['msg'] === 'room command answered' && l['shard'] === shard), 'the command was applied in memory');
  });
});
