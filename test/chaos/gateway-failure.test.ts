/*
 * Chaos: gateways and Redis failing under traffic (issue #10, items 4, 5 and 8).
 * One cluster: 3 gateways (A, B, C), 2 room workers, Redis with AOF `appendfsync everysec`.
 * Heartbeat 250 ms, dead after 1500 ms. In order:
 *  1. two clients flood gateway A: A is not reaped;
 *  2. gateway B is SIGSTOPped (so it reads nothing), stanzas are sent to its users, then it is
 *     SIGKILLed: every message reaches another resource or offline storage, the IQ bounces,
 *     and its room occupant leaves the room for the others (the reaper's `gateway-down`);
 *  3. gateway C is SIGSTOPped longer than deadAfterMs, then resumed: it was reaped, so its
 *     session is closed with the stream error `reset` (never left connected but out of the
 *     registry and rooms), and a new login on C works and rejoins;
 *  4. Redis is SIGKILLed for 6 s under traffic and restarted from its AOF: every session
 *     stays open, every message arrives, the room's occupants are the connected clients.
 * Figures (detection, failover gaps, recovery) are printed as `# ...` lines.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { loginPlain, RawClient, startMucCluster, type GatewayProcess, type MucCluster } from '@parley/testkit';
import { redisTimeMs } from '@parley/bus';
import { xml } from '@xmpp/client';
import type { Element } from 'ltx';
import type { Redis } from 'ioredis';
import { NS } from '../integration/support/names.js';
import { chat, connectClient, isMessageWithBody, type TestClient } from '../integration/support/test-client.js';
import { groupchat, joinRoom, MUC, startRoomTraffic } from './support/room-traffic.js';

const HEARTBEAT_MS = 250;
const DEAD_AFTER_MS = 1500;
const ENV = {
  PARLEY_HEARTBEAT_MS: String(HEARTBEAT_MS),
  PARLEY_GATEWAY_DEAD_AFTER_MS: String(DEAD_AFTER_MS),
  PARLEY_LEASE_TTL_MS: '1500',
  PARLEY_ROOM_WORKER_HEARTBEAT_MS: '250',
  // No XEP-0198 resumption (@xmpp/client asks for it): a SIGKILLed gateway's sessions end at
  // its reap; resumable ones outlive it (test/integration/stream-management-failover.test.ts).
  PARLEY_SM_RESUME_TIMEOUT_SEC: '0',
};

let cluster: MucCluster | undefined;
let db: Redis;
let gwA: GatewayProcess;
let gwB: GatewayProcess;
let gwC: GatewayProcess;
const clients: TestClient[] = [];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const note = (line: string) => process.stdout.write(`# ${line}\n`);

before(async () => {
  cluster = await startMucCluster({ name: 'chaos', gateways: 3, workers: 2, env: ENV, redis: { appendOnly: true } });
  [gwA, gwB, gwC] = cluster.gateways as [GatewayProcess, GatewayProcess, GatewayProcess];
  db = cluster.redis.client();
  // SCRAM (what @xmpp/client uses) needs stored credentials, even with open test authentication:
  const users = ['flood1', 'flood2', 'prober', 'alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'henry', 'ivy', 'judy'];
  // Open authentication creates the account on a first PLAIN login.
  await Promise.all(users.map(async (user) => {
    const raw = await RawClient.connect(gwA.c2sPort);
    await loginPlain(raw, { domain: 'localhost', user, password: 'pw' });
    raw.destroy();
  }));
});

after(async () => {
  for (const c of clients) await c.stop();
  for (const gw of [gwB, gwC]) {
    try {
      if (gw) process.kill(gw.pid, 'SIGCONT');
    } catch {
      // gone
    }
  }
  await cluster?.stop();
});

function fail(t: { diagnostic(m: string): void }): void {
  for (const gw of cluster?.gateways ?? []) t.diagnostic(`--- ${gw.gatewayId}\n${gw.output().split('\n').slice(-60).join('\n')}`);
}

async function login(gw: GatewayProcess, user: string, resource: string, available = true): Promise<TestClient> {
  const c = await connectClient({ service: `xmpp://127.0.0.1:${gw.c2sPort}`, username: user, password: 'pw', resource });
  clients.push(c);
  if (available) await c.send(xml('presence'));
  return c;
}

function isUnavailableFrom(room: string, nick: string): (el: Element) => boolean {
  return (el) => el.name === 'presence' && el.attrs['type'] === 'unavailable' && el.attrs['from'] === `${room}@${MUC}/${nick}`;
}

async function reaped(gatewayId: string): Promise<boolean> {
  return (await db.exists(cluster!.keys.gatewayToken(gatewayId))) === 0;
}

test('a gateway flooded by two clients is busy, not dead: nobody reaps it', async (t) => {
  const floodA = await login(gwA, 'flood1', 'f');
  const floodB = await login(gwA, 'flood2', 'f');
  const prober = await login(gwA, 'prober', 'p');
  const until = Date.now() + 3 * DEAD_AFTER_MS;
  let sent = 0;
  // Raw writes as fast as the socket takes them (the gateway may throttle the reading side).
  const flood = async (c: TestClient, to: string) => {
    // @xmpp/client's TCP socket is a net.Socket: write to it directly.
    const socket = c.xmpp.socket as unknown as import('node:net').Socket | undefined;
    assert.ok(socket, 'client socket');
    socket.on('error', () => undefined);
    const batch = Array.from({ length: 200 }, () => `<message to='${to}' type='chat'><body>${'x'.repeat(200)}</body></message>`).join('');
    while (Date.now() < until) {
      if (socket.destroyed) return;
      await Promise.race([new Promise<void>((r) => socket.write(batch, () => r())), sleep(Math.max(0, until - Date.now()))]);
      sent += 200;
    }
  };
  const rtts: number[] = [];
  let maxAge = 0;
  const probe = async () => {
    while (Date.now() < until) {
      const started = Date.now();
      const pong = await prober.iq('get', 'localhost', xml('ping', { xmlns: NS.ping }), 20_000).catch(() => undefined);
      if (pong) rtts.push(Date.now() - started);
      const now = redisTimeMs(await db.time());
      const score = Number(await db.zscore(cluster!.keys.gateways(), gwA.gatewayId));
      maxAge = Math.max(maxAge, now - score);
      await sleep(100);
    }
  };
  await Promise.all([flood(floodA, 'flood2@localhost/f'), flood(floodB, 'flood1@localhost/f'), probe()]);
  await sleep(DEAD_AFTER_MS);
  rtts.sort((a, b) => a - b);
  note(`flood: ${sent} stanzas written by 2 clients in ${3 * DEAD_AFTER_MS} ms; ping p50 ${rtts[Math.floor(rtts.length / 2)] ?? '-'} ms, max ${rtts[rtts.length - 1] ?? '-'} ms; max heartbeat age seen ${maxAge} ms (deadAfterMs ${DEAD_AFTER_MS})`);
  if (await reaped(gwA.gatewayId)) fail(t);
  assert.equal(await reaped(gwA.gatewayId), false, 'gateway A was reaped while busy');
  assert.ok(maxAge < DEAD_AFTER_MS, `heartbeat age reached ${maxAge} ms`);
  for (const gw of cluster!.gateways) {
    const reaps = gw.output().split('\n').filter((l) => l.includes('removed the sessions of a dead gateway'));
    assert.deepEqual(reaps, [], `${gw.gatewayId} reaped someone`);
  }
  for (const c of [floodA, floodB, prober]) {
    (c.xmpp.socket as unknown as { destroy?(): void } | undefined)?.destroy?.();
    await c.stop();
  }
});

test('SIGKILL of a gateway with stanzas in flight: each message reaches another resource or offline storage, the IQ bounces, its occupant leaves the room', async (t) => {
  const alice = await login(gwA, 'alice', 'a');
  const bobB = await login(gwB, 'bob', 'b');
  const bobA = await login(gwA, 'bob', 'other');
  const carol = await login(gwB, 'carol', 'c');
  const dave = await login(gwB, 'dave', 'd', false);
  const erin = await login(gwA, 'erin', 'e', false);
  await joinRoom(erin, 'deathroom', 'erin');
  await joinRoom(dave, 'deathroom', 'dave');
  await erin.waitForStanza((el) => el.name === 'presence' && el.attrs['from'] === `deathroom@${MUC}/dave`);
  void bobB;
  void carol;

  // B stops reading: everything sent to its users from now on stays in its delivery stream.
  process.kill(gwB.pid, 'SIGSTOP');
  const toBob = Array.from({ length: 10 }, (_, i) => `to-bob-${i}`);
  const toCarol = Array.from({ length: 15 }, (_, i) => `to-carol-${i}`);
  for (const body of toBob) await alice.send(chat('bob@localhost/b', body));
  for (const body of toCarol.slice(0, 10)) await alice.send(chat('carol@localhost/c', body));
  const ping = alice.iq('get', 'bob@localhost/b', xml('ping', { xmlns: NS.ping }), 15_000);
  await sleep(200);
  const killedAt = Date.now();
  await gwB.kill('SIGKILL');
  // In flight while the death is being detected: the registry still points at B.
  for (const body of toCarol.slice(10)) await alice.send(chat('carol@localhost/c', body));

  const left = await erin.waitForStanza(isUnavailableFrom('deathroom', 'dave'), 15_000).catch((err: unknown) => {
    fail(t);
    throw err;
  });
  assert.ok(left);
  const leftMs = Date.now() - killedAt;
  for (const body of toBob) await bobA.waitForStanza(isMessageWithBody(body), 15_000);
  const bobMs = Date.now() - killedAt;
  const pong = await ping;
  assert.equal(pong.attrs['type'], 'error', 'the IQ to the gone full JID bounces (RFC 6121 §8.5.3.2.2)');
  assert.ok(pong.getChild('error')?.getChild('service-unavailable', NS.stanzas), String(pong));
  // Carol had no other resource: her messages were stored and come with her next login.
  const deadline = Date.now() + 10_000;
  while ((await db.llen(cluster!.keys.offline('carol@localhost'))) < toCarol.length && Date.now() < deadline) await sleep(100);
  const carolAgain = await login(gwA, 'carol', 'c2');
  for (const body of toCarol) await carolAgain.waitForStanza(isMessageWithBody(body), 10_000);
  note(`gateway SIGKILL: its room occupant left after ${leftMs} ms; ${toBob.length} messages re-routed to another resource after ${bobMs} ms; ${toCarol.length} stored offline and delivered at next login; IQ bounced (deadAfterMs ${DEAD_AFTER_MS}, heartbeat ${HEARTBEAT_MS} ms)`);
  assert.equal(await db.exists(cluster!.keys.gatewayDelivery(gwB.gatewayId)), 0, 'no stream of the dead gateway left behind');
});

test('a gateway paused longer than deadAfterMs is reaped; resumed, it closes its sessions with a stream error, and new logins rejoin', async (t) => {
  const frank = await login(gwC, 'frank', 'f', false);
  const grace = await login(gwA, 'grace', 'g', false);
  await joinRoom(grace, 'pauseroom', 'grace');
  await joinRoom(frank, 'pauseroom', 'frank');
  process.kill(gwC.pid, 'SIGSTOP');
  const stoppedAt = Date.now();
  await grace.waitForStanza(isUnavailableFrom('pauseroom', 'frank'), 15_000);
  const detectedMs = Date.now() - stoppedAt;
  assert.equal(await reaped(gwC.gatewayId), true);
  await sleep(500);
  process.kill(gwC.pid, 'SIGCONT');
  const resumedAt = Date.now();
  await frank.disconnected(10_000).catch((err: unknown) => {
    fail(t);
    throw err;
  });
  const closedMs = Date.now() - resumedAt;
  assert.ok(frank.errors.some((e) => e.condition === 'reset'), `stream error reset, got ${frank.errors.map((e) => e.condition ?? e.message).join(', ')}`);
  // Never half-registered: its registry entry is gone.
  assert.equal(await db.hget(cluster!.keys.userSessions('frank@localhost'), 'f'), null);
  // C registered again (new token) and serves new logins, which rejoin.
  const regDeadline = Date.now() + 10_000;
  while ((await reaped(gwC.gatewayId)) && Date.now() < regDeadline) await sleep(100);
  assert.equal(await reaped(gwC.gatewayId), false, 'C registered again');
  const frank2 = await login(gwC, 'frank', 'f2', false);
  const seen = await joinRoom(frank2, 'pauseroom', 'frank');
  assert.deepEqual([...seen].sort(), ['frank', 'grace']);
  await grace.waitForStanza((el) => el.name === 'presence' && el.attrs['from'] === `pauseroom@${MUC}/frank` && el.attrs['type'] === undefined, 8000);
  await grace.send(groupchat('pauseroom', 'after-pause'));
  await frank2.waitForStanza(isMessageWithBody('after-pause'), 8000);
  note(`gateway SIGSTOP: reaped (its occupant left) ${detectedMs} ms after the stop; after SIGCONT its session got <reset/> within ${closedMs} ms; a new login on it rejoined`);
});

test('Redis SIGKILLed for 6 s under traffic: sessions stay open, nothing is lost, the room keeps exactly the connected occupants', async (t) => {
  const henry = await login(gwA, 'henry', 'h');
  const ivy = await login(gwC, 'ivy', 'i');
  await joinRoom(henry, 'outage', 'henry');
  await joinRoom(ivy, 'outage', 'ivy');
  await sleep(1200); // the joins reached the AOF (fsync every second)
  const traffic = startRoomTraffic(henry, ivy, 'ivy@localhost/i', 'outage');
  await sleep(1000);
  const killedAt = Date.now();
  await cluster!.redis.kill('SIGKILL');
  await sleep(6000);
  await cluster!.redis.restart();
  const restartedAt = Date.now();
  await sleep(2000);
  await traffic.drain(20_000).catch((err: unknown) => {
    fail(t);
    throw err;
  });
  const { direct, group, sentAt, arrivedAt } = traffic;
  // Catch-up: when the last message sent during the outage arrived, counted from the restart.
  const duringOutage = [...sentAt].filter(([, at]) => at >= killedAt && at < restartedAt).map(([b]) => b);
  const drainedMs = Math.max(...duringOutage.map((b) => (arrivedAt.get(b) ?? Infinity) - restartedAt));
  const bodies = (c: TestClient) => new Set(c.received.filter((el) => el.name === 'message').map((el) => el.getChildText('body')));
  const ivyGot = bodies(ivy);
  const henryGot = bodies(henry);
  const refused = [...henry.received, ...ivy.received].filter((el) => el.attrs['type'] === 'error' && el.name === 'message');
  const lostDirect = direct.filter((b) => !ivyGot.has(b));
  const lostGroup = group.filter((b) => !henryGot.has(b));
  note(`Redis outage ${restartedAt - killedAt} ms: ${direct.length} direct + ${group.length} groupchat messages sent; the ${duringOutage.length} sent during the outage all arrived within ${drainedMs} ms of the restart; lost ${lostDirect.length + lostGroup.length}; refused ${refused.length}`);
  assert.deepEqual(refused.map(String), [], 'no stanza refused (the buffer did not fill)');
  assert.deepEqual(lostDirect, [], 'direct messages lost');
  assert.deepEqual(lostGroup, [], 'groupchat messages lost');
  for (const c of [henry, ivy]) {
    assert.deepEqual(c.errors.map((e) => e.condition ?? e.message), [], `${c.jid} got errors`);
  }
  // The room's occupants are exactly the connected clients (seen by a newcomer).
  await sleep(2 * DEAD_AFTER_MS); // long enough for a wrong reap to have happened
  for (const gw of [gwA, gwC]) assert.equal(await reaped(gw.gatewayId), false, `${gw.gatewayId} was reaped for the outage`);
  const judy = await login(gwA, 'judy', 'j', false);
  const seen = await joinRoom(judy, 'outage', 'judy');
  assert.deepEqual([...seen].sort(), ['henry', 'ivy', 'judy']);
  await ivy.send(groupchat('outage', 'after-outage'));
  await henry.waitForStanza(isMessageWithBody('after-outage'), 5000);
  await judy.waitForStanza(isMessageWithBody('after-outage'), 5000);
});
