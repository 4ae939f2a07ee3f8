/*
 * Two gateways on one Redis: a TCP client on gateway A and a WebSocket client (RFC 7395) on
 * gateway B exchange messages addressed to full and to bare JIDs (RFC 6121 §8.5), in both
 * directions. Accounts are created with xmppctl and clients authenticate with SCRAM
 * (PLAIN is not offered: no TLS and PARLEY_ALLOW_PLAIN_WITHOUT_TLS unset).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { openStream, RawClient, type GatewayProcess } from '@parley/testkit';
import { startCluster, printGatewayLogsOnFailure, type TestCluster } from './support/cluster.js';
import { chat, connectClient, isMessageWithBody, type TestClient } from './support/test-client.js';
import { xml } from '@xmpp/client';
import { DOMAIN } from './support/names.js';

let cluster: TestCluster | undefined;
let gwA: GatewayProcess;
let gwB: GatewayProcess;
let alice: TestClient; // TCP on A
let bob: TestClient; // WebSocket on B

printGatewayLogsOnFailure(() => cluster);

before(async () => {
  cluster = await startCluster('two-gateways');
  [gwA, gwB] = await Promise.all([cluster.startGateway(), cluster.startGateway()]);
  await cluster.addUser('alice@localhost', 'alice-secret');
  await cluster.addUser('bob@localhost', 'bob-secret');
});

after(async () => {
  await alice?.stop();
  await bob?.stop();
  await cluster?.close();
});

test('the gateways offer SCRAM-SHA-256 and SCRAM-SHA-1, and no PLAIN without TLS', async () => {
  for (const gw of [gwA, gwB]) {
    const raw = await RawClient.connect(gw.c2sPort);
    try {
      const features = await openStream(raw, DOMAIN);
      const mechanisms = [...features.matchAll(/<mechanism>([^<]+)<\/mechanism>/g)].map((m) => m[1]);
      assert.ok(mechanisms.includes('SCRAM-SHA-256'), `offered: ${mechanisms.join(', ')}`);
      assert.ok(mechanisms.includes('SCRAM-SHA-1'), `offered: ${mechanisms.join(', ')}`);
      assert.ok(!mechanisms.includes('PLAIN'), `offered: ${mechanisms.join(', ')}`);
    } finally {
      raw.destroy();
    }
  }
});

test('a TCP client on one gateway and a WebSocket client on the other log in with SCRAM', async (t) => {
  assert.ok(cluster);
  assert.notEqual(gwA.gatewayId, gwB.gatewayId);
  alice = await connectClient({ service: `xmpp://127.0.0.1:${gwA.c2sPort}`, username: 'alice', password: 'alice-secret', resource: 'laptop' });
  bob = await connectClient({ service: `ws://127.0.0.1:${gwB.wsPort}/xmpp-websocket`, username: 'bob', password: 'bob-secret', resource: 'phone' });
  t.diagnostic(`login time: alice (TCP, gateway A) ${alice.loginMs} ms, bob (WebSocket, gateway B) ${bob.loginMs} ms`);

  assert.equal(alice.jid, 'alice@localhost/laptop');
  assert.equal(bob.jid, 'bob@localhost/phone');
  // @xmpp/client 0.14 implements SCRAM-SHA-1 (not -256) and PLAIN; with PLAIN not offered it must use SCRAM.
  assert.equal(alice.mechanism, 'SCRAM-SHA-1');
  assert.equal(bob.mechanism, 'SCRAM-SHA-1');

  const aliceSessions = await cluster.waitForSessions('alice@localhost', (s) => s.has('laptop'));
  assert.equal(aliceSessions.get('laptop')?.gateway, gwA.gatewayId);
  assert.equal(aliceSessions.get('laptop')?.transport, 'tcp');
  const bobSessions = await cluster.waitForSessions('bob@localhost', (s) => s.has('phone'));
  assert.equal(bobSessions.get('phone')?.gateway, gwB.gatewayId);
  assert.equal(bobSessions.get('phone')?.transport, 'websocket');
  assert.ok(await cluster.db.sismember(cluster.keys.gatewaySessions(gwA.gatewayId), 'alice@localhost/laptop'));
  assert.ok(await cluster.db.sismember(cluster.keys.gatewaySessions(gwB.gatewayId), 'bob@localhost/phone'));
});

test('messages to a full JID cross the gateways in both directions', async () => {
  assert.ok(alice && bob, 'the login test ran');
  await alice.send(chat(bob.jid, 'tcp to ws, full'));
  const atBob = await bob.waitForStanza(isMessageWithBody('tcp to ws, full'));
  assert.equal(atBob.attrs['from'], alice.jid, 'the server stamps the sender full JID (RFC 6120 §8.1.2.1)');
  assert.equal(atBob.attrs['to'], bob.jid);
  assert.equal(atBob.attrs['type'], 'chat');

  await bob.send(chat(alice.jid, 'ws to tcp, full'));
  const atAlice = await alice.waitForStanza(isMessageWithBody('ws to tcp, full'));
  assert.equal(atAlice.attrs['from'], bob.jid);
  assert.equal(atAlice.attrs['to'], alice.jid);
});

test('messages to a bare JID reach the available resource in both directions', async () => {
  assert.ok(cluster && alice && bob, 'the login test ran');
  await alice.send(xml('presence'));
  await bob.send(xml('presence'));
  // Routing reads the registry: wait until both initial presences are recorded there.
  await cluster.waitForSessions('alice@localhost', (s) => s.get('laptop')?.available === true);
  await cluster.waitForSessions('bob@localhost', (s) => s.get('phone')?.available === true);

  await alice.send(chat('bob@localhost', 'tcp to ws, bare'));
  const atBob = await bob.waitForStanza(isMessageWithBody('tcp to ws, bare'));
  assert.equal(atBob.attrs['from'], alice.jid);

  await bob.send(chat('alice@localhost', 'ws to tcp, bare'));
  const atAlice = await alice.waitForStanza(isMessageWithBody('ws to tcp, bare'));
  assert.equal(atAlice.attrs['from'], bob.jid);
});

test('many messages keep their order across gateways', async () => {
  assert.ok(alice && bob, 'the login test ran');
  const bodies = Array.from({ length: 50 }, (_, i) => `ordered ${i}`);
  for (const body of bodies) await alice.send(chat(bob.jid, body));
  const got: string[] = [];
  for (let i = 0; i < bodies.length; i++) {
    const el = await bob.waitForStanza((s) => s.name === 'message' && (s.getChildText('body') ?? '').startsWith('ordered '));
    got.push(el.getChildText('body') ?? '');
  }
  assert.deepEqual(got, bodies);
});
