/*
 * Resource conflicts (RFC 6120 §7.7.2.2, "override" policy): binding a resource that is
 * already bound replaces the old session, which receives
 * <stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error> and is
 * closed (RFC 6120 §4.9.3.3, §4.4). Checked on one gateway and across two.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { GatewayProcess } from '@parley/testkit';
import { startCluster, printGatewayLogsOnFailure, type TestCluster } from './support/cluster.js';
import { NS } from './support/names.js';
import { streamError } from './support/raw-stanzas.js';
import { rawLogin, rawPing, type RawSession } from './support/raw-session.js';

let cluster: TestCluster | undefined;
let gwA: GatewayProcess;
let gwB: GatewayProcess;
const sessions: RawSession[] = [];

printGatewayLogsOnFailure(() => cluster);

before(async () => {
  cluster = await startCluster('resource-conflict');
  const env = { PARLEY_ALLOW_PLAIN_WITHOUT_TLS: 'true' };
  [gwA, gwB] = await Promise.all([cluster.startGateway(env), cluster.startGateway(env)]);
  await cluster.addUser('alice@localhost', 'pw');
  await cluster.addUser('carol@localhost', 'pw');
});

after(async () => {
  for (const s of sessions) s.raw.destroy();
  await cluster?.close();
});

async function login(gw: GatewayProcess, user: string, resource: string): Promise<RawSession> {
  const s = await rawLogin(gw, user, 'pw', resource);
  sessions.push(s);
  return s;
}

/** The old session got a conflict stream error, then the closing tag, then the connection closed. */
async function assertKickedWithConflict(old: RawSession): Promise<void> {
  await old.raw.waitFor(/<\/stream:stream>/, 10_000);
  await old.raw.closed();
  const error = streamError(old.raw.text);
  assert.ok(error, `no <stream:error> in ${old.raw.text}`);
  assert.equal(error.condition, 'conflict', error.element.toString());
  assert.ok(error.element.getChild('conflict', NS.streams));
  assert.ok(old.raw.text.lastIndexOf('</stream:stream>') > old.raw.text.indexOf('<stream:error'), 'closing tag after the error (RFC 6120 §4.4)');
}

test('binding a resource bound on the same gateway replaces the old session', async () => {
  assert.ok(cluster);
  const first = await login(gwA, 'alice', 'desk');
  assert.equal(first.jid, 'alice@localhost/desk');
  const before = await cluster.waitForSessions('alice@localhost', (s) => s.has('desk'));

  const second = await login(gwA, 'alice', 'desk');
  assert.equal(second.jid, 'alice@localhost/desk');
  await assertKickedWithConflict(first);

  assert.match(await rawPing(second.raw), /type=(['"])result\1/, 'the new session works');
  const after = await cluster.waitForSessions('alice@localhost', (s) => s.has('desk') && s.get('desk')?.sessionId !== before.get('desk')?.sessionId);
  assert.equal(after.size, 1);
  assert.equal(after.get('desk')?.gateway, gwA.gatewayId);

  // Stanzas for the full JID now go to the new session.
  const carol = await login(gwB, 'carol', 'c');
  const from = second.raw.length;
  await carol.raw.send(`<message to='alice@localhost/desk' type='chat' id='c1'><body>for the new desk</body></message>`);
  await second.raw.waitFor(/<body>for the new desk<\/body>/, { from });
  second.raw.destroy();
});

test('binding a resource bound on another gateway kicks the session there', async () => {
  assert.ok(cluster);
  const onA = await login(gwA, 'alice', 'roaming');
  await cluster.waitForSessions('alice@localhost', (s) => s.get('roaming')?.gateway === gwA.gatewayId);

  const onB = await login(gwB, 'alice', 'roaming');
  assert.equal(onB.jid, 'alice@localhost/roaming');
  await assertKickedWithConflict(onA);

  const after = await cluster.waitForSessions('alice@localhost', (s) => s.get('roaming')?.gateway === gwB.gatewayId);
  assert.equal(after.get('roaming')?.transport, 'tcp');
  // Gateway A forgets the session when the kicked connection has closed, which is after the client sees the error.
  const deadline = Date.now() + 5000;
  while ((await cluster.db.sismember(cluster.keys.gatewaySessions(gwA.gatewayId), 'alice@localhost/roaming')) !== 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.equal(await cluster.db.sismember(cluster.keys.gatewaySessions(gwA.gatewayId), 'alice@localhost/roaming'), 0, 'gateway A no longer lists the session');
  assert.equal(await cluster.db.sismember(cluster.keys.gatewaySessions(gwB.gatewayId), 'alice@localhost/roaming'), 1);
  assert.match(await rawPing(onB.raw), /type=(['"])result\1/);
});

test('different resources of one account coexist', async () => {
  assert.ok(cluster);
  const one = await login(gwA, 'alice', 'one');
  const two = await login(gwB, 'alice', 'two');
  assert.match(await rawPing(one.raw), /type=(['"])result\1/);
  assert.match(await rawPing(two.raw), /type=(['"])result\1/);
  assert.equal(one.raw.isClosed, false);
  const s = await cluster.waitForSessions('alice@localhost', (m) => m.has('one') && m.has('two'));
  assert.equal(s.get('one')?.gateway, gwA.gatewayId);
  assert.equal(s.get('two')?.gateway, gwB.gatewayId);
});
