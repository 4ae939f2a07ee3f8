/*
 * Parley on a Redis Cluster (issue #14 item 2): 3 masters with 1 replica each (Debian's
 * redis-server, `redis-cli --cluster create … --cluster-replicas 1`, cluster-node-timeout
 * 1000 ms), one gateway, one room worker and the admin API configured with the seed nodes
 * only (`PARLEY_REDIS_CLUSTER`; their `REDIS_URL` is a closed port).
 *  1. Two clients log in, join a room, exchange groupchat and a direct message; the admin API
 *     creates and lists a user and sends a message to an online one.
 *  2. Under traffic (a direct and a groupchat message every 100 ms), the master serving the
 *     room's shard stream is SIGKILLed: its replica is promoted, messages flow again, and
 *     what was lost (replication is asynchronous) is counted.
 * Figures are printed as `# ...` lines; docs/deploy.md "Redis Cluster" quotes them.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { keySpace, shardForRoom, type KeySpace } from '@parley/bus';
import { loginPlain, RawClient, startAdminApi, startGateway, startRedisCluster, startRoomWorker, type AdminApiProcess, type GatewayProcess, type RedisClusterSet, type RoomWorkerProcess } from '@parley/testkit';
import { xml } from '@xmpp/client';
import type { Cluster } from 'ioredis';
import { chat, connectClient, isMessageWithBody, type TestClient } from '../integration/support/test-client.js';
import { groupchat, joinRoom, MUC, startRoomTraffic } from './support/room-traffic.js';

const SHARDS = 4;
const ROOM = 'clusterroom';
/** Messages must flow again within this long after the master was killed, ms. */
const RECOVERY_BOUND_MS = 20_000;

let rc: RedisClusterSet | undefined;
let db: Cluster;
let keys: KeySpace;
let gateway: GatewayProcess;
let worker: RoomWorkerProcess;
let api: AdminApiProcess;
const clients: TestClient[] = [];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const note = (line: string) => process.stdout.write(`# ${line}\n`);

before(async () => {
  rc = await startRedisCluster({ masters: 3, replicasPerMaster: 1, nodeTimeoutMs: 1000 });
  const prefix = `it:cluster:${randomBytes(3).toString('hex')}:`;
  keys = keySpace(prefix);
  const env = {
    ...rc.env,
    PARLEY_AUTH_BACKEND: 'open-insecure-test-only',
    PARLEY_ALLOW_PLAIN_WITHOUT_TLS: 'true',
    PARLEY_MUC_SHARDS: String(SHARDS),
    PARLEY_SM_RESUME_TIMEOUT_SEC: '0',
  };
  // A closed port: every connection must go to the cluster's nodes.
  const o = { redisUrl: 'redis://127.0.0.1:1', keyPrefix: prefix, env };
  [gateway, worker, api] = await Promise.all([startGateway(o), startRoomWorker(o), startAdminApi(o)]);
  db = rc.client();
  const deadline = Date.now() + 30_000;
  // One EXISTS per lease: the leases are in different slots.
  const owned = async () => (await Promise.all(Array.from({ length: SHARDS }, (_, s) => db.exists(keys.shardLease(s))))).every((n) => n === 1);
  while (!(await owned())) {
    if (Date.now() > deadline) throw new Error('shards not owned on the cluster');
    await sleep(50);
  }
  // Open authentication creates the account on a first PLAIN login (SCRAM needs it stored).
  await Promise.all(['alice', 'bob', 'carol', 'dave', 'erin'].map(async (user) => {
    const raw = await RawClient.connect(gateway.c2sPort);
    await loginPlain(raw, { domain: 'localhost', user, password: 'pw' });
    raw.destroy();
  }));
});

after(async () => {
  for (const c of clients) await c.stop();
  await Promise.all([gateway, worker, api].filter(Boolean).map((p) => p.stop()));
  await rc?.stop();
});

function fail(t: { diagnostic(m: string): void }): void {
  for (const p of [gateway, worker, api]) t.diagnostic(`--- pid ${p.pid}\n${p.output().split('\n').slice(-40).join('\n')}`);
}

async function login(user: string, resource: string): Promise<TestClient> {
  const c = await connectClient({ service: `xmpp://127.0.0.1:${gateway.c2sPort}`, username: user, password: 'pw', resource });
  clients.push(c);
  await c.send(xml('presence'));
  return c;
}

test('two clients chat in a room and directly, and the admin API works, on a Redis Cluster', async (t) => {
  const masters = await rc!.masters();
  assert.equal(masters.length, 3, 'three masters serve the slots');
  const alice = await login('alice', 'a');
  const bob = await login('bob', 'b');
  assert.deepEqual([...(await joinRoom(alice, ROOM, 'alice'))].sort(), ['alice']);
  assert.deepEqual([...(await joinRoom(bob, ROOM, 'bob'))].sort(), ['alice', 'bob']);
  await alice.send(groupchat(ROOM, 'hello-cluster'));
  await bob.waitForStanza(isMessageWithBody('hello-cluster'), 8000).catch((err: unknown) => {
    fail(t);
    throw err;
  });
  await alice.waitForStanza(isMessageWithBody('hello-cluster'), 8000); // the sender's echo (XEP-0045 §7.4)
  await bob.send(chat('alice@localhost/a', 'direct-cluster'));
  await alice.waitForStanza(isMessageWithBody('direct-cluster'), 8000);

  // The admin API: a user created (account hash and index in different slots) and listed,
  // and a message from the server to an online session.
  const created = await fetch(`${api.url}/v1/users`, { method: 'POST', headers: { ...api.headers, 'content-type': 'application/json' }, body: JSON.stringify({ jid: 'kate@localhost', password: 'a-long-password' }) });
  assert.equal(created.status, 201, await created.text());
  const listed = (await (await fetch(`${api.url}/v1/users?q=kate`, { headers: api.headers })).json()) as { items: Array<{ jid: string }> };
  assert.deepEqual(listed.items.map((u) => u.jid), ['kate@localhost']);
  const sent = await fetch(`${api.url}/v1/messages`, { method: 'POST', headers: { ...api.headers, 'content-type': 'application/json' }, body: JSON.stringify({ to: 'bob@localhost', body: 'from-admin-api', type: 'chat' }) });
  assert.ok(sent.status < 300, `${sent.status} ${await sent.text()}`);
  await bob.waitForStanza(isMessageWithBody('from-admin-api'), 8000);
  for (const c of [alice, bob]) assert.deepEqual(c.errors.map((e) => e.condition ?? e.message), [], `${c.jid} got errors`);
});

test('the master of the room\'s shard is SIGKILLed under traffic: its replica is promoted and messages flow again', async (t) => {
  const carol = await login('carol', 'c');
  const dave = await login('dave', 'd');
  await joinRoom(carol, 'failover', 'carol');
  await joinRoom(dave, 'failover', 'dave');
  const shardKey = keys.shardStream(shardForRoom(`failover@${MUC}`, SHARDS));
  const victim = await rc!.masterOf(shardKey);
  const traffic = startRoomTraffic(carol, dave, 'dave@localhost/d', 'failover');
  await sleep(1500);
  const killedAt = Date.now();
  await rc!.nodes.find((n) => n.port === victim)!.kill('SIGKILL');
  await rc!.waitOk(30_000).catch(() => undefined);
  let promotedAt = 0;
  for (const deadline = Date.now() + 30_000; Date.now() < deadline; await sleep(50)) {
    const m: number[] = await rc!.masters().catch(() => []);
    if (m.length === 3 && !m.includes(victim)) {
      promotedAt = Date.now();
      break;
    }
  }
  assert.ok(promotedAt > 0, 'a replica took over the killed master\'s slots');
  const firstAfter = await traffic.firstSentAfter(killedAt, killedAt + RECOVERY_BOUND_MS);
  if (!firstAfter) {
    fail(t);
    assert.fail(`no message sent after the kill arrived within ${RECOVERY_BOUND_MS} ms`);
  }
  await sleep(2000);
  await traffic.drain(20_000).catch((err: unknown) => {
    fail(t);
    throw err;
  });
  const { direct, group, sentAt } = traffic;
  await sleep(1000);
  const gapMs = traffic.longestSilenceMs();
  const lost = traffic.lost();
  const refused = [...carol.received, ...dave.received].filter((el) => el.attrs['type'] === 'error' && el.name === 'message');
  note(
    `Redis Cluster failover (master of the room's shard, port ${victim}): replica serving its slots ${promotedAt - killedAt} ms after the SIGKILL; ` +
      `first message sent after the kill arrived ${firstAfter.at - killedAt} ms after it; longest silence at the receivers ${gapMs} ms; ` +
      `${direct.length} direct + ${group.length} groupchat sent, lost ${lost.length}${lost.length ? ` (${lost.join(', ')}; sent at ${lost.map((b) => sentAt.get(b)! - killedAt).join(', ')} ms from the kill)` : ''}, ` +
      `duplicated ${traffic.duplicates}, refused ${refused.length}`,
  );
  assert.ok(firstAfter.at - killedAt < RECOVERY_BOUND_MS);
  // What a failover may lose is what the old master had not yet sent to its replica, and
  // commands that failed while the slots had no master. Nothing sent after the promotion.
  for (const b of lost) assert.ok(sentAt.get(b)! < promotedAt, `${b} was sent after the promotion and lost`);
  for (const c of [carol, dave]) assert.deepEqual(c.errors.map((e) => e.condition ?? e.message), [], `${c.jid} got errors (its session ended)`);
  // The room still works for a newcomer.
  const erin = await login('erin', 'e');
  const seen = await joinRoom(erin, 'failover', 'erin');
  assert.ok(seen.has('carol') && seen.has('dave') && seen.has('erin'), [...seen].join(','));
});
