/*
 * XEP-0163 PEP, XEP-0402 bookmarks and XEP-0352 CSI with real gateways: two gateways on one
 * Redis, clients that answer the server's XEP-0115 disco#info query of their caps.
 * Alice (gateway A) and Bob (gateway B) are mutual contacts; Carol (gateway B) is not a
 * contact. Publishes notify the owner's and the contacts' resources that say `+notify`
 * (across gateways), publish options and preconditions, items by max_items and id, retract
 * and delete notifications, the last item on a new session's presence, whitelist (bookmarks)
 * nodes reaching the owner only, the bounds, and CSI holding presence and PEP events until a
 * message with a body or <active/>. XEP-0060 node management on PEP: create (configured,
 * instant), configure, affiliations, subscriptions, retract notify, purge.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { GatewayProcess } from '@parley/testkit';
import { xml } from '@xmpp/client';
import type { Element } from 'ltx';
import { startCluster, printGatewayLogsOnFailure, type TestCluster } from './support/cluster.js';
import { NS } from './support/names.js';
import { chat, connectClient, isMessageWithBody, type TestClient } from './support/test-client.js';

const PUBSUB = 'http://jabber.org/protocol/pubsub';
const OWNER = 'http://jabber.org/protocol/pubsub#owner';
const EVENT = 'http://jabber.org/protocol/pubsub#event';
const ERRORS = 'http://jabber.org/protocol/pubsub#errors';
const DISCO = 'http://jabber.org/protocol/disco#info';
const CAPS = 'http://jabber.org/protocol/caps';
const CSI = 'urn:xmpp:csi:0';
const TUNE = 'http://jabber.org/protocol/tune';
const BOOKMARKS = 'urn:xmpp:bookmarks:1';
const MAX_NODES = 5;
const MAX_ITEM_BYTES = 2048;

let cluster: TestCluster | undefined;
let gwA: GatewayProcess;
let gwB: GatewayProcess;
const clients: TestClient[] = [];

printGatewayLogsOnFailure(() => cluster);

before(async () => {
  cluster = await startCluster('pep-csi');
  const env = { PARLEY_MAX_PEP_NODES: String(MAX_NODES), PARLEY_MAX_PEP_ITEM_BYTES: String(MAX_ITEM_BYTES), PARLEY_MAX_PEP_ITEMS: '10' };
  [gwA, gwB] = await Promise.all([cluster.startGateway(env), cluster.startGateway(env)]);
  for (const u of ['alice', 'bob', 'carol']) await cluster.addUser(`${u}@localhost`, 'pw');
});

after(async () => {
  await Promise.all(clients.map((c) => c.stop()));
  await cluster?.close();
});

/** XEP-0115 §5.1 over one identity (client/pc) and the features. */
function ver(features: string[]): string {
  const s = `client/pc//test<${[...features].sort().map((f) => `${f}<`).join('')}`;
  return createHash('sha1').update(s, 'utf8').digest('base64');
}

/** Logs in; the client answers disco#info with `notify` nodes as `+notify` features and says its caps in its presence. */
async function login(user: string, resource: string, gw: GatewayProcess, notify: string[], opts: { presence?: boolean } = {}): Promise<TestClient> {
  const c = await connectClient({ service: `xmpp://127.0.0.1:${gw.c2sPort}`, username: user, password: 'pw', resource });
  clients.push(c);
  const features = [DISCO, CAPS, ...notify.map((n) => `${n}+notify`)];
  const callee = (c.xmpp as unknown as { iqCallee: { get(ns: string, name: string, h: () => Element): void } }).iqCallee;
  callee.get(DISCO, 'query', () =>
    xml('query', { xmlns: DISCO, node: `urn:test#${ver(features)}` }, xml('identity', { category: 'client', type: 'pc', name: 'test' }), ...features.map((f) => xml('feature', { var: f }))),
  );
  if (opts.presence !== false) await c.send(capsPresence(features));
  return c;
}

const capsPresence = (features: string[], status?: string) =>
  xml('presence', {}, xml('c', { xmlns: CAPS, hash: 'sha-1', node: 'urn:test', ver: ver(features) }), ...(status ? [xml('status', {}, status)] : []));

/** Waits until the resource's registry record lists `node` among its notify nodes (the caps were discovered). */
async function notifyKnown(bare: string, resource: string, node: string): Promise<void> {
  await cluster!.waitForSessions(bare, (s) => s.get(resource)?.notify?.includes(node) === true);
}

const publishIq = (node: string, id: string | undefined, payload: Element, options?: Record<string, string>) =>
  xml(
    'pubsub',
    { xmlns: PUBSUB },
    xml('publish', { node }, xml('item', id === undefined ? {} : { id }, payload)),
    ...(options
      ? [
          xml(
            'publish-options',
            {},
            xml(
              'x',
              { xmlns: 'jabber:x:data', type: 'submit' },
              xml('field', { var: 'FORM_TYPE', type: 'hidden' }, xml('value', {}, `${PUBSUB}#publish-options`)),
              ...Object.entries(options).map(([k, v]) => xml('field', { var: k }, xml('value', {}, v))),
            ),
          ),
        ]
      : []),
  );
const tune = (title: string) => xml('tune', { xmlns: TUNE }, xml('title', {}, title));
const itemsIq = (node: string, attrs: Record<string, string> = {}, ids: string[] = []) =>
  xml('pubsub', { xmlns: PUBSUB }, xml('items', { node, ...attrs }, ...ids.map((id) => xml('item', { id }))));

function assertError(reply: Element, condition: string, app?: string): void {
  assert.equal(reply.attrs['type'], 'error', reply.toString());
  const error = reply.getChild('error');
  assert.ok(error?.getChild(condition, NS.stanzas), `expected <${condition}/> in ${reply.toString()}`);
  if (app) assert.ok(error?.getChild(app, ERRORS), `expected <${app}/> in ${reply.toString()}`);
}

const isEvent = (from: string, node: string, child: string, id?: string) => (el: Element) => {
  const items = el.name === 'message' && el.attrs['from'] === from ? el.getChild('event', EVENT)?.getChild('items') : undefined;
  const c = items?.attrs['node'] === node ? items.getChild(child) : undefined;
  return c !== undefined && (id === undefined || c.attrs['id'] === id);
};
const itemIds = (reply: Element) => (reply.getChild('pubsub', PUBSUB)?.getChild('items')?.getChildren('item') ?? []).map((i) => String(i.attrs['id']));

async function assertNothing(c: TestClient, match: (el: Element) => boolean, ms = 700): Promise<void> {
  await assert.rejects(c.waitForStanza(match, ms), /no matching stanza/, `${c.jid} should not have received it`);
}

async function subscribeBoth(a: TestClient, b: TestClient): Promise<void> {
  // Interested resources (RFC 6121 §2.1.3) get the `subscribed` stanzas (§3.1.6).
  for (const c of [a, b]) assert.equal((await c.iq('get', undefined, xml('query', { xmlns: 'jabber:iq:roster' }))).attrs['type'], 'result');
  for (const [x, y] of [
    [a, b],
    [b, a],
  ] as const) {
    await x.send(xml('presence', { to: y.bare, type: 'subscribe' }));
    await y.waitForStanza((el) => el.name === 'presence' && el.attrs['type'] === 'subscribe' && el.attrs['from'] === x.bare);
    await y.send(xml('presence', { to: x.bare, type: 'subscribed' }));
    await x.waitForStanza((el) => el.name === 'presence' && el.attrs['type'] === 'subscribed' && el.attrs['from'] === y.bare);
  }
}

let alice: TestClient;
let bob: TestClient;
let carol: TestClient;

test('XEP-0163 across gateways: notifications by +notify, items, preconditions, retract, last item, delete', async () => {
  alice = await login('alice', 'one', gwA, [TUNE, BOOKMARKS], { presence: false });
  bob = await login('bob', 'phone', gwB, [TUNE, BOOKMARKS], { presence: false });
  carol = await login('carol', 'pad', gwB, [TUNE]);
  await alice.send(xml('presence'));
  await bob.send(xml('presence'));
  await subscribeBoth(alice, bob);
  // A presence update with new caps: the gateway asks the client (disco#info) and records +notify.
  await alice.send(capsPresence([DISCO, CAPS, `${TUNE}+notify`, `${BOOKMARKS}+notify`]));
  await bob.send(capsPresence([DISCO, CAPS, `${TUNE}+notify`, `${BOOKMARKS}+notify`]));
  await Promise.all([notifyKnown(alice.bare, 'one', TUNE), notifyKnown(bob.bare, 'phone', TUNE), notifyKnown(carol.bare, 'pad', TUNE)]);

  // Publish (auto-create): result names the item; the owner and the contact on the other gateway get the event, Carol not.
  const pub = await alice.iq('set', undefined, publishIq(TUNE, 't1', tune('One')));
  assert.equal(pub.attrs['type'], 'result', pub.toString());
  assert.equal(pub.getChild('pubsub', PUBSUB)?.getChild('publish')?.getChild('item')?.attrs['id'], 't1', pub.toString());
  const ev = await bob.waitForStanza(isEvent(alice.bare, TUNE, 'item', 't1'));
  assert.equal(ev.attrs['type'], 'headline');
  assert.equal(ev.getChild('event', EVENT)?.getChild('items')?.getChild('item')?.getChild('tune', TUNE)?.getChildText('title'), 'One');
  await alice.waitForStanza(isEvent(alice.bare, TUNE, 'item', 't1'));
  await assertNothing(carol, isEvent(alice.bare, TUNE, 'item'));

  // A publish without an id gets one from the server.
  const anon = await alice.iq('set', undefined, publishIq(TUNE, undefined, tune('Two')));
  const genId = String(anon.getChild('pubsub', PUBSUB)?.getChild('publish')?.getChild('item')?.attrs['id'] ?? '');
  assert.ok(genId.length > 0, anon.toString());
  await bob.waitForStanza(isEvent(alice.bare, TUNE, 'item', genId));

  // XEP-0060 §7.1.5: options that differ from the existing node: conflict + precondition-not-met.
  assertError(await alice.iq('set', undefined, publishIq(TUNE, 't3', tune('Three'), { 'pubsub#access_model': 'whitelist' })), 'conflict', 'precondition-not-met');
  // Matching options are accepted.
  assert.equal((await alice.iq('set', undefined, publishIq(TUNE, 't3', tune('Three'), { 'pubsub#access_model': 'presence' }))).attrs['type'], 'result');
  await bob.waitForStanza(isEvent(alice.bare, TUNE, 'item', 't3'));

  // Items: the contact may read (presence access, max_items 1 by default), the stranger may not.
  const items = await bob.iq('get', alice.bare, itemsIq(TUNE));
  assert.deepEqual(itemIds(items), ['t3'], items.toString());
  assertError(await carol.iq('get', alice.bare, itemsIq(TUNE)), 'not-authorized', 'presence-subscription-required');
  assertError(await bob.iq('get', alice.bare, itemsIq('urn:x:none')), 'item-not-found');
  // Only the owner publishes.
  assertError(await bob.iq('set', alice.bare, publishIq(TUNE, 'x', tune('Not yours'))), 'forbidden');

  // A node with more items: max_items and ids (XEP-0060 §6.5.7, §6.5.8), in publish order.
  for (const id of ['m1', 'm2', 'm3']) {
    const r = await alice.iq('set', undefined, publishIq('urn:x:multi', id, tune(id), { 'pubsub#max_items': '2' }));
    assert.equal(r.attrs['type'], 'result', r.toString());
  }
  assert.deepEqual(itemIds(await alice.iq('get', undefined, itemsIq('urn:x:multi'))), ['m2', 'm3'], 'max_items 2 kept the newest two, oldest first');
  assert.deepEqual(itemIds(await alice.iq('get', undefined, itemsIq('urn:x:multi', { max_items: '1' }))), ['m3']);
  assert.deepEqual(itemIds(await bob.iq('get', alice.bare, itemsIq('urn:x:multi', {}, ['m2', 'm1']))), ['m2']);
  assertError(await alice.iq('get', undefined, itemsIq('urn:x:multi', { max_items: 'lots' })), 'bad-request');

  // Node names are the client's: prototype names are just names.
  for (const node of ['__proto__', 'constructor']) {
    assert.equal((await alice.iq('set', undefined, publishIq(node, 'p', tune(node)))).attrs['type'], 'result');
    assert.deepEqual(itemIds(await bob.iq('get', alice.bare, itemsIq(node))), ['p']);
  }

  // XEP-0060 §5.2: the nodes as disco#items of the account, those the requester may read.
  const nodesOf = (reply: Element) => (reply.getChild('query', 'http://jabber.org/protocol/disco#items')?.getChildren('item') ?? []).map((i) => String(i.attrs['node'])).sort();
  assert.deepEqual(nodesOf(await alice.iq('get', alice.bare, xml('query', { xmlns: 'http://jabber.org/protocol/disco#items' }))), ['__proto__', 'constructor', TUNE, 'urn:x:multi'].sort());
  assert.deepEqual(nodesOf(await bob.iq('get', alice.bare, xml('query', { xmlns: 'http://jabber.org/protocol/disco#items' }))), ['__proto__', 'constructor', TUNE, 'urn:x:multi'].sort());

  // XEP-0163 §6.2: a new session of Bob (gateway A) with +notify gets Alice's last tune.
  const bob2 = await login('bob', 'laptop', gwA, [TUNE]);
  const last = await bob2.waitForStanza(isEvent(alice.bare, TUNE, 'item', 't3'));
  assert.equal(last.getChild('event', EVENT)?.getChild('items')?.getChildren('item').length, 1);
  // The account's own last items too.
  const alice2 = await login('alice', 'two', gwB, [TUNE]);
  await alice2.waitForStanza(isEvent(alice.bare, TUNE, 'item', 't3'));

  // Retract: notified (notify='true'); then the item is gone.
  const ret = await alice.iq('set', undefined, xml('pubsub', { xmlns: PUBSUB }, xml('retract', { node: TUNE, notify: 'true' }, xml('item', { id: 't3' }))));
  assert.equal(ret.attrs['type'], 'result', ret.toString());
  await bob.waitForStanza(isEvent(alice.bare, TUNE, 'retract', 't3'));
  await bob2.waitForStanza(isEvent(alice.bare, TUNE, 'retract', 't3'));
  assertError(await alice.iq('set', undefined, xml('pubsub', { xmlns: PUBSUB }, xml('retract', { node: TUNE }, xml('item', { id: 't3' })))), 'item-not-found');

  // Delete the node (owner namespace): subscribers get <delete/>; the node is gone.
  const del = await alice.iq('set', undefined, xml('pubsub', { xmlns: OWNER }, xml('delete', { node: TUNE })));
  assert.equal(del.attrs['type'], 'result', del.toString());
  await bob.waitForStanza((el) => el.name === 'message' && el.getChild('event', EVENT)?.getChild('delete')?.attrs['node'] === TUNE);
  assertError(await bob.iq('get', alice.bare, itemsIq(TUNE)), 'item-not-found');
  await Promise.all([bob2.stop(), alice2.stop()]);
});

const nodeConfig = (fields: Record<string, string>, type = 'submit') =>
  xml(
    'x',
    { xmlns: 'jabber:x:data', type },
    xml('field', { var: 'FORM_TYPE', type: 'hidden' }, xml('value', {}, `${PUBSUB}#node_config`)),
    ...Object.entries(fields).map(([k, v]) => xml('field', { var: k }, xml('value', {}, v))),
  );
const formValue = (reply: Element, field: string) =>
  reply
    .getChild('pubsub', OWNER)
    ?.getChild('configure')
    ?.getChild('x', 'jabber:x:data')
    ?.getChildren('field')
    .find((f) => f.attrs['var'] === field)
    ?.getChildText('value');
const ownerEvent = (from: string, name: 'purge' | 'delete', node: string) => (el: Element) =>
  el.name === 'message' && el.attrs['from'] === from && el.getChild('event', EVENT)?.getChild(name)?.attrs['node'] === node;

test('XEP-0060 node management on PEP: create, configure, affiliations, subscriptions, retract, purge, bounds', async () => {
  const configureIq = (node: string, form?: Element) => xml('pubsub', { xmlns: OWNER }, xml('configure', { node }, ...(form ? [form] : [])));
  // §8.1.3 create and configure: open access, three items.
  const created = await alice.iq('set', undefined, xml('pubsub', { xmlns: PUBSUB }, xml('create', { node: TUNE }), xml('configure', {}, nodeConfig({ 'pubsub#access_model': 'open', 'pubsub#max_items': '3' }))));
  assert.equal(created.attrs['type'], 'result', created.toString());
  assertError(await alice.iq('set', undefined, xml('pubsub', { xmlns: PUBSUB }, xml('create', { node: TUNE }))), 'conflict');
  assertError(await bob.iq('set', alice.bare, xml('pubsub', { xmlns: PUBSUB }, xml('create', { node: 'urn:x:bobs' }))), 'forbidden');
  const form = await alice.iq('get', undefined, configureIq(TUNE));
  assert.equal(formValue(form, 'pubsub#access_model'), 'open', form.toString());
  assert.equal(formValue(form, 'pubsub#max_items'), '3');
  assertError(await bob.iq('get', alice.bare, configureIq(TUNE)), 'forbidden');
  for (const id of ['k1', 'k2', 'k3']) {
    assert.equal((await alice.iq('set', undefined, publishIq(TUNE, id, tune(id)))).attrs['type'], 'result');
    await bob.waitForStanza(isEvent(alice.bare, TUNE, 'item', id));
  }
  // Open: a stranger reads.
  assert.deepEqual(itemIds(await carol.iq('get', alice.bare, itemsIq(TUNE))), ['k1', 'k2', 'k3']);

  // §8.2.4: whitelist, two items: the oldest goes, the stranger and the contact are shut out.
  const set = await alice.iq('set', undefined, configureIq(TUNE, nodeConfig({ 'pubsub#access_model': 'whitelist', 'pubsub#max_items': '2' })));
  assert.equal(set.attrs['type'], 'result', set.toString());
  assert.deepEqual(itemIds(await alice.iq('get', undefined, itemsIq(TUNE))), ['k2', 'k3']);
  assertError(await carol.iq('get', alice.bare, itemsIq(TUNE)), 'not-allowed', 'closed-node');
  assert.equal((await alice.iq('set', undefined, publishIq(TUNE, 'k4', tune('k4')))).attrs['type'], 'result');
  await alice.waitForStanza(isEvent(alice.bare, TUNE, 'item', 'k4'));
  await assertNothing(bob, isEvent(alice.bare, TUNE, 'item', 'k4'));
  // Bad forms change nothing.
  assertError(await alice.iq('set', undefined, configureIq(TUNE, nodeConfig({ 'pubsub#max_items': '11' }))), 'bad-request');
  assertError(await alice.iq('set', undefined, configureIq(TUNE, nodeConfig({ 'pubsub#access_model': 'authorize' }))), 'not-acceptable');
  assertError(await alice.iq('set', undefined, configureIq(TUNE)), 'bad-request');
  assert.equal((await alice.iq('set', undefined, configureIq(TUNE, nodeConfig({ 'pubsub#access_model': 'open' }, 'cancel')))).attrs['type'], 'result');
  assert.equal(formValue(await alice.iq('get', undefined, configureIq(TUNE)), 'pubsub#access_model'), 'whitelist');
  // §7.1.5 the publish options are checked against the new configuration.
  assertError(await alice.iq('set', undefined, publishIq(TUNE, 'k5', tune('k5'), { 'pubsub#access_model': 'presence' })), 'conflict', 'precondition-not-met');

  // Back to presence access: the contact gets notifications again.
  assert.equal((await alice.iq('set', undefined, configureIq(TUNE, nodeConfig({ 'pubsub#access_model': 'presence' })))).attrs['type'], 'result');
  // §7.2.2.1: notify='false' overrides the node's notify_retract; notify='true' notifies.
  assert.equal((await alice.iq('set', undefined, xml('pubsub', { xmlns: PUBSUB }, xml('retract', { node: TUNE, notify: 'false' }, xml('item', { id: 'k3' }))))).attrs['type'], 'result');
  await assertNothing(bob, isEvent(alice.bare, TUNE, 'retract', 'k3'));
  assert.equal((await alice.iq('set', undefined, xml('pubsub', { xmlns: PUBSUB }, xml('retract', { node: TUNE, notify: 'true' }, xml('item', { id: 'k4' }))))).attrs['type'], 'result');
  await bob.waitForStanza(isEvent(alice.bare, TUNE, 'retract', 'k4'));
  await alice.waitForStanza(isEvent(alice.bare, TUNE, 'retract', 'k4'));

  // §8.9.1, §5.7, §5.6, §8.8.1.
  const aff = await alice.iq('get', undefined, xml('pubsub', { xmlns: OWNER }, xml('affiliations', { node: TUNE })));
  assert.deepEqual(aff.getChild('pubsub', OWNER)?.getChild('affiliations')?.getChildren('affiliation').map((a) => `${String(a.attrs['jid'])} ${String(a.attrs['affiliation'])}`), [`${alice.bare} owner`], aff.toString());
  const mine = await alice.iq('get', undefined, xml('pubsub', { xmlns: PUBSUB }, xml('affiliations')));
  const owned = (mine.getChild('pubsub', PUBSUB)?.getChild('affiliations')?.getChildren('affiliation') ?? []).map((a) => String(a.attrs['node']));
  assert.ok(owned.includes(TUNE) && owned.includes('urn:x:multi'), mine.toString());
  assertError(await bob.iq('get', alice.bare, xml('pubsub', { xmlns: PUBSUB }, xml('affiliations'))), 'forbidden');
  const subs = await alice.iq('get', undefined, xml('pubsub', { xmlns: PUBSUB }, xml('subscriptions')));
  assert.deepEqual(subs.getChild('pubsub', PUBSUB)?.getChild('subscriptions')?.children, [], subs.toString());
  assertError(await alice.iq('get', undefined, xml('pubsub', { xmlns: OWNER }, xml('subscriptions', { node: 'urn:x:none' }))), 'item-not-found');
  assertError(await alice.iq('set', undefined, xml('pubsub', { xmlns: OWNER }, xml('affiliations', { node: TUNE }, xml('affiliation', { jid: bob.bare, affiliation: 'member' })))), 'feature-not-implemented');

  // §8.5 purge: the node stays empty; readers are told.
  assert.equal((await alice.iq('set', undefined, xml('pubsub', { xmlns: OWNER }, xml('purge', { node: TUNE })))).attrs['type'], 'result');
  await bob.waitForStanza(ownerEvent(alice.bare, 'purge', TUNE));
  assert.deepEqual(itemIds(await alice.iq('get', undefined, itemsIq(TUNE))), []);
  assertError(await alice.iq('set', undefined, xml('pubsub', { xmlns: OWNER }, xml('purge', { node: 'urn:x:none' }))), 'item-not-found');

  // §8.1.2 an instant node: named by the server.
  const instant = await alice.iq('set', undefined, xml('pubsub', { xmlns: PUBSUB }, xml('create')));
  const name = String(instant.getChild('pubsub', PUBSUB)?.getChild('create')?.attrs['node'] ?? '');
  assert.match(name, /^[0-9a-f-]{36}$/, instant.toString());
  assert.equal(formValue(await alice.iq('get', undefined, configureIq(name)), 'pubsub#access_model'), 'presence');
  // Bounds: explicit creates count against limits.maxPepNodes (alice: tune, multi, __proto__, constructor, the instant one).
  assertError(await alice.iq('set', undefined, xml('pubsub', { xmlns: PUBSUB }, xml('create', { node: 'urn:x:too-many' }))), 'not-acceptable');
  for (const node of [name, TUNE]) assert.equal((await alice.iq('set', undefined, xml('pubsub', { xmlns: OWNER }, xml('delete', { node })))).attrs['type'], 'result');
  await bob.waitForStanza(ownerEvent(alice.bare, 'delete', TUNE));
});

test('XEP-0402 bookmarks: whitelist, one item per room, the owner\'s resources only', async () => {
  const opts = { 'pubsub#persist_items': 'true', 'pubsub#max_items': 'max', 'pubsub#send_last_published_item': 'never', 'pubsub#access_model': 'whitelist' };
  const conference = (name: string) => xml('conference', { xmlns: BOOKMARKS, name, autojoin: 'true' }, xml('nick', {}, 'al'));
  const alice3 = await login('alice', 'three', gwB, [BOOKMARKS]);
  await notifyKnown(alice.bare, 'three', BOOKMARKS);
  for (const room of ['a@conference.localhost', 'b@conference.localhost']) {
    const r = await alice.iq('set', undefined, publishIq(BOOKMARKS, room, conference(room), opts));
    assert.equal(r.attrs['type'], 'result', r.toString());
    await alice3.waitForStanza(isEvent(alice.bare, BOOKMARKS, 'item', room));
  }
  await assertNothing(bob, isEvent(alice.bare, BOOKMARKS, 'item'));
  // Re-publishing a room replaces its item.
  assert.equal((await alice.iq('set', undefined, publishIq(BOOKMARKS, 'a@conference.localhost', conference('renamed'), opts))).attrs['type'], 'result');
  const all = await alice3.iq('get', undefined, itemsIq(BOOKMARKS));
  assert.deepEqual(itemIds(all), ['b@conference.localhost', 'a@conference.localhost'], all.toString());
  assert.equal(all.getChild('pubsub', PUBSUB)?.getChild('items')?.getChildren('item')[1]?.getChild('conference', BOOKMARKS)?.attrs['name'], 'renamed');
  assertError(await bob.iq('get', alice.bare, itemsIq(BOOKMARKS)), 'not-allowed', 'closed-node');
  const discoNodes = async (c: TestClient) =>
    ((await c.iq('get', alice.bare, xml('query', { xmlns: 'http://jabber.org/protocol/disco#items' }))).getChild('query', 'http://jabber.org/protocol/disco#items')?.getChildren('item') ?? []).map((i) => String(i.attrs['node']));
  assert.ok((await discoNodes(alice3)).includes(BOOKMARKS), 'the owner sees the whitelist node');
  assert.ok(!(await discoNodes(bob)).includes(BOOKMARKS), 'a contact does not');
  // send_last_published_item never: a new session gets no last bookmark.
  const alice4 = await login('alice', 'four', gwA, [BOOKMARKS]);
  await notifyKnown(alice.bare, 'four', BOOKMARKS);
  await assertNothing(alice4, isEvent(alice.bare, BOOKMARKS, 'item'));
  await Promise.all([alice3.stop(), alice4.stop()]);
});

test('XEP-0402 §5.3 compatibility: XEP-0048 bookmarks in private storage and the PEP node are one list', async () => {
  const PRIVATE = 'jabber:iq:private';
  const LEGACY = 'storage:bookmarks';
  const watcher = await login('alice', 'five', gwB, [BOOKMARKS]);
  await notifyKnown(alice.bare, 'five', BOOKMARKS);
  const disco = await alice.iq('get', alice.bare, xml('query', { xmlns: DISCO }));
  assert.ok(disco.getChild('query', DISCO)?.getChildren('feature').some((f) => f.attrs['var'] === `${BOOKMARKS}#compat`), disco.toString());
  // A legacy client stores two rooms and a URL: the rooms become PEP items (notified), the rest disappear from PEP.
  const legacy = xml(
    'storage',
    { xmlns: LEGACY },
    xml('conference', { jid: 'c@conference.localhost', name: 'C', autojoin: '1' }, xml('nick', {}, 'al'), xml('password', {}, 'pw')),
    xml('conference', { jid: 'd@conference.localhost', autojoin: 'false' }),
    xml('url', { name: 'Site', url: 'https://example.org/' }),
  );
  assert.equal((await alice.iq('set', undefined, xml('query', { xmlns: PRIVATE }, legacy))).attrs['type'], 'result');
  const ev = await watcher.waitForStanza(isEvent(alice.bare, BOOKMARKS, 'item', 'c@conference.localhost'));
  const native = ev.getChild('event', EVENT)?.getChild('items')?.getChild('item')?.getChild('conference', BOOKMARKS);
  assert.equal(native?.attrs['autojoin'], 'true', ev.toString());
  assert.equal(native?.getChildText('nick'), 'al');
  await watcher.waitForStanza(isEvent(alice.bare, BOOKMARKS, 'item', 'd@conference.localhost'));
  await watcher.waitForStanza(isEvent(alice.bare, BOOKMARKS, 'retract', 'a@conference.localhost'));
  await watcher.waitForStanza(isEvent(alice.bare, BOOKMARKS, 'retract', 'b@conference.localhost'));
  assert.deepEqual(itemIds(await alice.iq('get', undefined, itemsIq(BOOKMARKS))), ['c@conference.localhost', 'd@conference.localhost']);
  // A native publish shows in the legacy view, with the URL kept.
  const opts = { 'pubsub#persist_items': 'true', 'pubsub#max_items': 'max', 'pubsub#send_last_published_item': 'never', 'pubsub#access_model': 'whitelist' };
  assert.equal((await alice.iq('set', undefined, publishIq(BOOKMARKS, 'e@conference.localhost', xml('conference', { xmlns: BOOKMARKS, name: 'E' }), opts))).attrs['type'], 'result');
  const got = await alice.iq('get', undefined, xml('query', { xmlns: PRIVATE }, xml('storage', { xmlns: LEGACY })));
  const storage = got.getChild('query', PRIVATE)?.getChild('storage', LEGACY);
  assert.deepEqual(storage?.getChildren('conference').map((c) => `${String(c.attrs['jid'])} ${String(c.attrs['autojoin'])}`), ['c@conference.localhost true', 'd@conference.localhost false', 'e@conference.localhost false'], got.toString());
  assert.equal(storage?.getChildren('conference')[0]?.getChildText('password'), 'pw');
  assert.equal(storage?.getChild('url')?.attrs['url'], 'https://example.org/');
  // A legacy room JID that is not a bare JID is refused, nothing stored.
  const bad = xml('storage', { xmlns: LEGACY }, xml('conference', { jid: 'room@conference.localhost/nick' }));
  assertError(await alice.iq('set', undefined, xml('query', { xmlns: PRIVATE }, bad)), 'not-acceptable');
  assert.equal(itemIds(await alice.iq('get', undefined, itemsIq(BOOKMARKS))).length, 3);
  await watcher.stop();
});

test('PEP bounds: item bytes (payload-too-big) and nodes per account (not-acceptable)', async () => {
  const big = xml('tune', { xmlns: TUNE }, xml('title', {}, 'x'.repeat(MAX_ITEM_BYTES)));
  assertError(await carol.iq('set', undefined, publishIq(TUNE, 'big', big)), 'not-acceptable', 'payload-too-big');
  for (let i = 0; i < MAX_NODES; i++) assert.equal((await carol.iq('set', undefined, publishIq(`urn:x:n${i}`, '1', tune('n')))).attrs['type'], 'result');
  assertError(await carol.iq('set', undefined, publishIq('urn:x:one-more', '1', tune('n'))), 'not-acceptable');
  assertError(await carol.iq('set', undefined, publishIq(TUNE, '1', tune('n'), { 'pubsub#max_items': '11' })), 'not-acceptable');
  assertError(await carol.iq('set', undefined, xml('pubsub', { xmlns: PUBSUB }, xml('publish', { node: 'urn:x:n0' }, xml('item', { id: '2' })))), 'bad-request', 'payload-required');
});

test('deleting an account deletes its PEP nodes and items', async () => {
  const pattern = `${cluster!.prefix}pep-*{u:carol@localhost}*`;
  assert.equal((await cluster!.db.keys(pattern)).length, 2 + 2 * MAX_NODES, 'nodes, meta, and items + order per node');
  const r = await cluster!.ctl(['user', 'delete', 'carol@localhost']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await cluster!.db.keys(pattern), []);
});

test('XEP-0352: presence and PEP events wait while inactive, a message flushes them first, active flushes', async () => {
  await bob.send(xml('inactive', { xmlns: CSI }));
  await alice.send(capsPresence([DISCO, CAPS, `${TUNE}+notify`, `${BOOKMARKS}+notify`], 'first'));
  await alice.send(capsPresence([DISCO, CAPS, `${TUNE}+notify`, `${BOOKMARKS}+notify`], 'second'));
  assert.equal((await alice.iq('set', undefined, publishIq(TUNE, 'c1', tune('While inactive')))).attrs['type'], 'result');
  const isAlicePresence = (el: Element) => el.name === 'presence' && el.attrs['from'] === alice.jid && el.attrs['type'] === undefined;
  const status = (el: Element) => el.getChildText('status') ?? '';
  await assertNothing(bob, (el) => (isAlicePresence(el) && ['first', 'second'].includes(status(el))) || isEvent(alice.bare, TUNE, 'item', 'c1')(el), 800);
  const start = bob.received.length;
  await alice.send(chat(bob.bare, 'wake up'));
  await bob.waitForStanza(isMessageWithBody('wake up'));
  const after = bob.received.slice(start);
  const order = after.map((el) => (isAlicePresence(el) ? `presence:${el.getChildText('status')}` : isEvent(alice.bare, TUNE, 'item', 'c1')(el) ? 'event' : el.getChildText('body') ?? el.name));
  assert.deepEqual(order, ['presence:second', 'event', 'wake up'], 'only the latest presence, the event, then the message');
  // Inactive again: a presence waits until <active/>.
  await bob.send(xml('inactive', { xmlns: CSI }));
  await alice.send(capsPresence([DISCO, CAPS, `${TUNE}+notify`, `${BOOKMARKS}+notify`], 'third'));
  await assertNothing(bob, (el) => isAlicePresence(el) && el.getChildText('status') === 'third', 700);
  await bob.send(xml('active', { xmlns: CSI }));
  await bob.waitForStanza((el) => isAlicePresence(el) && el.getChildText('status') === 'third');
});
