/*
 * Chaos: the Redis master dies and Redis Sentinel promotes its replica (issue #14 item 2).
 * One Sentinel set-up (a master, 1 replica, 3 sentinels; down-after 1000 ms, failover-timeout
 * 5000 ms), 2 gateways and 2 room workers configured with the sentinels only (their
 * `REDIS_URL` points at a closed port, so nothing works unless the sentinels are used).
 *  1. `WAIT 1` costs one replication round trip: measured against a plain write.
 *  2. Under traffic (a direct message and a groupchat message every 100 ms between clients on
 *     different gateways), the master is SIGKILLed: the sentinels promote the replica, the
 *     sessions stay open, messages flow again, and what was lost (replication is
 *     asynchronous) is counted; nobody is reaped and the room keeps its occupants.
 * Figures are printed as `# ...` lines; docs/operations.md "Redis high availability" quotes them.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { keySpace, type KeySpace } from '@parley/bus';
import { loginPlain, RawClient, startGateway, startRedisSentinel, startRoomWorker, type GatewayProcess, type RedisSentinelSet, type RoomWorkerProcess } from '@parley/testkit';
import { xml } from '@xmpp/client';
import { Redis } from 'ioredis';
import { connectClient, isMessageWithBody, type TestClient } from '../integration/support/test-client.js';
import { groupchat, joinRoom, startRoomTraffic } from './support/room-traffic.js';

const SHARDS = 4;
/** Messages must flow again within this long after the master was killed, ms. */
const RECOVERY_BOUND_MS = 20_000;

let sentinel: RedisSentinelSet | undefined;
let db: Redis;
let keys: KeySpace;
const gateways: GatewayProcess[] = [];
const workers: RoomWorkerProcess[] = [];
const clients: TestClient[] = [];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const note = (line: string) => process.stdout.write(`# ${line}\n`);

before(async () => {
  sentinel = await startRedisSentinel({ replicas: 1, sentinels: 3, downAfterMs: 1000, failoverTimeoutMs: 5000 });
  const prefix = `it:sentinel:${randomBytes(3).toString('hex')}:`;
  keys = keySpace(prefix);
  const env = {
    ...sentinel.env,
    PARLEY_AUTH_BACKEND: 'open-insecure-test-only',
    PARLEY_ALLOW_PLAIN_WITHOUT_TLS: 'true',
    PARLEY_MUC_SHARDS: String(SHARDS),
    PARLEY_SM_RESUME_TIMEOUT_SEC: '0',
  };
  // A closed port: every connection must come from the sentinels.
  const o = { redisUrl: 'redis://127.0.0.1:1', keyPrefix: prefix, env };
  const started = await Promise.all([startGateway(o), startGateway(o), startRoomWorker(o), startRoomWorker(o)]);
  gateways.push(started[0], started[1]);
  workers.push(started[2], started[3]);
  db = sentinel.client();
  const leases = Array.from({ length: SHARDS }, (_, s) => keys.shardLease(s));
  const deadline = Date.now() + 30_000;
  while ((await db.exists(...leases)) < SHARDS) {
    if (Date.now() > deadline) throw new Error('shards not owned through the sentinels');
    await sleep(50);
  }
  // Open authentication creates the account on a first PLAIN login (SCRAM needs it stored).
  await Promise.all(['henry', 'ivy', 'judy'].map(async (user) => {
    const raw = await RawClient.connect(gateways[0]!.c2sPort);
    await loginPlain(raw, { domain: 'localhost', user, password: 'pw' });
    raw.destroy();
  }));
});

after(async () => {
  for (const c of clients) await c.stop();
  await Promise.all([...gateways, ...workers].map((p) => p.stop()));
  await sentinel?.stop();
});

function fail(t: { diagnostic(m: string): void }): void {
  for (const p of [...gateways, ...workers]) t.diagnostic(`--- pid ${p.pid}\n${p.output().split('\n').slice(-40).join('\n')}`);
}

async function login(gw: GatewayProcess, user: string, resource: string, available = true): Promise<TestClient> {
  const c = await connectClient({ service: `xmpp://127.0.0.1:${gw.c2sPort}`, username: user, password: 'pw', resource });
  clients.push(c);
  if (available) await c.send(xml('presence'));
  return c;
}

/**
 * Two writers on their own connections to the Redis at `port` (no reconnect): `fast` INCRs
 * one key in pipelines of 100, `waited` INCRs another and then waits for `WAIT 1`. Each
 * remembers the highest value the master acknowledged (for `waited`: and the replica).
 */
async function writersAt(port: number): Promise<{ stop(): Promise<{ fast: number; waited: number }>; read(db: Redis): Promise<{ fast: number; waited: number }> }> {
  const fastKey = `${keys.prefix}failover-fast`;
  const waitedKey = `${keys.prefix}failover-waited`;
  const open = () => {
    const c = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false, autoResendUnfulfilledCommands: false });
    c.on('error', () => undefined);
    return c;
  };
  const a = open();
  const b = open();
  await Promise.all([a.connect(), b.connect()]);
  let running = true;
  const acked = { fast: 0, waited: 0 };
  const fast = (async () => {
    while (running) {
      const p = a.pipeline();
      for (let i = 0; i < 100; i++) p.incr(fastKey);
      const replies = await p.exec().catch(() => null);
      if (!replies) return;
      for (const [err, v] of replies) if (!err) acked.fast = Math.max(acked.fast, Number(v));
      if (replies.some(([err]) => err)) return;
    }
  })();
  const waited = (async () => {
    while (running) {
      try {
        const v = await b.incr(waitedKey);
        if (Number(await b.call('WAIT', '1', '1000')) >= 1) acked.waited = v;
      } catch {
        return;
      }
    }
  })();
  return {
    async stop() {
      running = false;
      await Promise.all([fast, waited]);
      a.disconnect();
      b.disconnect();
      return acked;
    },
    async read(db) {
      for (let attempt = 0; ; attempt++) {
        try {
          const [f, w] = await db.mget(fastKey, waitedKey);
          return { fast: Number(f ?? 0), waited: Number(w ?? 0) };
        } catch (err) {
          if (attempt > 100) throw err;
          await sleep(100);
        }
      }
    },
  };
}

const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;

test('WAIT 1 costs one replication round trip', async () => {
  const plain: number[] = [];
  const waited: number[] = [];
  for (let i = 0; i < 300; i++) {
    let t0 = process.hrtime.bigint();
    await db.set(`${keys.prefix}wait-probe`, String(i));
    plain.push(Number(process.hrtime.bigint() - t0) / 1e6);
    t0 = process.hrtime.bigint();
    await db.set(`${keys.prefix}wait-probe`, String(i));
    // A generous timeout: with the whole suite sharing 2 vCPUs the replica once took over 1 s
    // to acknowledge (CI, 2026-12-07); the figure measured is the median, not this bound.
    const acked = Number(await db.call('WAIT', '1', '5000'));
    waited.push(Number(process.hrtime.bigint() - t0) / 1e6);
    assert.equal(acked, 1, 'the replica acknowledged the write');
  }
  const f = (x: number) => x.toFixed(3);
  note(`WAIT 1: SET alone median ${f(percentile(plain, 0.5))} ms (p99 ${f(percentile(plain, 0.99))}); SET then WAIT 1 median ${f(percentile(waited, 0.5))} ms (p99 ${f(percentile(waited, 0.99))}); 300 sequential writes on loopback`);
  assert.ok(percentile(waited, 0.5) >= percentile(plain, 0.5), 'WAIT adds a round trip');
});

test('the master is SIGKILLed under traffic: Sentinel promotes the replica, sessions stay open, messages flow again', async (t) => {
  const [gwA, gwB] = gateways as [GatewayProcess, GatewayProcess];
  const henry = await login(gwA, 'henry', 'h');
  const ivy = await login(gwB, 'ivy', 'i');
  await joinRoom(henry, 'failover', 'henry');
  await joinRoom(ivy, 'failover', 'ivy');
  const traffic = startRoomTraffic(henry, ivy, 'ivy@localhost/i', 'failover');
  await sleep(2000);
  const oldMaster = await sentinel!.masterPort();
  assert.equal(oldMaster, sentinel!.nodes[0]!.port, 'the first node is the master');
  // Two writers straight at the master while it dies: pipelined INCRs as fast as it answers
  // (what an acknowledged write may lose), and INCR + WAIT 1 (what WAIT protects).
  const counters = await writersAt(oldMaster);
  await sleep(300);
  const killedAt = Date.now();
  await sentinel!.nodes[0]!.kill('SIGKILL');
  const acked = await counters.stop();
  const newMaster = await sentinel!.waitForNewMaster(oldMaster, 30_000);
  const promotedAt = Date.now();
  assert.equal(newMaster, sentinel!.nodes[1]!.port, 'the replica was promoted');
  const kept = await counters.read(db);
  note(`writes acknowledged by the old master: ${acked.fast} pipelined INCRs, of which the promoted replica has ${kept.fast} (lost ${acked.fast - kept.fast}); ${acked.waited} INCRs acknowledged by WAIT 1, the replica has ${kept.waited}`);
  assert.ok(kept.waited >= acked.waited, 'a write acknowledged by WAIT 1 survived the failover');
  assert.ok(acked.fast > 0 && acked.waited > 0, 'both writers wrote before the kill');
  // Messages sent after the kill arrive again (the first one is the recovery time).
  const firstAfter = await traffic.firstSentAfter(killedAt, killedAt + RECOVERY_BOUND_MS);
  if (!firstAfter) {
    fail(t);
    assert.fail(`no message sent after the kill arrived within ${RECOVERY_BOUND_MS} ms`);
  }
  await sleep(3000);
  await traffic.drain(20_000).catch((err: unknown) => {
    fail(t);
    throw err;
  });
  const { direct, group, sentAt, arrivedAt } = traffic;
  await sleep(1000);

  // The longest silence at the receivers around the failover.
  const gapMs = traffic.longestSilenceMs();
  const lost = traffic.lost();
  const lostSentAt = lost.map((b) => sentAt.get(b)! - killedAt);
  const refused = [...henry.received, ...ivy.received].filter((el) => el.attrs['type'] === 'error' && el.name === 'message');
  // Messages sent in the outage window that arrived: sent after the kill, before messages flowed again.
  const duringOutage = [...sentAt].filter(([, at]) => at >= killedAt && at < firstAfter.at).map(([b]) => b);
  const drainedMs = Math.max(0, ...duringOutage.filter((b) => arrivedAt.has(b)).map((b) => arrivedAt.get(b)! - killedAt));
  note(
    `Sentinel failover: promoted ${promotedAt - killedAt} ms after the SIGKILL; first message sent after the kill arrived ${firstAfter.at - killedAt} ms after it; ` +
      `longest silence at the receivers ${gapMs} ms; ${direct.length} direct + ${group.length} groupchat sent, ${duringOutage.length} during the outage (all arrived within ${drainedMs} ms of the kill), ` +
      `lost ${lost.length}${lost.length ? ` (sent at ${lostSentAt.join(', ')} ms from the kill)` : ''}, duplicated ${traffic.duplicates}, refused ${refused.length}`,
  );
  assert.ok(firstAfter.at - killedAt < RECOVERY_BOUND_MS);
  // What a failover may lose is what the old master had not yet sent to the replica: writes
  // acknowledged shortly before the kill, or in flight at it. Nothing sent after the promotion.
  for (const b of lost) assert.ok(sentAt.get(b)! < promotedAt, `${b} was sent after the promotion and lost`);
  assert.deepEqual(refused.map(String), [], 'no stanza refused (the outage buffer did not fill)');
  for (const c of [henry, ivy]) assert.deepEqual(c.errors.map((e) => e.condition ?? e.message), [], `${c.jid} got errors (its session ended)`);

  // Nobody was reaped for the failover, and the room holds exactly the connected occupants.
  await sleep(6000); // past gateway.deadAfterMs (5000): a wrong reap would have happened by now
  for (const gw of gateways) assert.equal(await db.exists(keys.gatewayToken(gw.gatewayId)), 1, `${gw.gatewayId} was reaped for the failover`);
  const judy = await login(gwA, 'judy', 'j', false);
  const seen = await joinRoom(judy, 'failover', 'judy');
  assert.deepEqual([...seen].sort(), ['henry', 'ivy', 'judy']);
  await ivy.send(groupchat('failover', 'after-failover'));
  await henry.waitForStanza(isMessageWithBody('after-failover'), 5000);
  await judy.waitForStanza(isMessageWithBody('after-failover'), 5000);
});
