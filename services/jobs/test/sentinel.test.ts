// The jobs service on Redis Sentinel (issue #14 item 2): our client and BullMQ's (its own
// ioredis) find the master through the sentinels, and follow it when the master is
// SIGKILLed and a replica promoted.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startRedisSentinel, type RedisSentinelSet } from '@parley/testkit';
import { cluster, eventually, finished, startJobs, testConfig, testPrefix, type Cluster } from './support/harness.js';

let sentinel: RedisSentinelSet;
let c: Cluster;

before(async () => {
  sentinel = await startRedisSentinel({ replicas: 1, sentinels: 3, downAfterMs: 1000, failoverTimeoutMs: 5000 });
  const config = testConfig('redis://127.0.0.1:1', testPrefix('jobs-sentinel'), {
    // A closed port in redis.url: only the sentinels lead to Redis.
    'redis.sentinel': { masterName: sentinel.masterName, sentinels: sentinel.sentinelPorts.map((port) => ({ host: '127.0.0.1', port })) },
  });
  c = cluster(sentinel.client(), config);
});

after(async () => {
  await sentinel?.stop();
});

test('jobs run through the sentinels, before and after a failover', async () => {
  const jobs = await startJobs(c);
  try {
    // The repeatable cleanup runs once at start: BullMQ's worker reached the master.
    await eventually('the scheduled run', async () => (await jobs.counts()).completed >= 1);
    const oldMaster = await sentinel.masterPort();
    await sentinel.nodes[0]!.kill('SIGKILL');
    const newMaster = await sentinel.waitForNewMaster(oldMaster, 30_000);
    assert.equal(newMaster, sentinel.nodes[1]!.port);
    const job = await eventually('an enqueue on the new master', () => jobs.cleanupOffline().catch(() => undefined), 20_000);
    const done = await finished(jobs, job.id, 30_000);
    assert.equal(done.state, 'completed', done.failedReason);
  } finally {
    await jobs.stop();
  }
});
