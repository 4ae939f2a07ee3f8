/*
 * Liveness: every gateway refreshes its heartbeat in the `gateways` sorted set; when one dies
 * without cleaning up (SIGKILL), a surviving gateway removes the dead one's sessions from the
 * registry once its heartbeat is older than PARLEY_GATEWAY_DEAD_AFTER_MS. Here 2000 ms with a
 * 500 ms heartbeat, so cleanup is due after about 2.5 s; the test allows 8 s.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { GatewayProcess } from '@parley/testkit';
import { xml } from '@xmpp/client';
import { startCluster, printGatewayLogsOnFailure, type TestCluster } from './support/cluster.js';
import { NS } from './support/names.js';
import { chat, connectClient, isMessageWithBody, type TestClient } from './support/test-client.js';

const DEAD_AFTER_MS = 2000;
const HEARTBEAT_MS = 500;
const CLEANUP_DEADLINE_MS = 8000;

let cluster: TestCluster | undefined;
let gwA: GatewayProcess;
let gwB: GatewayProcess;
const clients: TestClient[] = [];

printGatewayLogsOnFailure(() => cluster);

before(async () => {
  cluster = await startCluster('gateway-death');
  // No XEP-0198 resumption (@xmpp/client asks for it): this is the reap of sessions that cannot
  // be resumed; resumable ones outlive their gateway (stream-management-failover.test.ts).
  const env = { PARLEY_GATEWAY_DEAD_AFTER_MS: String(DEAD_AFTER_MS), PARLEY_HEARTBEAT_MS: String(HEARTBEAT_MS), PARLEY_SM_RESUME_TIMEOUT_SEC: '0' };
  [gwA, gwB] = await Promise.all([cluster.startGateway(env), cluster.startGateway(env)]);
  await cluster.addUser('alice@localhost', 'alice-pw');
  await cluster.addUser('bob@localhost', 'bob-pw');
});

after(async () => {
  for (const c of clients) await c.stop();
  await cluster?.close();
});

async function login(gw: GatewayProcess, username: string, resource: string): Promise<TestClient> {
  const c = await connectClient({ service: `xmpp://127.0.0.1:${gw.c2sPort}`, username, password: `${username}-pw`, resource });
  clients.push(c);
  return c;
}

test('both gateways heartbeat in the gateways sorted set', async () => {
  assert.ok(cluster);
  const first = await cluster.db.zscore(cluster.keys.gateways(), gwA.gatewayId);
  assert.ok(first !== null, 'gateway A registered');
  assert.ok((await cluster.db.zscore(cluster.keys.gateways(), gwB.gatewayId)) !== null, 'gateway B registered');
  // The score is a wall-clock time in ms (so another process can judge its age).
  assert.ok(Math.abs(Number(first) - Date.now()) < 60_000, `score ${first} is not a recent time in ms`);
  const deadline = Date.now() + 5 * HEARTBEAT_MS + 2000;
  let later: string | null = first;
  while (later === first && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    later = await cluster.db.zscore(cluster.keys.gateways(), gwA.gatewayId);
  }
  assert.ok(Number(later) > Number(first), 'the heartbeat advances');
});

test('sessions of a SIGKILLed gateway are removed by the survivor within the deadline', async (t) => {
  assert.ok(cluster);
  const alice = await login(gwA, 'alice', 'on-a');
  const bob = await login(gwB, 'bob', 'on-b');
  await alice.send(xml('presence'));
  await bob.send(xml('presence'));
  await cluster.waitForSessions('alice@localhost', (s) => s.get('on-a')?.available === true);
  assert.ok(await cluster.db.sismember(cluster.keys.gatewaySessions(gwA.gatewayId), 'alice@localhost/on-a'));

  const killedAt = Date.now();
  await gwA.kill('SIGKILL');
  await alice.disconnected();

  await cluster.waitForSessions('alice@localhost', (s) => !s.has('on-a'), CLEANUP_DEADLINE_MS);
  const cleanedMs = Date.now() - killedAt;
  t.diagnostic(`dead gateway's session removed ${cleanedMs} ms after SIGKILL (deadAfterMs ${DEAD_AFTER_MS}, heartbeat ${HEARTBEAT_MS} ms, limit ${CLEANUP_DEADLINE_MS} ms)`);
  assert.ok(cleanedMs <= CLEANUP_DEADLINE_MS);
  // The reaper also drops the dead gateway's own bookkeeping, so it is not reaped again and again.
  const bookkeepingDeadline = killedAt + CLEANUP_DEADLINE_MS + 2000;
  while (Date.now() < bookkeepingDeadline && ((await cluster.db.exists(cluster.keys.gatewaySessions(gwA.gatewayId))) || (await cluster.db.zscore(cluster.keys.gateways(), gwA.gatewayId)) !== null)) {
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(await cluster.db.exists(cluster.keys.gatewaySessions(gwA.gatewayId)), 0, 'session set of the dead gateway deleted');
  assert.equal(await cluster.db.zscore(cluster.keys.gateways(), gwA.gatewayId), null, 'dead gateway left the gateways set');
  assert.notEqual(await cluster.db.zscore(cluster.keys.gateways(), gwB.gatewayId), null, 'the survivor is still registered');

  // The survivor's own session is untouched and still works.
  const bobSessions = await cluster.sessions('bob@localhost');
  assert.equal(bobSessions.get('on-b')?.gateway, gwB.gatewayId);
  const pong = await bob.iq('get', 'localhost', xml('ping', { xmlns: NS.ping }));
  assert.equal(pong.attrs['type'], 'result');
});

test('after the cleanup the user logs in again on the survivor and gets messages', async () => {
  assert.ok(cluster);
  const bob = clients.find((c) => c.jid === 'bob@localhost/on-b');
  assert.ok(bob, 'the previous test ran');
  const alice = await login(gwB, 'alice', 'on-a');
  assert.equal(alice.jid, 'alice@localhost/on-a');
  assert.deepEqual(alice.errors.filter((e) => e.condition === 'conflict'), []);
  await alice.send(xml('presence'));
  await cluster.waitForSessions('alice@localhost', (s) => s.get('on-a')?.gateway === gwB.gatewayId && s.get('on-a')?.available === true);

  await bob.send(chat('alice@localhost/on-a', 'welcome back, full'));
  await alice.waitForStanza(isMessageWithBody('welcome back, full'));
  await bob.send(chat('alice@localhost', 'welcome back, bare'));
  await alice.waitForStanza(isMessageWithBody('welcome back, bare'));
});
