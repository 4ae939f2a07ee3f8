// Two processes publish their registries; readClusterMetrics merges what is live and
// forgets what expired.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { Counter } from 'prom-client';
import { keySpace } from '@parley/bus';
import { startRedis, type RedisServer } from '@parley/testkit';
import { createRegistry, MetricsPublisher, readClusterMetrics } from '../src/index.js';

let server: RedisServer;
let redis: Redis;
const keys = keySpace(`t-metrics-${randomBytes(4).toString('hex')}:`);

function process_(instance: string, publishMs: number) {
  const labels = { service: 'gateway', instance };
  const registry = createRegistry(labels);
  const logins = new Counter({ name: 'parley_logins_total', help: 'logins', labelNames: ['mechanism'], registers: [registry] });
  const publisher = new MetricsPublisher({ redis, keys, registry, labels, publishMs });
  return { registry, logins, publisher };
}

before(async () => {
  server = await startRedis();
  redis = server.client();
});
after(async () => {
  await server.stop();
});

describe('MetricsPublisher and readClusterMetrics', () => {
  it('merges the series of every live process, each with its service and instance', async () => {
    const a = process_('gw-a', 1000);
    const b = process_('gw-b', 1000);
    a.logins.labels('PLAIN').inc(2);
    b.logins.labels('PLAIN').inc(3);
    b.logins.labels('SCRAM-SHA-256').inc();
    await a.publisher.publish();
    await b.publisher.publish();

    assert.deepEqual((await redis.smembers(keys.metricsIndex())).sort(), [keys.processMetrics('gateway', 'gw-a'), keys.processMetrics('gateway', 'gw-b')]);
    const ttl = await redis.pttl(keys.processMetrics('gateway', 'gw-a'));
    assert.ok(ttl > 2000 && ttl <= 3000, `expires after three periods (pttl ${ttl})`);

    const text = await readClusterMetrics(redis, keys);
    assert.match(text, /^# TYPE parley_logins_total counter$/m);
    assert.match(text, /^parley_logins_total\{mechanism="PLAIN",service="gateway",process="gw-a"\} 2$/m);
    assert.match(text, /^parley_logins_total\{mechanism="PLAIN",service="gateway",process="gw-b"\} 3$/m);
    assert.match(text, /^parley_logins_total\{mechanism="SCRAM-SHA-256",service="gateway",process="gw-b"\} 1$/m);
    // The PING timed at each publication, and prom-client's process metrics (kept per instance).
    assert.match(text, /^parley_redis_rtt_seconds_count\{service="gateway",process="gw-a"\} 1$/m);
    assert.match(text, /^process_start_time_seconds\{service="gateway",process="gw-a"\} \d+/m);
    assert.match(text, /^process_start_time_seconds\{service="gateway",process="gw-b"\} \d+/m);

    await a.publisher.stop();
    await b.publisher.stop();
    assert.equal(await redis.scard(keys.metricsIndex()), 0, 'a clean stop removes the key and its index entry');
    assert.equal(await readClusterMetrics(redis, keys), '');
  });

  it('drops a process whose key expired from the index', async () => {
    const live = process_('gw-live', 100);
    const gone = process_('gw-gone', 100);
    live.publisher.start();
    gone.publisher.start();
    await sleep(50);
    assert.match(await readClusterMetrics(redis, keys), /process="gw-gone"/);

    await gone.publisher.stop({ remove: false }); // as if it died: no more writes, no cleanup
    await sleep(450); // > 3 × 100 ms after its last write
    const text = await readClusterMetrics(redis, keys);
    assert.match(text, /process="gw-live"/);
    assert.doesNotMatch(text, /process="gw-gone"/);
    assert.deepEqual(await redis.smembers(keys.metricsIndex()), [keys.processMetrics('gateway', 'gw-live')]);

    await live.publisher.stop();
  });

  it('leaves out a key that is not JSON', async () => {
    const p = process_('gw-ok', 1000);
    await p.publisher.publish();
    await redis.set(keys.processMetrics('gateway', 'gw-bad'), 'not json', 'PX', 10_000);
    await redis.sadd(keys.metricsIndex(), keys.processMetrics('gateway', 'gw-bad'));
    const text = await readClusterMetrics(redis, keys);
    assert.match(text, /process="gw-ok"/);
    assert.doesNotMatch(text, /gw-bad/);
    await p.publisher.stop();
  });
});
