// announce: a headline to every online session, exactly once per session even when an
// attempt fails half-way and the job is retried.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startRedis, type RedisServer } from '@parley/testkit';
import { cluster, deliveries, eventually, fakeSession, finished, startJobs, testConfig, testPrefix, type Cluster } from './support/harness.js';

let server: RedisServer;
let c: Cluster;

before(async () => {
  server = await startRedis();
  c = cluster(server.client(), testConfig(server.url, testPrefix('jobs-announce'), { hosts: ['example.org', 'other.example'] }));
});

after(async () => {
  await server?.stop();
});

test('announce reaches every session exactly once, across a retry', async () => {
  await fakeSession(c, { bare: 'u1@example.org', resource: 'a', gateway: 'gwA', sessionId: 's1' });
  await fakeSession(c, { bare: 'u2@example.org', resource: 'b', gateway: 'gwA', sessionId: 's2' });
  await fakeSession(c, { bare: 'u3@example.org', resource: 'c', gateway: 'gwB', sessionId: 's3' });
  // gwB's delivery stream is not a stream: the first attempt serves u1 and u2 (sorted
  // first), then fails on u3.
  await c.redis.set(c.keys.gatewayDelivery('gwB'), 'not a stream');

  const jobs = await startJobs(c);
  try {
    const job = await jobs.announce('Back at 10:00 <UTC>', { subject: 'Maintenance' });
    assert.equal(job.name, 'announce');
    assert.deepEqual(job.data, { body: 'Back at 10:00 <UTC>', subject: 'Maintenance' });

    const failedOnce = await eventually('the first attempt to fail', async () => {
      const info = await jobs.get(job.id);
      return info && info.attemptsMade >= 1 ? info : undefined;
    });
    assert.notEqual(failedOnce.state, 'completed');
    assert.match(failedOnce.failedReason ?? '', /WRONGTYPE/);
    await c.redis.del(c.keys.gatewayDelivery('gwB'));

    const done = await finished(jobs, job.id);
    assert.equal(done.state, 'completed', done.failedReason);
    assert.equal(done.attemptsMade, 2);
    assert.equal(done.progress, 100);
    assert.deepEqual(done.result, { delivered: 3 });

    const onA = await deliveries(c, 'gwA');
    const onB = await deliveries(c, 'gwB');
    assert.deepEqual(onA.map((e) => (e.kind === 'stanza' ? [e.to, e.sessionId] : e.kind)), [['u1@example.org/a', 's1'], ['u2@example.org/b', 's2']]);
    assert.deepEqual(onB.map((e) => (e.kind === 'stanza' ? [e.to, e.sessionId] : e.kind)), [['u3@example.org/c', 's3']]);
    const first = onA[0];
    assert.ok(first?.kind === 'stanza');
    assert.match(first.xml, /^<message [^>]*type="headline"/);
    assert.match(first.xml, / from="example\.org"/);
    assert.match(first.xml, / to="u1@example\.org\/a"/);
    assert.match(first.xml, /<subject>Maintenance<\/subject><body>Back at 10:00 &lt;UTC&gt;<\/body>/);
  } finally {
    await jobs.stop();
  }
});

test('announce skips sessions that ended and refuses an empty body', async () => {
  const jobs = await startJobs(c);
  try {
    // A registry entry in a gateway's set whose record is gone (logged out meanwhile).
    await c.redis.sadd(c.keys.gatewaySessions('gwA'), 'gone@example.org/x');
    const job = await jobs.announce('second');
    const done = await finished(jobs, job.id);
    assert.equal(done.state, 'completed', done.failedReason);
    assert.deepEqual(done.result, { delivered: 3 });
    assert.equal(done.attemptsMade, 1);
    await assert.rejects(jobs.announce('  '), { name: 'JobsError', code: 'EMPTY_BODY' });
    const counts = await jobs.counts();
    assert.ok(counts.completed >= 2, JSON.stringify(counts));
    assert.equal(counts.failed, 0);
  } finally {
    await jobs.stop();
  }
});
