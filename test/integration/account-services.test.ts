/*
 * Account services across two gateways (issue #11 items 5, 6): XEP-0054 vCards set on one
 * gateway and read from the other, the XEP-0153 photo hash stamped on presence, XEP-0049
 * private storage, XEP-0012 last activity after logout, XEP-0077 in-band registration (on
 * one gateway, off on the other), password change and account removal, XEP-0115 caps in the
 * stream features. Real redis-server, real gateway processes, accounts made with xmppctl.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { loginScram, openStream, RawClient, type GatewayProcess } from '@parley/testkit';
import { xml } from '@xmpp/client';
import type { Element } from 'ltx';
import { startCluster, printGatewayLogsOnFailure, type TestCluster } from './support/cluster.js';
import { DOMAIN, NS } from './support/names.js';
import { connectClient, type TestClient } from './support/test-client.js';

const MAX_VCARD = 2048;
const MAX_PRIVATE = 2048;
const PNG_SIG = 'iVBORw0KGgo=';
const PNG_SIG_SHA1 = createHash('sha1').update(Buffer.from(PNG_SIG, 'base64')).digest('hex');

let cluster: TestCluster | undefined;
let gw1: GatewayProcess;
let gw2: GatewayProcess;
const clients: TestClient[] = [];

printGatewayLogsOnFailure(() => cluster);

before(async () => {
  cluster = await startCluster('account-services');
  const limits = { PARLEY_MAX_VCARD_BYTES: String(MAX_VCARD), PARLEY_MAX_PRIVATE_BYTES: String(MAX_PRIVATE) };
  gw1 = await cluster.startGateway({ ...limits, PARLEY_REGISTER_ENABLED: 'true', PARLEY_REGISTER_MAX_PER_ADDRESS: '3' });
  gw2 = await cluster.startGateway(limits);
  for (const u of ['alice', 'bob', 'carol']) await cluster.addUser(`${u}@${DOMAIN}`, 'pw');
});

after(async () => {
  for (const c of clients) await c.stop();
  await cluster?.close();
});

async function login(gw: GatewayProcess, username: string, resource: string, password = 'pw'): Promise<TestClient> {
  const c = await connectClient({ service: `xmpp://127.0.0.1:${gw.c2sPort}`, username, password, resource });
  clients.push(c);
  return c;
}

function errorOf(reply: Element, condition: string): void {
  assert.equal(reply.attrs['type'], 'error', reply.toString());
  assert.ok(reply.getChild('error')?.getChild(condition, NS.stanzas), `expected ${condition}: ${reply.toString()}`);
}

const vcardEl = (fn: string, photo?: string) =>
  xml('vCard', { xmlns: 'vcard-temp' }, xml('FN', {}, fn), ...(photo ? [xml('PHOTO', {}, xml('TYPE', {}, 'image/png'), xml('BINVAL', {}, photo))] : []));

const photoIn = (p: Element) => p.getChild('x', 'vcard-temp:x:update')?.getChild('photo');

test('a vCard set on one gateway is read from the other; its photo hash is stamped on presence', async () => {
  const alice = await login(gw1, 'alice', 'desk');
  const bob = await login(gw2, 'bob', 'phone');
  // XEP-0054 §3.1: no vCard yet, an empty one for the account itself
  const own = await alice.iq('get', undefined, xml('vCard', { xmlns: 'vcard-temp' }));
  assert.equal(own.attrs['type'], 'result', own.toString());
  assert.equal(own.getChild('vCard', 'vcard-temp')?.children.length, 0, own.toString());
  // ... and service-unavailable for anyone else (§3.3)
  errorOf(await bob.iq('get', `alice@${DOMAIN}`, xml('vCard', { xmlns: 'vcard-temp' })), 'service-unavailable');
  // no avatar: an empty <photo/> on available presence (XEP-0153 §4.2)
  await alice.send(xml('presence', { to: bob.jid }));
  const before = await bob.waitForStanza((s) => s.name === 'presence' && s.attrs['from'] === alice.jid);
  assert.equal(photoIn(before)?.getText(), '', before.toString());

  assert.equal((await alice.iq('set', undefined, vcardEl('Alice', PNG_SIG))).attrs['type'], 'result');
  const got = await bob.iq('get', `alice@${DOMAIN}`, xml('vCard', { xmlns: 'vcard-temp' }));
  assert.equal(got.attrs['type'], 'result', got.toString());
  const card = got.getChild('vCard', 'vcard-temp');
  assert.equal(card?.getChildText('FN'), 'Alice');
  assert.equal(card?.getChild('PHOTO')?.getChildText('BINVAL'), PNG_SIG);
  await alice.send(xml('presence', { to: bob.jid }, xml('status', {}, 'with photo')));
  const after = await bob.waitForStanza((s) => s.name === 'presence' && s.getChildText('status') === 'with photo');
  assert.equal(photoIn(after)?.getText(), PNG_SIG_SHA1, after.toString());

  // §3.2: only the account itself sets it
  errorOf(await bob.iq('set', `alice@${DOMAIN}`, vcardEl('Mallory')), 'forbidden');
  // larger than limits.maxVcardBytes: not-acceptable, the stored vCard unchanged
  errorOf(await alice.iq('set', undefined, vcardEl('x'.repeat(MAX_VCARD))), 'not-acceptable');
  const still = await bob.iq('get', `alice@${DOMAIN}`, xml('vCard', { xmlns: 'vcard-temp' }));
  assert.equal(still.getChild('vCard', 'vcard-temp')?.getChildText('FN'), 'Alice', still.toString());
  await alice.stop();
  await bob.stop();
});

test('private XML stored from one gateway is read by another session of the account on the other', async () => {
  const a1 = await login(gw1, 'carol', 'one');
  const a2 = await login(gw2, 'carol', 'two');
  const bob = await login(gw1, 'bob', 'pc');
  const prefs = (nick: string) => xml('query', { xmlns: 'jabber:iq:private' }, xml('exodus', { xmlns: 'exodus:prefs' }, xml('defaultnick', {}, nick)));
  assert.equal((await a1.iq('set', undefined, prefs('Hamlet'))).attrs['type'], 'result');
  const read = await a2.iq('get', undefined, xml('query', { xmlns: 'jabber:iq:private' }, xml('exodus', { xmlns: 'exodus:prefs' })));
  assert.equal(read.getChild('query', 'jabber:iq:private')?.getChild('exodus', 'exodus:prefs')?.getChildText('defaultnick'), 'Hamlet', read.toString());
  // XEP-0049 §2.3: nobody else; a query without an element; the account's byte bound
  errorOf(await bob.iq('get', `carol@${DOMAIN}`, xml('query', { xmlns: 'jabber:iq:private' }, xml('exodus', { xmlns: 'exodus:prefs' }))), 'service-unavailable');
  errorOf(await a1.iq('get', undefined, xml('query', { xmlns: 'jabber:iq:private' })), 'not-acceptable');
  errorOf(await a1.iq('set', undefined, xml('query', { xmlns: 'jabber:iq:private' }, xml('big', { xmlns: 'urn:example:big' }, 'y'.repeat(MAX_PRIVATE)))), 'not-acceptable');
  const unchanged = await a2.iq('get', undefined, xml('query', { xmlns: 'jabber:iq:private' }, xml('big', { xmlns: 'urn:example:big' })));
  assert.equal(unchanged.getChild('query', 'jabber:iq:private')?.getChild('big')?.children.length, 0, unchanged.toString());
  for (const c of [a1, a2, bob]) await c.stop();
});

test('last activity: forbidden without a subscription; after logout, the seconds since and the status', async () => {
  const alice = await login(gw1, 'alice', 'desk2');
  const bob = await login(gw2, 'bob', 'phone2');
  const last = () => bob.iq('get', `alice@${DOMAIN}`, xml('query', { xmlns: 'jabber:iq:last' }));
  errorOf(await last(), 'forbidden');
  await alice.send(xml('presence'));
  await bob.send(xml('presence'));
  await bob.send(xml('presence', { type: 'subscribe', to: `alice@${DOMAIN}` }));
  await alice.waitForStanza((s) => s.name === 'presence' && s.attrs['type'] === 'subscribe');
  await alice.send(xml('presence', { type: 'subscribed', to: `bob@${DOMAIN}` }));
  await bob.waitForStanza((s) => s.name === 'presence' && s.attrs['from'] === alice.jid && s.attrs['type'] === undefined);
  // XEP-0012 §3: online, so 0
  const online = await last();
  assert.equal(online.getChild('query', 'jabber:iq:last')?.attrs['seconds'], '0', online.toString());
  await alice.send(xml('presence', { type: 'unavailable' }, xml('status', {}, 'Heading Home')));
  await alice.stop();
  await cluster!.waitForSessions(`alice@${DOMAIN}`, (s) => s.size === 0);
  await new Promise((r) => setTimeout(r, 1100));
  const offline = await last();
  const q = offline.getChild('query', 'jabber:iq:last');
  assert.ok(q, offline.toString());
  assert.ok(Number(q.attrs['seconds']) >= 1, offline.toString());
  assert.equal(q.getText(), 'Heading Home');
  // the server's uptime
  const up = await bob.iq('get', DOMAIN, xml('query', { xmlns: 'jabber:iq:last' }));
  assert.ok(Number(up.getChild('query', 'jabber:iq:last')?.attrs['seconds']) >= 0, up.toString());
  await bob.stop();
});

/** Opens a raw stream on `gw` and returns the client and the stream features. */
async function rawStream(gw: GatewayProcess): Promise<{ raw: RawClient; features: string }> {
  const raw = await RawClient.connect(gw.c2sPort);
  const features = await openStream(raw, DOMAIN);
  return { raw, features };
}

async function rawIq(raw: RawClient, id: string, body: string): Promise<string> {
  const from = raw.length;
  await raw.send(`<iq type='${body.startsWith('<query') && body.includes('<username') ? 'set' : 'get'}' id='${id}'>${body}</iq>`);
  const [reply] = await raw.waitFor(new RegExp(`<iq[^>]*id="${id}"[^>]*(?:/>|>[\\s\\S]*?</iq>)`), { from, timeoutMs: 5000 });
  return reply;
}

test('in-band registration: offered and answered where enabled, service-unavailable where not; the new account logs in with SCRAM', async () => {
  const off = await rawStream(gw2);
  assert.doesNotMatch(off.features, /iq-register/);
  assert.match(await rawIq(off.raw, 'g0', "<query xmlns='jabber:iq:register'/>"), /service-unavailable/);
  off.raw.destroy();

  const on = await rawStream(gw1);
  assert.match(on.features, /<register xmlns="http:\/\/jabber.org\/features\/iq-register"\/>/);
  const form = await rawIq(on.raw, 'g1', "<query xmlns='jabber:iq:register'/>");
  assert.match(form, /<username\/>/);
  assert.match(form, /<password\/>/);
  assert.match(await rawIq(on.raw, 's1', "<query xmlns='jabber:iq:register'><username>dave</username><password>s3cret</password></query>"), /type="result"/);
  on.raw.destroy();
  const taken = await rawStream(gw1);
  assert.match(await rawIq(taken.raw, 's2', "<query xmlns='jabber:iq:register'><username>dave</username><password>x</password></query>"), /<conflict /);
  taken.raw.destroy();

  const raw = await RawClient.connect(gw2.c2sPort);
  const session = await loginScram(raw, { domain: DOMAIN, user: 'dave', password: 's3cret', mechanism: 'SCRAM-SHA-256' });
  assert.equal(session.jid.split('/')[0], `dave@${DOMAIN}`);
  // XEP-0115 §6.3: caps among the post-authentication features
  assert.match(session.features, /<c xmlns="http:\/\/jabber.org\/protocol\/caps" hash="sha-1" node="[^"]+" ver="[A-Za-z0-9+/=]+"\/>/);
  raw.destroy();
});

test('registrations per address are bounded (register.maxPerAddress)', async () => {
  // 3 per window on gw1, two used by the test above (dave and the conflict).
  const one = await rawStream(gw1);
  assert.match(await rawIq(one.raw, 's3', "<query xmlns='jabber:iq:register'><username>erin</username><password>pw</password></query>"), /type="result"/);
  one.raw.destroy();
  const two = await rawStream(gw1);
  const refused = await rawIq(two.raw, 's4', "<query xmlns='jabber:iq:register'><username>frank</username><password>pw</password></query>");
  assert.match(refused, /<not-acceptable /);
  two.raw.destroy();
  assert.equal(await cluster!.db.exists(cluster!.keys.account(`frank@${DOMAIN}`)), 0);
});

test('password change, then <remove/>: the result, the sessions closed with not-authorized, the data gone, the name tombstoned', async () => {
  const erin = await login(gw1, 'erin', 'a');
  const other = await login(gw2, 'erin', 'b');
  const change = await erin.iq('set', undefined, xml('query', { xmlns: 'jabber:iq:register' }, xml('username', {}, 'erin'), xml('password', {}, 'newpw')));
  assert.equal(change.attrs['type'], 'result', change.toString());
  errorOf(await erin.iq('set', undefined, xml('query', { xmlns: 'jabber:iq:register' }, xml('username', {}, 'bob'), xml('password', {}, 'x'))), 'not-allowed');
  assert.equal((await erin.iq('set', undefined, vcardEl('Erin'))).attrs['type'], 'result');
  const raw = await RawClient.connect(gw2.c2sPort);
  await loginScram(raw, { domain: DOMAIN, user: 'erin', password: 'newpw', mechanism: 'SCRAM-SHA-1' });
  raw.destroy();

  const removed = await erin.iq('set', undefined, xml('query', { xmlns: 'jabber:iq:register' }, xml('remove')));
  assert.equal(removed.attrs['type'], 'result', removed.toString());
  await erin.disconnected();
  await other.disconnected();
  for (const c of [erin, other]) assert.ok(c.errors.some((e) => e.condition === 'not-authorized'), c.errors.map(String).join('; '));
  const db = cluster!.db;
  assert.equal(await db.exists(cluster!.keys.account(`erin@${DOMAIN}`)), 0);
  assert.equal(await db.exists(cluster!.keys.vcard(`erin@${DOMAIN}`)), 0);
  assert.ok(await db.get(cluster!.keys.tombstone(`erin@${DOMAIN}`)), 'tombstone');
  // the sessions' ends record no last activity for the removed account
  await cluster!.waitForSessions(`erin@${DOMAIN}`, (s) => s.size === 0);
  // the registry entry goes first in a session's cleanup; give the rest of it time to run
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(await db.exists(cluster!.keys.lastActivity(`erin@${DOMAIN}`)), 0);
  await assert.rejects(connectClient({ service: `xmpp://127.0.0.1:${gw1.c2sPort}`, username: 'erin', password: 'newpw', resource: 'c' }));
});

test('disco#info: the account advertises what it answers; the caps node#ver is answered like the server itself (XEP-0115 §6.2)', async () => {
  const raw = await RawClient.connect(gw1.c2sPort);
  const session = await loginScram(raw, { domain: DOMAIN, user: 'bob', password: 'pw', mechanism: 'SCRAM-SHA-256' });
  raw.destroy();
  const caps = /<c xmlns="http:\/\/jabber.org\/protocol\/caps" hash="sha-1" node="([^"]+)" ver="([^"]+)"\/>/.exec(session.features);
  assert.ok(caps, session.features);
  const bob = await login(gw2, 'bob', 'disco');
  const features = (reply: Element) => reply.getChild('query', NS.discoInfo)?.getChildren('feature').map((f) => String(f.attrs['var'])) ?? [];
  const plain = await bob.iq('get', DOMAIN, xml('query', { xmlns: NS.discoInfo }));
  const atNode = await bob.iq('get', DOMAIN, xml('query', { xmlns: NS.discoInfo, node: `${caps[1]}#${caps[2]}` }));
  assert.equal(atNode.attrs['type'], 'result', atNode.toString());
  assert.equal(atNode.getChild('query', NS.discoInfo)?.attrs['node'], `${caps[1]}#${caps[2]}`);
  assert.deepEqual(features(atNode), features(plain));
  for (const f of ['vcard-temp', 'jabber:iq:private', 'jabber:iq:last', 'urn:xmpp:time', 'jabber:iq:register']) assert.ok(features(plain).includes(f), `server: ${f}`);
  const account = await bob.iq('get', undefined, xml('query', { xmlns: NS.discoInfo }));
  for (const f of ['vcard-temp', 'jabber:iq:private', 'jabber:iq:last', 'urn:xmpp:time', 'jabber:iq:register']) assert.ok(features(account).includes(f), `account: ${f}`);
  // A stranger (no presence subscription) cannot discover the account, as with Prosody 0.12.
  const carol = await login(gw1, 'carol', 'disco');
  for (const ns of [NS.discoInfo, 'http://jabber.org/protocol/disco#items']) {
    errorOf(await carol.iq('get', `bob@${DOMAIN}`, xml('query', { xmlns: ns })), 'service-unavailable');
  }
  await carol.stop();
  await bob.stop();
});
