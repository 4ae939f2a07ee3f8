// Against the real job queue (@parley/jobs on BullMQ, workers in this process): an
// announcement and a deletion started over REST run to 100%, and their status is readable
// at /v1/jobs/{id}. Also /v1/cluster, /healthz, /readyz and /metrics.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import { AccountStore } from '@parley/accounts';
import { keySpace } from '@parley/bus';
import { RoomCommands, Sessions } from '@parley/control';
import { Jobs } from '@parley/jobs';
import { startRedis, type RedisServer } from '@parley/testkit';
import { AS, addSession, deliveries, testApp, testConfig, testPrefix, type TestApp } from './support/harness.js';

let server: RedisServer;
let redis: Redis;
let t: TestApp;
let jobs: Jobs;
let ready = true;

before(async () => {
  server = await startRedis();
  redis = server.client();
  const prefix = testPrefix('jobs');
  const config = testConfig(server.url, prefix);
  const keys = keySpace(prefix);
  const accounts = new AccountStore(redis, keys, config.auth.scramIterations);
  const sessions = new Sessions(redis, keys);
  const rooms = new RoomCommands(redis, keys, { shards: config.muc.shards, timeoutMs: 1000 });
  jobs = new Jobs({ redisUrl: server.url, keys, config, log: pino({ level: 'silent' }), accounts, sessions, rooms, runWorkers: true });
  await jobs.start();
  t = await testApp(redis, server.url, {
    name: 'jobs',
    deps: { config, keys, accounts, sessions, rooms, jobs, isReady: () => ready, clusterMetrics: async () => '# HELP parley_test 1\n# TYPE parley_test gauge\nparley_test{service="gateway",process="gw-1"} 7\n' },
  });
});
after(async () => {
  await t?.close();
  await jobs?.stop();
  await server?.stop();
});

async function waitForJob(location: string, state = 'completed'): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const res = await t.app.inject({ method: 'GET', url: location, headers: AS.read });
    assert.equal(res.statusCode, 200, res.body);
    const job = res.json() as Record<string, unknown>;
    if (job.state === state) return job;
    if (Date.now() > deadline) assert.fail(`job still ${String(job.state)}: ${res.body}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('jobs', () => {
  test('an announcement reaches every online session; the job reaches 100%', async () => {
    await addSession(redis, t.keys, 'a@example.com/1', { gateway: 'gw-j' });
    await addSession(redis, t.keys, 'b@example.org/2', { gateway: 'gw-j' });
    const res = await t.app.inject({ method: 'POST', url: '/v1/announcements', headers: AS.admin, payload: { body: 'restart at noon', subject: 'Ops' } });
    assert.equal(res.statusCode, 202);
    assert.equal(res.json().name, 'announce');
    const job = await waitForJob(res.headers.location as string);
    assert.equal(job.progress, 100);
    assert.deepEqual(job.result, { delivered: 2 });
    const sent = (await deliveries(redis, t.keys, 'gw-j')).filter((e) => e.kind === 'stanza');
    assert.deepEqual(sent.map((e) => e.to).sort(), ['a@example.com/1', 'b@example.org/2']);
    assert.ok(sent.every((e) => e.xml!.includes('<body>restart at noon</body>')));
  });

  test('deleting a user runs to completion and tombstones the name', async () => {
    await t.accounts.create('del@example.com', 'pw');
    const res = await t.app.inject({ method: 'DELETE', url: '/v1/users/del@example.com', headers: AS.admin });
    assert.equal(res.statusCode, 202);
    assert.equal(res.headers.location, `/v1/jobs/${encodeURIComponent('delete-user:del@example.com')}`);
    const job = await waitForJob(res.headers.location as string);
    assert.equal(job.progress, 100);
    assert.equal(await t.accounts.exists('del@example.com'), false);
    const again = await t.app.inject({ method: 'POST', url: '/v1/users', headers: AS.admin, payload: { jid: 'del@example.com', password: 'pw' } });
    assert.equal(again.statusCode, 409);
    assert.equal(again.json().error, 'tombstoned');
  });

  test('cleanup-offline on demand: 202 and completes', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/v1/jobs/cleanup-offline', headers: AS.admin });
    assert.equal(res.statusCode, 202);
    await waitForJob(res.headers.location as string);
  });

  test('an unknown job: 404 job-not-found', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/v1/jobs/999999', headers: AS.read });
    assert.equal(res.statusCode, 404);
    assert.equal(res.json().error, 'job-not-found');
  });
});

describe('cluster and health', () => {
  test('/v1/cluster: gateways, workers, shards, redis, job counts', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/v1/cluster', headers: AS.read });
    assert.equal(res.statusCode, 200);
    const body = res.json();
    assert.equal(body.shards.length, 4);
    assert.deepEqual(body.shards[0], { shard: 0, streamLength: 0, cursor: '0-0' });
    assert.ok(body.gateways.some((g: { id: string; sessions: number }) => g.id === 'gw-j' && g.sessions === 2));
    assert.match(body.redis.version, /^\d+\./);
    assert.equal(typeof body.redis.rttMs, 'number');
    assert.ok(body.jobs.completed >= 3);
  });

  test('/healthz 200; /readyz 200 when ready, 503 unavailable when not', async () => {
    assert.deepEqual((await t.app.inject({ method: 'GET', url: '/healthz' })).json(), { status: 'ok' });
    const ok = await t.app.inject({ method: 'GET', url: '/readyz', headers: AS.read });
    assert.equal(ok.statusCode, 200);
    assert.deepEqual(ok.json(), { status: 'ready', checks: { redis: 'ok', jobs: 'ok' } });
    ready = false;
    try {
      const no = await t.app.inject({ method: 'GET', url: '/readyz', headers: AS.read });
      assert.equal(no.statusCode, 503);
      assert.deepEqual(no.json(), { error: 'unavailable', message: 'not ready', details: { redis: 'ok', jobs: 'not started' } });
    } finally {
      ready = true;
    }
  });

  test('/metrics: own series (requests by route, job depth, Redis RTT) then the cluster\'s', async () => {
    await t.app.inject({ method: 'GET', url: '/v1/users' }); // a 401
    const res = await t.app.inject({ method: 'GET', url: '/metrics', headers: AS.read });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/plain/);
    assert.match(res.body, /parley_admin_http_requests_total\{method="GET",route="\/v1\/users",status="401",service="admin-api",process="admin-api"\} 1/);
    assert.match(res.body, /parley_jobs\{state="completed",service="admin-api",process="admin-api"\} [3-9]/);
    assert.match(res.body, /parley_admin_redis_rtt_seconds\{[^}]*\} (0\.\d+|\d\.\d+e-\d+)/);
    assert.match(res.body, /\nparley_test\{service="gateway",process="gw-1"\} 7\n/);
    // One TYPE line per metric name: the concatenation stays a valid exposition.
    const types = res.body.split('\n').filter((l) => l.startsWith('# TYPE ')).map((l) => l.split(' ')[2]);
    assert.equal(new Set(types).size, types.length);
  });
});
