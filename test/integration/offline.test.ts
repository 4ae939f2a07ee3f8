/*
 * Offline storage (RFC 6121 §8.5.2.1.1 / §8.5.2.2.1, XEP-0160 best practice): a chat or normal
 * message to a bare JID with no available resource is stored and delivered, stamped with a
 * XEP-0203 <delay/>, after the user's next initial available presence (RFC 6121 §4.2).
 * With storage disabled the sender gets a service-unavailable error (RFC 6120 §8.3.3.19).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { GatewayProcess } from '@parley/testkit';
import { xml } from '@xmpp/client';
import type { Element } from 'ltx';
import { startCluster, printGatewayLogsOnFailure, type TestCluster } from './support/cluster.js';
import { NS } from './support/names.js';
import { chat, connectClient, isMessageWithBody, type TestClient } from './support/test-client.js';

const clients: TestClient[] = [];
async function login(gw: GatewayProcess, username: string, resource: string): Promise<TestClient> {
  const c = await connectClient({ service: `xmpp://127.0.0.1:${gw.c2sPort}`, username, password: `${username}-pw`, resource });
  clients.push(c);
  return c;
}

async function waitForLength(cluster: TestCluster, key: string, n: number, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let len = await cluster.db.llen(key);
  while (len !== n) {
    if (Date.now() > deadline) assert.fail(`${key} has ${len} entries, expected ${n} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
    len = await cluster.db.llen(key);
  }
}

function delayOf(el: Element): Element | undefined {
  return el.getChild('delay', NS.delay);
}

describe('offline storage enabled (default)', () => {
  let cluster: TestCluster | undefined;
  let gw: GatewayProcess;
  printGatewayLogsOnFailure(() => cluster);

  before(async () => {
    cluster = await startCluster('offline');
    gw = await cluster.startGateway();
    for (const u of ['alice', 'bob', 'carol', 'dave']) await cluster.addUser(`${u}@localhost`, `${u}-pw`);
  });
  after(async () => {
    for (const c of clients.splice(0)) await c.stop();
    await cluster?.close();
  });

  test('chat and normal messages to a user who is not logged in wait for the next initial presence, with a delay stamp', async () => {
    assert.ok(cluster);
    const alice = await login(gw, 'alice', 'a');
    const before = Date.now();
    await alice.send(chat('bob@localhost', 'offline 1 (chat)', 'chat'));
    await alice.send(chat('bob@localhost', 'offline 2 (normal)', 'normal'));
    await waitForLength(cluster, cluster.keys.offline('bob@localhost'), 2);
    const storedBy = Date.now();

    const bob = await login(gw, 'bob', 'b');
    // RFC 6121 §8.5.2.1.1: delivery happens on initial presence, not at resource binding.
    const pong = await bob.iq('get', 'localhost', xml('ping', { xmlns: NS.ping }));
    assert.equal(pong.attrs['type'], 'result');
    assert.equal(bob.received.filter((s) => s.name === 'message').length, 0, 'nothing delivered before presence');

    await bob.send(xml('presence'));
    const first = await bob.waitForStanza((s) => s.name === 'message');
    const second = await bob.waitForStanza((s) => s.name === 'message');
    assert.deepEqual([first.getChildText('body'), second.getChildText('body')], ['offline 1 (chat)', 'offline 2 (normal)'], 'stored in order');
    assert.equal(first.attrs['type'], 'chat');
    assert.ok(second.attrs['type'] === 'normal' || second.attrs['type'] === undefined, `type ${String(second.attrs['type'])}`);
    for (const m of [first, second]) {
      assert.equal(m.attrs['from'], alice.jid);
      const delay = delayOf(m);
      assert.ok(delay, `XEP-0203 <delay xmlns='${NS.delay}'> missing in ${m.toString()}`);
      const stamp = Date.parse(String(delay.attrs['stamp']));
      assert.ok(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(String(delay.attrs['stamp'])), `XEP-0082 UTC stamp, got ${String(delay.attrs['stamp'])}`);
      // The stamp is when the server received the message: between sending and seeing it stored (1 s slack for rounding).
      assert.ok(stamp >= before - 1000 && stamp <= storedBy + 1000, `stamp ${String(delay.attrs['stamp'])} outside [${new Date(before).toISOString()}, ${new Date(storedBy).toISOString()}]`);
    }
    await waitForLength(cluster, cluster.keys.offline('bob@localhost'), 0);
  });

  test('a message to a user whose only session has sent no presence is stored, not delivered', async () => {
    assert.ok(cluster);
    const alice = clients[0]!;
    const carol = await login(gw, 'carol', 'c');
    await cluster.waitForSessions('carol@localhost', (s) => s.get('c')?.available === false);
    await alice.send(chat('carol@localhost', 'to an unavailable resource'));
    await waitForLength(cluster, cluster.keys.offline('carol@localhost'), 1);
    assert.equal(carol.received.filter((s) => s.name === 'message').length, 0);

    await carol.send(xml('presence'));
    const m = await carol.waitForStanza(isMessageWithBody('to an unavailable resource'));
    assert.ok(delayOf(m), 'delivered from storage, with a delay stamp');
  });

  test('headline messages are not stored (RFC 6121 §8.5.2.2.1)', async () => {
    assert.ok(cluster);
    const alice = clients[0]!;
    await alice.send(chat('dave@localhost', 'headline, dropped', 'headline'));
    await alice.send(chat('dave@localhost', 'chat after the headline'));
    await waitForLength(cluster, cluster.keys.offline('dave@localhost'), 1);
    const dave = await login(gw, 'dave', 'd');
    await dave.send(xml('presence'));
    await dave.waitForStanza(isMessageWithBody('chat after the headline'));
    // Storage keeps the order of arrival, so a stored headline would have come first.
    assert.deepEqual(dave.received.filter((s) => s.name === 'message').map((s) => s.getChildText('body')), ['chat after the headline']);
  });

  test('XEP-0334 hints: <no-store/> and bodiless messages are not stored; <no-permanent-store/> and <store/> are', async () => {
    assert.ok(cluster);
    const alice = clients[0]!;
    await cluster.addUser('erin@localhost', 'erin-pw');
    const hints = 'urn:xmpp:hints';
    const chatState = () => xml('active', { xmlns: 'http://jabber.org/protocol/chatstates' });
    await alice.send(xml('message', { to: 'erin@localhost', type: 'chat', id: 'h1' }, xml('body', {}, 'no-store'), xml('no-store', { xmlns: hints })));
    await alice.send(xml('message', { to: 'erin@localhost', type: 'chat', id: 'h2' }, chatState()));
    await alice.send(xml('message', { to: 'erin@localhost', type: 'chat', id: 'h3' }, xml('body', {}, 'temporary is fine'), xml('no-permanent-store', { xmlns: hints })));
    await alice.send(xml('message', { to: 'erin@localhost', type: 'chat', id: 'h4' }, chatState(), xml('store', { xmlns: hints })));
    await waitForLength(cluster, cluster.keys.offline('erin@localhost'), 2);
    const erin = await login(gw, 'erin', 'e');
    await erin.send(xml('presence'));
    await erin.waitForStanza((s) => s.name === 'message' && s.attrs['id'] === 'h4');
    // Storage keeps the order of arrival: h1 and h2 would have come before h3.
    assert.deepEqual(erin.received.filter((s) => s.name === 'message').map((s) => s.attrs['id']), ['h3', 'h4']);
    assert.equal(alice.received.filter((s) => s.name === 'message' && s.attrs['type'] === 'error').length, 0, 'dropped silently, no bounce');
  });
});

describe('offline storage disabled', () => {
  let cluster: TestCluster | undefined;
  let gw: GatewayProcess;
  printGatewayLogsOnFailure(() => cluster);

  before(async () => {
    cluster = await startCluster('offline-off');
    gw = await cluster.startGateway({ PARLEY_OFFLINE_ENABLED: 'false' });
    for (const u of ['alice', 'bob']) await cluster.addUser(`${u}@localhost`, `${u}-pw`);
  });
  after(async () => {
    for (const c of clients.splice(0)) await c.stop();
    await cluster?.close();
  });

  test('a message to a user with no available resource bounces with service-unavailable', async () => {
    assert.ok(cluster);
    const alice = await login(gw, 'alice', 'a');
    const sent = chat('bob@localhost', 'nobody home');
    await alice.send(sent);
    const bounce = await alice.waitForStanza((s) => s.name === 'message' && s.attrs['type'] === 'error');
    assert.equal(bounce.attrs['id'], sent.attrs['id'], 'the error carries the id of the message (RFC 6120 §8.3.1)');
    assert.equal(bounce.attrs['from'], 'bob@localhost');
    const error = bounce.getChild('error');
    assert.ok(error, bounce.toString());
    assert.equal(error.attrs['type'], 'cancel');
    assert.ok(error.getChild('service-unavailable', NS.stanzas), bounce.toString());
    assert.equal(await cluster.db.llen(cluster.keys.offline('bob@localhost')), 0);
  });
});
