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
import type { Element } from 'ltx';
import type { Cluster } from 'ioredis';
import { chat, connectClient, isMessageWithBody, type TestClient } from '../integration/support/test-client.js';

const MUC = 'conference.localhost';
const MUC_NS = 'http://jabber.org/protocol/muc';
const MUC_USER_NS = 'http://jabber.org/protocol/muc#user';
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

/** Joins `room` as `nick` (accepting the default configuration of a new room); resolves with the occupant nicks shown. */
async function join(c: TestClient, room: string, nick: string): Promise<Set<string>> {
  const from = c.received.length;
  await c.send(xml('presence', { to: `${room}@${MUC}/${nick}` }, xml('x', { xmlns: MUC_NS })));
  const self = await c.waitForStanza((el) => el.name === 'presence' && el.attrs['from'] === `${room}@${MUC}/${nick}` && el.attrs['type'] === undefined
    && (el.getChild('x', MUC_USER_NS)?.getChildren('status').some((s) => s.attrs['code'] === '110') ?? false), 8000);
  if (self.getChild('x', MUC_USER_NS)?.getChildren('status').some((s) => s.attrs['code'] === '201')) {
    // XEP-0045 §10.1.2: a new room stays locked until its owner accepts the default configuration.
    const unlocked = await c.iq('set', `${room}@${MUC}`, xml('query', { xmlns: `${MUC_NS}#owner` }, xml('x', { xmlns: 'jabber:x:data', type: 'submit' })), 8000);
    assert.equal(unlocked.attrs['type'], 'result', String(unlocked));
  }
  const nicks = new Set<string>();
  for (const el of c.received.slice(from)) {
    if (el.name === 'presence' && el.attrs['type'] === undefined && String(el.attrs['from']).startsWith(`${room}@${MUC}/`)) {
      nicks.add(String(el.attrs['from']).slice(`${room}@${MUC}/`.length));
    }
  }
  return nicks;
}

function groupchat(room: string, body: string): Element {
  return xml('message', { to: `${room}@${MUC}`, type: 'groupchat', id: body }, xml('body', {}, body));
}

test('two clients chat in a room and directly, and the admin API works, on a Redis Cluster', async (t) => {
  const masters = await rc!.masters();
  assert.equal(masters.length, 3, 'three masters serve the slots');
  const alice = await login('alice', 'a');
  const bob = await login('bob', 'b');
  assert.deepEqual([...(await join(alice, ROOM, 'alice'))].sort(), ['alice']);
  assert.deepEqual([...(await join(bob, ROOM, 'bob'))].sort(), ['alice', 'bob']);
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
  await join(carol, 'failover', 'carol');
  await join(dave, 'failover', 'dave');
  const shardKey = keys.shardStream(shardForRoom(`failover@${MUC}`, SHARDS));
  const victim = await rc!.masterOf(shardKey);
  const direct: string[] = [];
  const group: string[] = [];
  const sentAt = new Map<string, number>();
  const arrivals: Array<{ body: string; at: number }> = [];
  const arrivedAt = new Map<string, number>();
  let duplicates = 0;
  for (const c of [dave, carol]) {
    c.xmpp.on('stanza', (el: Element) => {
      const body = el.name === 'message' && el.attrs['type'] !== 'error' ? el.getChildText('body') : null;
      if (body === null) return;
      // carol gets dave's groupchat; dave gets carol's direct message and his own groupchat echo.
      if (c === dave && body.startsWith('group-')) return;
      if (arrivedAt.has(body)) duplicates++;
      else arrivedAt.set(body, Date.now());
      arrivals.push({ body, at: Date.now() });
    });
  }
  let running = true;
  const traffic = (async () => {
    for (let i = 0; running; i++) {
      const d = `direct-${i}`;
      const g = `group-${i}`;
      direct.push(d);
      group.push(g);
      sentAt.set(d, Date.now());
      sentAt.set(g, Date.now());
      await carol.send(chat('dave@localhost/d', d)).catch(() => undefined);
      await dave.send(groupchat('failover', g)).catch(() => undefined);
      await sleep(100);
    }
  })();
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
  const deadline = killedAt + RECOVERY_BOUND_MS;
  let firstAfter: { body: string; at: number } | undefined;
  while (!firstAfter) {
    firstAfter = arrivals.find((a) => (sentAt.get(a.body) ?? 0) > killedAt);
    if (!firstAfter && Date.now() > deadline) {
      fail(t);
      assert.fail(`no message sent after the kill arrived within ${RECOVERY_BOUND_MS} ms`);
    }
    await sleep(20);
  }
  await sleep(2000);
  running = false;
  await traffic;
  const lastDirect = direct[direct.length - 1]!;
  const lastGroup = group[group.length - 1]!;
  await dave.waitForStanza(isMessageWithBody(lastDirect), 20_000).catch((err: unknown) => {
    fail(t);
    throw err;
  });
  await carol.waitForStanza(isMessageWithBody(lastGroup), 20_000);
  await sleep(1000);
  const times = arrivals.map((a) => a.at).sort((a, b) => a - b);
  let gapMs = 0;
  for (let i = 1; i < times.length; i++) gapMs = Math.max(gapMs, times[i]! - times[i - 1]!);
  const lost = [...direct, ...group].filter((b) => !arrivedAt.has(b));
  const refused = [...carol.received, ...dave.received].filter((el) => el.attrs['type'] === 'error' && el.name === 'message');
  note(
    `Redis Cluster failover (master of the room's shard, port ${victim}): replica serving its slots ${promotedAt - killedAt} ms after the SIGKILL; ` +
      `first message sent after the kill arrived ${firstAfter.at - killedAt} ms after it; longest silence at the receivers ${gapMs} ms; ` +
      `${direct.length} direct + ${group.length} groupchat sent, lost ${lost.length}${lost.length ? ` (${lost.join(', ')}; sent at ${lost.map((b) => sentAt.get(b)! - killedAt).join(', ')} ms from the kill)` : ''}, ` +
      `duplicated ${duplicates}, refused ${refused.length}`,
  );
  assert.ok(firstAfter.at - killedAt < RECOVERY_BOUND_MS);
  // What a failover may lose is what the old master had not yet sent to its replica, and
  // commands that failed while the slots had no master. Nothing sent after the promotion.
  for (const b of lost) assert.ok(sentAt.get(b)! < promotedAt, `${b} was sent after the promotion and lost`);
  for (const c of [carol, dave]) assert.deepEqual(c.errors.map((e) => e.condition ?? e.message), [], `${c.jid} got errors (its session ended)`);
  // The room still works for a newcomer.
  const erin = await login('erin', 'e');
  const seen = await join(erin, 'failover', 'erin');
  assert.ok(seen.has('carol') && seen.has('dave') && seen.has('erin'), [...seen].join(','));
});
