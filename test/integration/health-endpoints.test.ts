/*
 * Health listeners of gateways and room workers (issue #14 item 4; `gateway.healthPort`,
 * `roomWorker.healthPort`): `/healthz` while the process runs, `/readyz` 200 only while the
 * process is registered in Redis with a fresh heartbeat, 503 (with fixed words, no secret)
 * when Redis is gone; no token; through the outage every log line stays JSON (Redis client
 * errors included); `/metrics` with the process's own series when
 * `metrics.healthListenerEnabled` (off by default: 404). Also: the gateway's `ready` log line
 * reports `healthPort` (-1 when off, the default).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { freePort, startGateway, startRedis, startRoomWorker, type GatewayProcess, type RedisServer, type RoomWorkerProcess } from '@parley/testkit';

const keyPrefix = 'health:';
let redis: RedisServer;
let gateway: GatewayProcess;
let worker: RoomWorkerProcess;
let gwHealth: number;
let rwHealth: number;

before(async () => {
  redis = await startRedis({ acl: true });
  gwHealth = await freePort();
  rwHealth = await freePort();
  [gateway, worker] = await Promise.all([
    startGateway({ redisUrl: redis.url, keyPrefix, env: { PARLEY_GATEWAY_HEALTH_PORT: String(gwHealth), PARLEY_METRICS_HEALTH_LISTENER_ENABLED: 'true' } }),
    startRoomWorker({
      redisUrl: redis.url,
      keyPrefix,
      env: { PARLEY_ROOM_WORKER_HEALTH_PORT: String(rwHealth), PARLEY_LEASE_TTL_MS: '2000', PARLEY_ROOM_WORKER_HEARTBEAT_MS: '250', PARLEY_METRICS_HEALTH_LISTENER_ENABLED: 'true' },
    }),
  ]);
});

after(async () => {
  await Promise.allSettled([gateway?.stop(), worker?.stop()]);
  await redis?.stop();
});

async function get(port: number, path: string, method = 'GET'): Promise<{ status: number; body: Record<string, unknown>; text: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { method });
  const text = await res.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // HEAD or not JSON
  }
  return { status: res.status, body, text };
}

async function until<T>(probe: () => Promise<T>, ok: (v: T) => boolean, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (ok(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('gateway and room worker: /healthz and /readyz without a token, 404/405 otherwise', async () => {
  const ready = JSON.parse(gateway.logs.find((l) => l.includes('"gateway ready"'))!) as Record<string, unknown>;
  assert.equal(ready.healthPort, gwHealth);
  assert.deepEqual((await get(gwHealth, '/healthz')).body, { status: 'ok' });
  assert.deepEqual((await get(rwHealth, '/healthz')).body, { status: 'ok' });

  const g = await get(gwHealth, '/readyz');
  assert.equal(g.status, 200, g.text);
  assert.deepEqual(g.body, { status: 'ready', checks: { process: 'ok', redis: 'ok', registration: 'ok', heartbeat: 'ok' } });
  // The single worker ends up with every shard.
  const w = await until(() => get(rwHealth, '/readyz'), (r) => r.body.shards === 64, 15_000);
  assert.equal(w.status, 200, w.text);
  assert.deepEqual(w.body, { status: 'ready', checks: { process: 'ok', redis: 'ok', membership: 'ok' }, shards: 64 });

  assert.equal((await get(rwHealth, '/readyz', 'POST')).status, 405);
  assert.equal((await get(gwHealth, '/readyz', 'HEAD')).status, 200);
});

test('metrics.healthListenerEnabled: each process\'s own metrics at /metrics, labelled service and process, never instance', async () => {
  for (const [port, service, id, series] of [
    [gwHealth, 'gateway', gateway.gatewayId, 'parley_connections'],
    [rwHealth, 'room-worker', worker.workerId, 'parley_rooms'],
  ] as const) {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    const text = await res.text();
    assert.equal(res.status, 200, text);
    assert.match(String(res.headers.get('content-type')), /^text\/plain; version=0\.0\.4/);
    assert.match(text, new RegExp(`\\n${series}\\{[^}]*service="${service}",process="${id}"\\} \\d`), text);
    assert.doesNotMatch(text, /[{,]instance="/, 'no instance label: Prometheus sets its own');
    const samples = text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    assert.ok(samples.length > 0 && samples.every((l) => l.includes(`process="${id}"`)), 'every series names this process only');
  }
});

test('Redis gone: /readyz 503 with fixed words (no address, no password), /healthz still 200', async () => {
  await redis.kill('SIGKILL');
  try {
    const g = await until(() => get(gwHealth, '/readyz'), (r) => r.status === 503, 10_000);
    assert.equal(g.status, 503, g.text);
    assert.equal(g.body.status, 'unavailable');
    assert.equal((g.body.checks as Record<string, string>).redis, 'unreachable');
    const w = await until(() => get(rwHealth, '/readyz'), (r) => r.status === 503, 10_000);
    assert.equal(w.status, 503, w.text);
    assert.equal((w.body.checks as Record<string, string>).redis, 'unreachable');
    const secret = new URL(redis.url).password;
    for (const text of [g.text, w.text]) {
      assert.ok(!text.includes(secret) && !text.includes(String(redis.port)), text);
    }
    assert.equal((await get(gwHealth, '/healthz')).status, 200);
    assert.equal((await get(rwHealth, '/healthz')).status, 200);
    // The room worker's reconnects fail while Redis is down: it says so in a JSON line (the
    // first retry may come only after a restart that is quick enough, so wait for it here).
    const said = (l: string) => (JSON.parse(l) as Record<string, unknown>).msg === 'Redis connection error; retrying';
    await until(async () => worker.logs.some(said), (yes) => yes, 10_000);
  } finally {
    await redis.restart();
  }
  // Back: ready again once the heartbeats are written.
  const g = await until(() => get(gwHealth, '/readyz'), (r) => r.status === 200, 15_000);
  assert.equal(g.status, 200, g.text);
  const w = await until(() => get(rwHealth, '/readyz'), (r) => r.status === 200, 15_000);
  assert.equal(w.status, 200, w.text);
  // Issue #14 item 4: every log line is JSON, the Redis client's connection errors included
  // (ioredis prints a plain "[ioredis] Unhandled error event" to stderr for a client without
  // an error listener); none on stderr.
  for (const p of [gateway, worker]) {
    assert.deepEqual(p.stderr.filter((l) => l.trim() !== ''), [], p.output());
    for (const l of p.logs) assert.doesNotThrow(() => JSON.parse(l), l);
  }
  assert.ok(worker.logs.some((l) => (JSON.parse(l) as Record<string, unknown>).msg === 'Redis connection error; retrying'), worker.output());
});

test('health listener off by default: the ready line says healthPort -1; /metrics off by default', async () => {
  const other = await startGateway({ redisUrl: redis.url, keyPrefix });
  try {
    const ready = JSON.parse(other.logs.find((l) => l.includes('"gateway ready"'))!) as Record<string, unknown>;
    assert.equal(ready.healthPort, -1);
  } finally {
    await other.stop();
  }
  // With a health listener but metrics.healthListenerEnabled left off (the default): no /metrics there.
  const third = await startGateway({ redisUrl: redis.url, keyPrefix, env: { PARLEY_GATEWAY_HEALTH_PORT: '0' } });
  try {
    const port = Number((JSON.parse(third.logs.find((l) => l.includes('"gateway ready"'))!) as Record<string, unknown>).healthPort);
    // Ready once its heartbeat thread has beaten (it may lag the ready line by a beat).
    const r = await until(() => get(port, '/readyz'), (x) => x.status === 200, 15_000);
    assert.equal(r.status, 200, r.text);
    assert.equal((await get(port, '/metrics')).status, 404);
  } finally {
    await third.stop();
  }
});
