/*
 * What the server itself (the domain JID `localhost`) answers: XEP-0030 disco#info and
 * disco#items, XEP-0199 ping, XEP-0092 software version; an iq in an unknown namespace gets
 * service-unavailable (RFC 6120 §8.4), and a stanza for a domain the cluster does not serve
 * gets remote-server-not-found (no server-to-server support; RFC 6120 §8.3.3.16).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, type GatewayProcess } from '@parley/testkit';
import { xml } from '@xmpp/client';
import type { Element } from 'ltx';
import { startCluster, printGatewayLogsOnFailure, type TestCluster } from './support/cluster.js';
import { DOMAIN, NS } from './support/names.js';
import { chat, connectClient, type TestClient } from './support/test-client.js';

let cluster: TestCluster | undefined;
let gw: GatewayProcess;
let alice: TestClient | undefined;

printGatewayLogsOnFailure(() => cluster);

before(async () => {
  cluster = await startCluster('server-iq');
  gw = await cluster.startGateway();
  await cluster.addUser('alice@localhost', 'pw');
  alice = await connectClient({ service: `xmpp://127.0.0.1:${gw.c2sPort}`, username: 'alice', password: 'pw', resource: 'r' });
});

after(async () => {
  await alice?.stop();
  await cluster?.close();
});

function client(): TestClient {
  assert.ok(alice, 'logged in');
  return alice;
}

/** Asserts a result from the server to the client, and returns it. */
function assertResult(reply: Element): Element {
  assert.equal(reply.attrs['type'], 'result', reply.toString());
  assert.equal(reply.attrs['from'], DOMAIN, reply.toString());
  assert.equal(reply.attrs['to'], client().jid, reply.toString());
  return reply;
}

/** Asserts an error reply with `condition` (RFC 6120 §8.3) and returns the <error/>. */
function assertError(reply: Element, condition: string, type: string): Element {
  assert.equal(reply.attrs['type'], 'error', reply.toString());
  const error = reply.getChild('error');
  assert.ok(error, reply.toString());
  assert.equal(error.attrs['type'], type, reply.toString());
  assert.ok(error.getChild(condition, NS.stanzas), `expected <${condition} xmlns='${NS.stanzas}'/> in ${reply.toString()}`);
  return error;
}

test('disco#info names a server/im identity and the disco#info feature', async () => {
  const reply = assertResult(await client().iq('get', DOMAIN, xml('query', { xmlns: NS.discoInfo })));
  const query = reply.getChild('query', NS.discoInfo);
  assert.ok(query, reply.toString());
  const identities = query.getChildren('identity').map((i) => `${String(i.attrs['category'])}/${String(i.attrs['type'])}`);
  assert.ok(identities.includes('server/im'), `identities: ${identities.join(', ')}`);
  const features = query.getChildren('feature').map((f) => String(f.attrs['var']));
  assert.ok(features.includes(NS.discoInfo), `features: ${features.join(', ')}`);
});

/**
 * Which specification each feature the server or an account may advertise belongs to: a
 * feature missing here, or whose specification has no row in docs/xeps.md (or only a
 * `planned` one), fails the test below, so the document and disco#info cannot drift apart.
 */
const FEATURE_SPECS = new Map<string, string>([
  ['http://jabber.org/protocol/disco#info', 'XEP-0030'],
  ['http://jabber.org/protocol/disco#items', 'XEP-0030'],
  ['urn:xmpp:ping', 'XEP-0199'],
  ['jabber:iq:version', 'XEP-0092'],
  ['msgoffline', 'XEP-0160'],
  ['vcard-temp', 'XEP-0054'],
  ['jabber:iq:private', 'XEP-0049'],
  ['jabber:iq:last', 'XEP-0012'],
  ['urn:xmpp:time', 'XEP-0202'],
  ['jabber:iq:register', 'XEP-0077'],
  ['urn:xmpp:blocking', 'XEP-0191'],
  ['urn:xmpp:carbons:2', 'XEP-0280'],
  ['urn:xmpp:mam:2', 'XEP-0313'],
  ['urn:xmpp:sid:0', 'XEP-0359'],
  ['jabber:iq:roster', 'RFC 6121'],
  ['http://jabber.org/protocol/pubsub#access-open', 'XEP-0163'],
  ['http://jabber.org/protocol/pubsub#access-presence', 'XEP-0163'],
  ['http://jabber.org/protocol/pubsub#access-whitelist', 'XEP-0163'],
  ['http://jabber.org/protocol/pubsub#auto-create', 'XEP-0163'],
  ['http://jabber.org/protocol/pubsub#config-node-max', 'XEP-0163'],
  ['http://jabber.org/protocol/pubsub#delete-nodes', 'XEP-0163'],
  ['http://jabber.org/protocol/pubsub#filtered-notifications', 'XEP-0163'],
  ['http://jabber.org/protocol/pubsub#item-ids', 'XEP-0163'],
  ['http://jabber.org/protocol/pubsub#last-published', 'XEP-0163'],
  ['http://jabber.org/protocol/pubsub#multi-items', 'XEP-0163'],
  ['http://jabber.org/protocol/pubsub#persistent-items', 'XEP-0163'],
  ['http://jabber.org/protocol/pubsub#presence-notifications', 'XEP-0163'],
  ['http://jabber.org/protocol/pubsub#publish', 'XEP-0163'],
  ['http://jabber.org/protocol/pubsub#publish-options', 'XEP-0163'],
  ['http://jabber.org/protocol/pubsub#retract-items', 'XEP-0163'],
  ['http://jabber.org/protocol/pubsub#retrieve-items', 'XEP-0163'],
  ['urn:xmpp:bookmarks:1#compat', 'XEP-0402'],
  ['http://jabber.org/protocol/pubsub#config-node', 'XEP-0163'],
  ['http://jabber.org/protocol/pubsub#create-and-configure', 'XEP-0163'],
  ['http://jabber.org/protocol/pubsub#create-nodes', 'XEP-0163'],
  ['http://jabber.org/protocol/pubsub#instant-nodes', 'XEP-0163'],
  ['http://jabber.org/protocol/pubsub#purge-nodes', 'XEP-0163'],
  ['http://jabber.org/protocol/pubsub#retrieve-affiliations', 'XEP-0163'],
  ['http://jabber.org/protocol/pubsub#retrieve-default', 'XEP-0163'],
  ['http://jabber.org/protocol/pubsub#retrieve-subscriptions', 'XEP-0163'],
  ['urn:ietf:params:xml:ns:vcard-4.0', 'XEP-0292'],
  ['urn:xmpp:mam:2#extended', 'XEP-0313'],
]);

test('every feature the server and an account advertise is a supported row of docs/xeps.md', async () => {
  const doc = readFileSync(join(repoRoot(), 'docs', 'xeps.md'), 'utf8');
  const statusOf = (spec: string) => new RegExp(`^\\| ${spec} [^|]*\\| [^|]*\\| (\\w+) \\|`, 'm').exec(doc)?.[1];
  const server = assertResult(await client().iq('get', DOMAIN, xml('query', { xmlns: NS.discoInfo })));
  const account = await client().iq('get', undefined, xml('query', { xmlns: NS.discoInfo }));
  assert.equal(account.attrs['type'], 'result', account.toString());
  for (const reply of [server, account]) {
    const features = reply.getChild('query', NS.discoInfo)?.getChildren('feature').map((f) => String(f.attrs['var'])) ?? [];
    assert.ok(features.length > 3, reply.toString());
    for (const feature of features) {
      const spec = FEATURE_SPECS.get(feature);
      assert.ok(spec, `${feature} is advertised but not mapped to a specification here`);
      const status = statusOf(spec);
      assert.ok(status === 'complete' || status === 'partial', `${feature}: docs/xeps.md has ${spec} as ${String(status)}`);
    }
  }
});

test('disco#items lists the MUC service (XEP-0045 §6.1)', async () => {
  const reply = assertResult(await client().iq('get', DOMAIN, xml('query', { xmlns: NS.discoItems })));
  const query = reply.getChild('query', NS.discoItems);
  assert.ok(query, reply.toString());
  assert.deepEqual(query.getChildren('item').map((i) => i.attrs['jid']), [`conference.${DOMAIN}`], reply.toString());
});

test('XEP-0199 ping gets an empty result', async () => {
  const reply = assertResult(await client().iq('get', DOMAIN, xml('ping', { xmlns: NS.ping })));
  assert.equal(reply.getChildElements().length, 0, reply.toString());
});

test('an iq without a to address is answered by the server too (RFC 6120 §10.3.3)', async () => {
  const reply = await client().iq('get', undefined, xml('ping', { xmlns: NS.ping }));
  assert.equal(reply.attrs['type'], 'result', reply.toString());
});

test('XEP-0092 software version names the software and its version', async () => {
  const reply = assertResult(await client().iq('get', DOMAIN, xml('query', { xmlns: NS.version })));
  const query = reply.getChild('query', NS.version);
  assert.ok(query, reply.toString());
  assert.ok((query.getChildText('name') ?? '').length > 0, reply.toString());
  assert.ok((query.getChildText('version') ?? '').length > 0, reply.toString());
});

test('an iq in an unknown namespace gets service-unavailable', async () => {
  const get = await client().iq('get', DOMAIN, xml('query', { xmlns: 'urn:example:not-implemented' }));
  assertError(get, 'service-unavailable', 'cancel');
  assert.equal(get.attrs['from'], DOMAIN);
  const set = await client().iq('set', DOMAIN, xml('frobnicate', { xmlns: 'urn:example:not-implemented' }));
  assertError(set, 'service-unavailable', 'cancel');
});

test('an iq to an unknown domain gets remote-server-not-found', async () => {
  const reply = await client().iq('get', 'someone@unknown.example', xml('ping', { xmlns: NS.ping }));
  assertError(reply, 'remote-server-not-found', 'cancel');
  assert.equal(reply.attrs['from'], 'someone@unknown.example', 'the error comes from the address the iq was sent to');
});

test('a message to an unknown domain gets remote-server-not-found', async () => {
  const sent = chat('someone@unknown.example', 'hello?');
  await client().send(sent);
  const reply = await client().waitForStanza((s) => s.name === 'message' && s.attrs['id'] === sent.attrs['id']);
  assertError(reply, 'remote-server-not-found', 'cancel');
  assert.equal(reply.attrs['from'], 'someone@unknown.example');
});
