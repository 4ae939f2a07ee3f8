// The jobs service on Redis Cluster (issue #14 item 2): our client (@parley/service-runtime
// createRedis → ioredis Cluster) and BullMQ's (its own ioredis Cluster, prefix hash-tagged so
// that its scripts stay in one slot) run the scheduled cleanup and a delete-user job, whose
// processor writes in the account's slot and the account index's.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRedis } from '@parley/service-runtime';
import { startRedisCluster, type RedisClusterSet } from '@parley/testkit';
import { bullPrefix } from '../src/job-keys.js';
import { cluster, eventually, finished, startJobs, testConfig, testPrefix, type Cluster } from './support/harness.js';

let rc: RedisClusterSet;
let c: Cluster;

before(async () => {
  rc = await startRedisCluster();
  const config = testConfig('redis://127.0.0.1:1', testPrefix('jobs-cluster'), {
    // A closed port in redis.url: only the cluster's nodes lead to Redis.
    'redis.cluster': { nodes: rc.seeds.map((s) => ({ host: '127.0.0.1', port: Number(s.split(':')[1]) })) },
  });
  c = cluster(createRedis(config.redis, { maxRetriesPerRequest: 3 }), config);
});

after(async () => {
  c?.redis.disconnect();
  await rc?.stop();
});

test('BullMQ jobs run on a Redis Cluster: the scheduled cleanup and a delete-user job', async () => {
  assert.match(bullPrefix(c.keys), /^\{[^{}]+\}$/, "BullMQ's prefix is one hash tag");
  const jobs = await startJobs(c);
  try {
    await eventually('the scheduled run', async () => (await jobs.counts()).completed >= 1, 20_000);
    const alice = 'alice@localhost';
    assert.equal(await c.accounts.create(alice, 'secret-pw'), true);
    assert.equal(await c.redis.sismember(c.keys.accountIndex(), alice), 1, 'indexed (the index is in another slot)');
    const job = await jobs.deleteUser(alice);
    const done = await finished(jobs, job.id, 30_000);
    assert.equal(done.state, 'completed', done.failedReason);
    assert.equal(await c.redis.exists(c.keys.account(alice)), 0, 'the account is gone');
    assert.equal(await c.redis.sismember(c.keys.accountIndex(), alice), 0, 'and out of the index');
  } finally {
    await jobs.stop();
  }
});
