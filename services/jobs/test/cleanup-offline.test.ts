// cleanup-offline: only messages stored longer ago than the retention period go, judged by
// the delay stamp the gateway added; the job also runs on a schedule.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Element } from 'ltx';
import { startRedis, type RedisServer } from '@parley/testkit';
import { NS, serialize } from '@parley/xml';
import { cluster, eventually, finished, startJobs, testConfig, testPrefix, type Cluster } from './support/harness.js';

const DAY = 24 * 3600 * 1000;

let server: RedisServer;
let c: Cluster;

before(async () => {
  server = await startRedis();
  c = cluster(server.client(), testConfig(server.url, testPrefix('jobs-cleanup')));
});

after(async () => {
  await server?.stop();
});

/** An offline message as the gateway's OfflineStore stores it: its delay appended last. */
function stored(body: string, storedAt: number, inner?: number): string {
  const msg = new Element('message', { xmlns: NS.CLIENT, from: 'someone@localhost/x', to: 'u@localhost', type: 'chat' });
  msg.c('body').t(body).up();
  if (inner !== undefined) {
    // A forwarded message with its own (older) delay, which must not count.
    msg.c('forwarded', { xmlns: 'urn:xmpp:forward:0' }).c('delay', { xmlns: NS.DELAY, stamp: new Date(inner).toISOString() }).up().up();
  }
  msg.c('delay', { xmlns: NS.DELAY, from: 'localhost', stamp: new Date(storedAt).toISOString() }).up();
  return serialize(msg);
}

test('cleanup-offline removes only messages older than the retention period', async () => {
  const jobs = await startJobs(c);
  try {
    // The schedule runs once at start (BullMQ's `every`), then waits for the next period.
    await eventually('the scheduled run', async () => (await jobs.counts()).completed >= 1);
    const counts = await jobs.counts();
    assert.equal(counts.delayed, 1, `the next scheduled run: ${JSON.stringify(counts)}`);

    const now = Date.now();
    const a = ['a@localhost', [stored('old-1', now - 40 * DAY), stored('old-2', now - 31 * DAY), stored('new-1', now - 29 * DAY), stored('new-2', now - 1000)]] as const;
    // Out of order (clocks of different gateways), a nested old delay, and an unparseable entry.
    const b = ['b@localhost', [stored('new-3', now - DAY), stored('old-3', now - 35 * DAY), stored('new-4', now - DAY, now - 90 * DAY), '<message><broken']] as const;
    for (const [bare, items] of [a, b]) {
      await c.redis.sadd(c.keys.accountIndex(), bare);
      await c.redis.rpush(c.keys.offline(bare), ...items);
    }
    await c.redis.sadd(c.keys.accountIndex(), 'empty@localhost');

    const job = await jobs.cleanupOffline();
    const done = await finished(jobs, job.id);
    assert.equal(done.state, 'completed', done.failedReason);
    assert.equal(done.progress, 100);
    assert.deepEqual(done.result, { removed: 3 });

    const bodies = async (bare: string) => (await c.redis.lrange(c.keys.offline(bare), 0, -1)).map((x) => /<body>([^<]*)/.exec(x)?.[1] ?? x);
    assert.deepEqual(await bodies('a@localhost'), ['new-1', 'new-2']);
    assert.deepEqual(await bodies('b@localhost'), ['new-3', 'new-4', '<message><broken']);

    const again = await finished(jobs, (await jobs.cleanupOffline()).id);
    assert.deepEqual(again.result, { removed: 0 });
  } finally {
    await jobs.stop();
  }
});
