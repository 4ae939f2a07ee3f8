// Shards are owned exactly once, by their desired owner, as workers come and go.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { keySpace } from '@parley/bus';
import { startRedis, type RedisServer } from '@parley/testkit';
import { desiredOwner } from '../src/membership/rendezvous.js';
import { RoomWorker } from '../src/room-worker.js';
import { eventually, memoryLogger, testConfig, testPrefix } from './support/harness.js';

const SHARDS = 16;
let server: RedisServer;
let redis: Redis;
const prefix = testPrefix('rebalance');
const keys = keySpace(prefix);
const workers: RoomWorker[] = [];

function worker(id: string): RoomWorker {
  const w = new RoomWorker(testConfig(server.url, prefix, { 'roomWorker.id': id, 'muc.shards': SHARDS }), memoryLogger().log);
  workers.push(w);
  return w;
}

/** True when every shard is held by exactly its desired owner among `live`, in memory and in Redis. */
async function settled(live: RoomWorker[]): Promise<boolean> {
  const ids = live.map((w) => w.id);
  const owners = new Map<number, string[]>();
  for (const w of live) for (const s of w.shards) owners.set(s, [...(owners.get(s) ?? []), w.id]);
  for (let s = 0; s < SHARDS; s++) {
    const o = owners.get(s) ?? [];
    if (o.length !== 1 || o[0] !== desiredOwner(s, ids)) return false;
    const lease = await redis.get(keys.shardLease(s));
    if (!lease?.startsWith(`${o[0]} `)) return false;
  }
  return true;
}

before(async () => {
  server = await startRedis();
  redis = server.client();
});
after(async () => {
  for (const w of workers) await w.stop();
  await server.stop();
});

describe('rebalancing', () => {
  it('two workers split the shards, each held exactly once by its desired owner', async () => {
    const [a, b] = [worker('w-a'), worker('w-b')];
    await a.start();
    await eventually('w-a to hold every shard', () => a.shards.length === SHARDS);
    await b.start();
    await eventually('the shards to settle over w-a and w-b', () => settled([a, b]));
    assert.ok(a.shards.length > 0 && b.shards.length > 0, `split ${a.shards.length}/${b.shards.length}`);
    assert.deepEqual((await redis.zrange(keys.roomWorkers(), '0', '-1')).sort(), ['w-a', 'w-b']);
    const info = await redis.hgetall(keys.roomWorkerInfo('w-b'));
    assert.equal(info['pid'], String(process.pid));
    assert.deepEqual(JSON.parse(info['shards']!), b.shards);
  });

  it('a stopped worker releases its shards and the other takes them all', async () => {
    const [a, b] = workers as [RoomWorker, RoomWorker];
    const before = Date.now();
    await a.stop();
    assert.deepEqual(await redis.zrange(keys.roomWorkers(), '0', '-1'), ['w-b'], 'it left the membership');
    await eventually('w-b to hold every shard', () => settled([b]), 3000);
    // A clean stop releases the leases: no waiting for them to expire (TTL 1000 ms).
    assert.ok(Date.now() - before < 1000, `took ${Date.now() - before} ms`);
  });

  it('a third worker gets its share', async () => {
    const b = workers[1]!;
    const c = worker('w-c');
    await c.start();
    await eventually('the shards to settle over w-b and w-c', () => settled([b, c]));
    assert.ok(c.shards.length > 0);
  });

  it('a crashed worker\'s shards move once its leases expire', async (t) => {
    const [b, c] = [workers[1]!, workers[2]!];
    const crashed = Date.now();
    await c.crash();
    await eventually('w-b to hold every shard', () => settled([b]), 5000);
    const took = Date.now() - crashed;
    assert.ok(took >= 500, `moved after ${took} ms: before the lease could expire?`);
    t.diagnostic(`shards of a crashed worker moved after ${took} ms (leaseTtlMs 1000, heartbeatMs 100)`);
  });
});
