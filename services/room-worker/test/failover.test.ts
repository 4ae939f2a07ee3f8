// Room worker processes: a SIGKILLed worker's shards are taken over once its leases expire,
// and what was queued meanwhile is delivered once. Prints the measured takeover time.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { keySpace, shardForRoom } from '@parley/bus';
import { startRedis, startRoomWorker, type RedisServer, type RoomWorkerProcess } from '@parley/testkit';
import { bodiesFor, committedThrough, configure, gatewayView, groupchat, join, markGatewaysLive, MUC, send, session } from './support/fake-cluster.js';
import { eventually, testPrefix } from './support/harness.js';

const SHARDS = 8;
const ROOM = `failover@${MUC}`;
const shard = shardForRoom(ROOM, SHARDS);
const LEASE_TTL_MS = 2000;
let server: RedisServer;
let redis: Redis;
const prefix = testPrefix('failover');
const keys = keySpace(prefix);
const procs: RoomWorkerProcess[] = [];
const alice = session('alice@localhost/a', 'gA');
const bob = session('bob@localhost/b', 'gB');

function start(id: string): Promise<RoomWorkerProcess> {
  return startRoomWorker({
    redisUrl: server.url,
    keyPrefix: prefix,
    env: {
      PARLEY_ROOM_WORKER_ID: id,
      PARLEY_MUC_SHARDS: String(SHARDS),
      PARLEY_LEASE_TTL_MS: String(LEASE_TTL_MS),
      PARLEY_ROOM_WORKER_HEARTBEAT_MS: '500',
      PARLEY_GATEWAY_DEAD_AFTER_MS: '600000',
      // `shard acquired` is a debug line (one `room shards changed` summary at info).
      PARLEY_LOG_LEVEL: 'debug',
    },
  }).then((p) => (procs.push(p), p));
}

before(async () => {
  server = await startRedis();
  redis = server.client();
  await markGatewaysLive(redis, keys, ['gA', 'gB']);
});
after(async () => {
  for (const p of procs) await p.kill();
  await server.stop();
});

describe('failover between processes', () => {
  it('takes over a SIGKILLed worker\'s shard after the lease TTL and delivers the backlog once', async (t) => {
    const [p1, p2] = await Promise.all([start('p1'), start('p2')]);
    await eventually('all shards leased', async () => (await Promise.all([...Array(SHARDS).keys()].map((s) => redis.exists(keys.shardLease(s))))).every((e) => e === 1));
    await send(redis, keys, SHARDS, alice, ROOM, join(alice, ROOM, 'Alice'));
    await send(redis, keys, SHARDS, alice, ROOM, configure(alice, ROOM));
    const ready = await send(redis, keys, SHARDS, bob, ROOM, join(bob, ROOM, 'Bob'));
    await committedThrough(redis, keys, shard, ready);

    const ownerId = (await redis.get(keys.shardLease(shard)))!.split(' ')[0]!;
    const [victim, survivor] = ownerId === 'p1' ? [p1, p2] : [p2, p1];
    const killedAt = Date.now();
    await victim.kill('SIGKILL');
    let last = '';
    for (const body of ['b1', 'b2', 'b3']) last = await send(redis, keys, SHARDS, alice, ROOM, groupchat(alice, ROOM, body));
    const acquired = await survivor.waitForLog((e) => e['msg'] === 'shard acquired' && e['shard'] === shard, 15_000);
    const takeoverMs = Date.now() - killedAt;
    await committedThrough(redis, keys, shard, last);
    const deliveredMs = Date.now() - killedAt;
    t.diagnostic(`takeover after SIGKILL: ${takeoverMs} ms to "shard acquired" (loadMs ${String(acquired['loadMs'])}, replayed ${String(acquired['replayed'])}), backlog committed after ${deliveredMs} ms; leaseTtlMs ${LEASE_TTL_MS}, heartbeatMs 500`);
    assert.ok(takeoverMs >= LEASE_TTL_MS - 600, `took over after ${takeoverMs} ms, before the lease could expire`);
    assert.ok(takeoverMs < LEASE_TTL_MS + 3000, `took over after ${takeoverMs} ms`);
    const gA = await gatewayView(redis, keys, 'gA');
    const gB = await gatewayView(redis, keys, 'gB');
    assert.deepEqual(bodiesFor(gA.accepted, alice.jid), ['b1', 'b2', 'b3']);
    assert.deepEqual(bodiesFor(gB.accepted, bob.jid), ['b1', 'b2', 'b3']);
    assert.ok(await redis.hget(keys.shardRooms(shard), ROOM), 'the room is stored');
    assert.deepEqual((await redis.hkeys(keys.roomOccupants(shard, ROOM))).sort(), ['Alice', 'Bob'], 'the occupants survived the crash');
    assert.equal((await redis.get(keys.shardLease(shard)))!.split(' ')[0], survivor.workerId);
  });

  it('a SIGTERMed worker releases its leases, leaves the membership and exits 0', async () => {
    const survivor = procs.find((p) => p.child.exitCode === null && p.child.signalCode === null)!;
    await survivor.stop();
    const status = await survivor.exited;
    assert.equal(status.code, 0, survivor.output());
    assert.ok(survivor.logs.some((l) => l.includes('"shard released"')));
    const leases = await Promise.all([...Array(SHARDS).keys()].map((s) => redis.get(keys.shardLease(s))));
    assert.ok(leases.every((l) => l === null || !l.startsWith(`${survivor.workerId} `)), `leases left: ${leases.join(', ')}`);
    assert.equal(await redis.zscore(keys.roomWorkers(), survivor.workerId), null);
  });
});
