/*
 * XEP-0191 blocking and XEP-0280 carbons across two gateways: the blocklist pushes reach
 * the resources that asked for it on both gateways (the flag is in their registry records),
 * a blocked user on the other gateway gets service-unavailable and the user sees nothing,
 * the blocking user's own stanzas to the blocked JID get not-acceptable + <blocked/>, the
 * list is bounded (limits.maxBlocklistItems) and outlives the sessions; carbons copies go
 * to enabled resources on the other gateway, in both directions, until disabled.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { GatewayProcess } from '@parley/testkit';
import { xml } from '@xmpp/client';
import type { Element } from 'ltx';
import { startCluster, printGatewayLogsOnFailure, type TestCluster } from './support/cluster.js';
import { NS } from './support/names.js';
import { chat, connectClient, isMessageWithBody, type TestClient } from './support/test-client.js';

const BLOCKING = 'urn:xmpp:blocking';
const CARBONS = 'urn:xmpp:carbons:2';
const FORWARD = 'urn:xmpp:forward:0';
const MAX_ITEMS = 4;

let cluster: TestCluster | undefined;
let gwA: GatewayProcess;
let gwB: GatewayProcess;
const clients: TestClient[] = [];

printGatewayLogsOnFailure(() => cluster);

before(async () => {
  cluster = await startCluster('blocking-carbons');
  const env = { PARLEY_MAX_BLOCKLIST_ITEMS: String(MAX_ITEMS) };
  [gwA, gwB] = await Promise.all([cluster.startGateway(env), cluster.startGateway(env)]);
  for (const u of ['alice', 'bob', 'carol', 'dave']) await cluster.addUser(`${u}@localhost`, 'pw');
});

after(async () => {
  await Promise.all(clients.map((c) => c.stop()));
  await cluster?.close();
});

async function login(user: string, resource: string, gw: GatewayProcess): Promise<TestClient> {
  const c = await connectClient({ service: `xmpp://127.0.0.1:${gw.c2sPort}`, username: user, password: 'pw', resource });
  clients.push(c);
  await c.send(xml('presence'));
  return c;
}

function assertError(reply: Element, condition: string, type: string): Element {
  assert.equal(reply.attrs['type'], 'error', reply.toString());
  const error = reply.getChild('error');
  assert.ok(error, reply.toString());
  assert.equal(error.attrs['type'], type, reply.toString());
  assert.ok(error.getChild(condition, NS.stanzas), `expected <${condition}/> in ${reply.toString()}`);
  return error;
}

const blockIq = (name: 'block' | 'unblock', ...jids: string[]) => xml(name, { xmlns: BLOCKING }, ...jids.map((jid) => xml('item', { jid })));
const itemsOf = (el: Element | undefined) => (el?.getChildren('item') ?? []).map((i) => String(i.attrs['jid']));
const isPush = (name: 'block' | 'unblock') => (el: Element) => el.name === 'iq' && el.attrs['type'] === 'set' && el.getChild(name, BLOCKING) !== undefined;

/** Nothing matching `match` arrives within `ms`. */
async function assertNothing(c: TestClient, match: (el: Element) => boolean, ms = 600): Promise<void> {
  await assert.rejects(c.waitForStanza(match, ms), /./, `${c.jid} should not have received it`);
}

test('XEP-0191 across gateways: pushes, refusals both ways, the bound, persistence, unblock', async () => {
  const alice1 = await login('alice', 'one', gwA);
  const alice2 = await login('alice', 'two', gwB);
  const alice3 = await login('alice', 'three', gwA); // never asks for the blocklist
  const bob = await login('bob', 'phone', gwB);

  for (const a of [alice1, alice2]) {
    const list = await a.iq('get', undefined, xml('blocklist', { xmlns: BLOCKING }));
    assert.equal(list.attrs['type'], 'result', list.toString());
    assert.deepEqual(itemsOf(list.getChild('blocklist', BLOCKING)), []);
  }
  // The interest is in the registry, where the other gateway reads it.
  const records = await cluster!.waitForSessions('alice@localhost', (s) => s.get('one')?.blocklist === true && s.get('two')?.blocklist === true);
  assert.equal(records.get('three')?.blocklist, undefined);

  const result = await alice1.iq('set', undefined, blockIq('block', 'Bob@localhost'));
  assert.equal(result.attrs['type'], 'result', result.toString());
  for (const a of [alice1, alice2]) assert.deepEqual(itemsOf((await a.waitForStanza(isPush('block'))).getChild('block', BLOCKING)), ['bob@localhost']);
  await assertNothing(alice3, isPush('block'));
  assert.deepEqual(await cluster!.db.zrange(cluster!.keys.blocklist('alice@localhost'), '0', '-1'), ['bob@localhost']);

  // Bob, on the other gateway: his message is refused, nobody of Alice's sees it.
  const m1 = chat('alice@localhost', 'let me in');
  await bob.send(m1);
  const refused = await bob.waitForStanza((el) => el.name === 'message' && el.attrs['id'] === m1.attrs['id']);
  assertError(refused, 'service-unavailable', 'cancel');
  const m2 = chat(alice1.jid, 'to one directly');
  await bob.send(m2);
  assertError(await bob.waitForStanza((el) => el.name === 'message' && el.attrs['id'] === m2.attrs['id']), 'service-unavailable', 'cancel');
  const ping = await bob.iq('get', alice2.jid, xml('ping', { xmlns: NS.ping }));
  assertError(ping, 'service-unavailable', 'cancel');
  await bob.send(xml('presence', { to: alice2.jid }));
  for (const a of [alice1, alice2, alice3]) await assertNothing(a, (el) => isMessageWithBody('let me in')(el) || isMessageWithBody('to one directly')(el) || el.attrs['from'] === bob.jid, 300);

  // Alice's own stanzas to Bob: not-acceptable with the blocking error condition, from either gateway.
  const out = chat(bob.jid, 'hello?');
  await alice2.send(out);
  const error = assertError(await alice2.waitForStanza((el) => el.name === 'message' && el.attrs['id'] === out.attrs['id']), 'not-acceptable', 'cancel');
  assert.ok(error.getChild('blocked', 'urn:xmpp:blocking:errors'), error.toString());
  await assertNothing(bob, isMessageWithBody('hello?'));

  // The bound: 4 items at most; a block past it changes nothing.
  const many = await alice1.iq('set', undefined, blockIq('block', 'x1@localhost', 'x2@localhost', 'x3@localhost', 'x4@localhost'));
  assertError(many, 'policy-violation', 'modify');
  assert.equal(await cluster!.db.zcard(cluster!.keys.blocklist('alice@localhost')), 1);
  assert.equal((await alice1.iq('set', undefined, blockIq('block', 'x1@localhost', 'example.com', 'x2@localhost'))).attrs['type'], 'result');

  // The list outlives the sessions, in the order it was built.
  await alice1.stop();
  const again = await login('alice', 'one', gwB);
  const list = await again.iq('get', undefined, xml('blocklist', { xmlns: BLOCKING }));
  assert.deepEqual(itemsOf(list.getChild('blocklist', BLOCKING)), ['bob@localhost', 'x1@localhost', 'example.com', 'x2@localhost']);

  // Unblock Bob: pushes to the resources that asked (the new one on B too); Bob gets through.
  assert.equal((await again.iq('set', undefined, blockIq('unblock', 'bob@localhost'))).attrs['type'], 'result');
  for (const a of [again, alice2]) assert.deepEqual(itemsOf((await a.waitForStanza(isPush('unblock'))).getChild('unblock', BLOCKING)), ['bob@localhost']);
  await bob.send(chat(again.jid, 'back again'));
  await again.waitForStanza(isMessageWithBody('back again'));
  // Unblock all: an empty push; the list is gone from Redis.
  assert.equal((await alice2.iq('set', undefined, blockIq('unblock'))).attrs['type'], 'result');
  const all = await again.waitForStanza(isPush('unblock'));
  assert.deepEqual(itemsOf(all.getChild('unblock', BLOCKING)), []);
  assert.equal(await cluster!.db.exists(cluster!.keys.blocklist('alice@localhost')), 0);
});

test('XEP-0280 across gateways: received and sent copies to enabled resources, until disabled', async () => {
  const carol1 = await login('carol', 'one', gwA);
  const carol2 = await login('carol', 'two', gwB);
  const dave = await login('dave', 'desk', gwA);
  for (const c of [carol1, carol2]) assert.equal((await c.iq('set', undefined, xml('enable', { xmlns: CARBONS }))).attrs['type'], 'result');
  await cluster!.waitForSessions('carol@localhost', (s) => s.get('one')?.carbons === true && s.get('two')?.carbons === true);

  const copyOf = (kind: 'sent' | 'received', body: string) => (el: Element) =>
    el.name === 'message' && el.attrs['from'] === 'carol@localhost' && el.getChild(kind, CARBONS)?.getChild('forwarded', FORWARD)?.getChild('message')?.getChildText('body') === body;

  // Received: Dave (A) to carol/one (A); carol/two (B) gets the copy.
  await dave.send(chat(carol1.jid, 'to one'));
  await carol1.waitForStanza(isMessageWithBody('to one'));
  const copy = await carol2.waitForStanza(copyOf('received', 'to one'));
  assert.equal(copy.attrs['to'], carol2.jid);
  assert.equal(copy.attrs['type'], 'chat');
  const inner = copy.getChild('received', CARBONS)!.getChild('forwarded', FORWARD)!.getChild('message')!;
  assert.equal(inner.attrs['from'], dave.jid);
  assert.equal(inner.attrs['to'], carol1.jid);
  await assertNothing(carol1, copyOf('received', 'to one'));

  // Sent: carol/two (B) to Dave; carol/one (A) gets the copy, carol/two none of its own.
  await carol2.send(chat(dave.jid, 'from two'));
  await dave.waitForStanza(isMessageWithBody('from two'));
  const sent = await carol1.waitForStanza(copyOf('sent', 'from two'));
  assert.equal(sent.getChild('sent', CARBONS)!.getChild('forwarded', FORWARD)!.getChild('message')!.attrs['from'], carol2.jid);
  await assertNothing(carol2, copyOf('sent', 'from two'));

  // Private: no copies either way.
  const priv = chat(carol1.jid, 'private one');
  priv.append(xml('private', { xmlns: CARBONS }));
  await dave.send(priv);
  await carol1.waitForStanza(isMessageWithBody('private one'));
  await assertNothing(carol2, copyOf('received', 'private one'));

  // Disabled on carol/two: no more copies there, carol/one still gets them.
  assert.equal((await carol2.iq('set', undefined, xml('disable', { xmlns: CARBONS }))).attrs['type'], 'result');
  await cluster!.waitForSessions('carol@localhost', (s) => s.get('two')?.carbons !== true);
  await dave.send(chat(carol1.jid, 'after disable'));
  await carol1.waitForStanza(isMessageWithBody('after disable'));
  await assertNothing(carol2, copyOf('received', 'after disable'));
  await carol2.send(chat(dave.jid, 'two again'));
  await carol1.waitForStanza(copyOf('sent', 'two again'));
});

test('disco#info of the server lists urn:xmpp:carbons:2 and urn:xmpp:blocking', async () => {
  const c = await login('dave', 'disco', gwB);
  const reply = await c.iq('get', 'localhost', xml('query', { xmlns: NS.discoInfo }));
  const features = (reply.getChild('query', NS.discoInfo)?.getChildren('feature') ?? []).map((f) => String(f.attrs['var']));
  assert.ok(features.includes(CARBONS), features.join(' '));
  assert.ok(features.includes(BLOCKING), features.join(' '));
  assert.ok(!features.includes('urn:xmpp:carbons:rules:0'), 'rules:0 is not claimed');
});
