// The Redis Cluster client of @parley/service-runtime `createRedis` (issue #14 item 2) on a
// real 3-master cluster: pipelines and transactions spanning slots, Lua scripts defined as
// commands (the gateway's), auto-pipelining, duplicate() and a keyspace SCAN over every master.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import { keySpace } from '@parley/bus';
import { createRedis, isCluster, scanKeys } from '@parley/service-runtime';
import { startRedisCluster, type RedisClusterSet } from '@parley/testkit';
import { defineScripts, type ScriptedRedis } from '../src/routing/scripts.js';

let rc: RedisClusterSet;
let redis: ScriptedRedis;
const keys = keySpace('t-cc:');
/** Keys spread over the three masters (account, gateway and shard slots). */
const spread = ['t-cc:a:{u:alice@localhost}', 't-cc:a:{u:bob@localhost}', 't-cc:{s:0}:x', 't-cc:{s:1}:x', 't-cc:{s:2}:x', 't-cc:{s:3}:x', 't-cc:{g:gw1}:x', 't-cc:plain'];

before(async () => {
  rc = await startRedisCluster();
  const conn = { url: 'redis://127.0.0.1:1', cluster: { nodes: rc.seeds.map((s) => ({ host: '127.0.0.1', port: Number(s.split(':')[1]) })) } };
  redis = defineScripts(createRedis(conn, { lazyConnect: true, maxRetriesPerRequest: 3, enableAutoPipelining: true }));
  await redis.connect();
});

after(async () => {
  redis?.disconnect();
  await rc?.stop();
});

test('the keys of this test are on more than one master (else it proves nothing)', async () => {
  assert.equal(isCluster(redis), true);
  const masters = new Set(await Promise.all(spread.map((k) => rc.masterOf(k))));
  assert.equal(masters.size, 3);
});

test('a pipeline spanning nodes runs, replies in call order', async () => {
  const p = redis.pipeline();
  spread.forEach((k, i) => p.set(k, String(i)).incr(k));
  p.time();
  const replies = (await p.exec()) ?? [];
  assert.equal(replies.length, spread.length * 2 + 1);
  spread.forEach((_, i) => {
    assert.deepEqual(replies[2 * i], [null, 'OK']);
    assert.deepEqual(replies[2 * i + 1], [null, i + 1]);
  });
  assert.equal(replies[replies.length - 1]![0], null, 'a keyless command rides along');
});

test('a transaction spanning slots runs per slot; within a slot it is MULTI/EXEC', async () => {
  const replies = (await redis.multi().set(spread[0]!, 'a').get(spread[0]!).set(spread[2]!, 'b').get(spread[2]!).exec()) ?? [];
  assert.deepEqual(replies, [[null, 'OK'], [null, 'a'], [null, 'OK'], [null, 'b']]);
  // An error in one command is reported in its place, as ioredis does.
  await redis.set(spread[4]!, '4');
  const mixed = (await redis.multi().set(spread[3]!, 'x').hget(spread[3]!, 'f').get(spread[4]!).exec()) ?? [];
  assert.equal(mixed[0]![0], null);
  assert.match(String(mixed[1]![0]), /WRONGTYPE/);
  assert.deepEqual(mixed[2], [null, '4']);
});

test("the gateway's liveness scripts run on the cluster (their keys share one slot)", async () => {
  const at = await redis.registerGateway(keys.gateways(), keys.gatewayToken('gw1'), 'gw1', 'tok');
  assert.ok(at > 0);
  const [status] = await redis.heartbeat(keys.gateways(), keys.gatewayToken('gw1'), keys.livenessState(), 'gw1', 'tok', 3000, 5000);
  assert.equal(status, 1);
  // In a pipeline too, next to commands of other slots.
  const p = redis.pipeline().get(spread[0]!) as unknown as { heartbeat(...a: Array<string | number>): { exec(): Promise<Array<[Error | null, unknown]> | null> } };
  const replies = (await p.heartbeat(keys.gateways(), keys.gatewayToken('gw1'), keys.livenessState(), 'gw1', 'tok', 3000, 5000).exec()) ?? [];
  assert.equal(replies[1]![0], null, String(replies[1]![0]));
  assert.equal((replies[1]![1] as [number, number])[0], 1);
  // The claim and the set-aside of a dead gateway (two scripts, two slots).
  await redis.zadd(keys.gateways(), 1, 'gw-dead');
  await redis.xadd(keys.gatewayDelivery('gw-dead'), '*', 'k', 'v');
  const [claimed] = await redis.reapClaim(keys.gateways(), keys.livenessState(), keys.gatewayToken('gw-dead'), keys.reaperLock('gw-dead'), keys.reapingGateways(), 'gw-dead', 5000, 'gw1', 30_000);
  assert.equal(claimed, 1);
  assert.equal(await redis.reapSetAside(keys.gatewayDelivery('gw-dead'), keys.gatewayReaping('gw-dead')), -1);
  assert.equal(await redis.xlen(keys.gatewayReaping('gw-dead')), 1);
});

test('auto-pipelined commands on many slots at once, duplicate() and SCAN over every master', async () => {
  const values = await Promise.all(spread.map((k) => redis.set(k, 'v').then(() => redis.get(k))));
  assert.deepEqual(values, spread.map(() => 'v'));
  const other = redis.duplicate({ lazyConnect: true, maxRetriesPerRequest: 1 }) as Redis;
  try {
    await other.connect();
    assert.equal(isCluster(other), true);
    assert.equal(await other.get(spread[5]!), 'v');
  } finally {
    other.disconnect();
  }
  const seen = new Set<string>();
  for await (const batch of scanKeys(redis, 't-cc:*', 100)) for (const k of batch) seen.add(k);
  for (const k of spread) assert.ok(seen.has(k), `${k} found by the SCAN of every master`);
});
