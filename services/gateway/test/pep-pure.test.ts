// XEP-0163 / XEP-0060 publish options and XEP-0115 caps checks (pure, no I/O), and the
// XEP-0352 CSI queue and policy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Element } from 'ltx';
import { parseOwnElement } from '@parley/xml';
import { configFor, DEFAULT_NODE_CONFIG, decodeConfig, encodeConfig, isOptionsError, nodeConfigForm, parseNodeConfigForm, parsePublishOptions, unmetPrecondition } from '../src/pep/pep-config.js';
import { announcedCaps, CapsCache, capsVerified, notifyNodes, verificationString } from '../src/pep/caps-features.js';
import { CsiQueue, csiVerdict } from '../src/csi/csi-queue.js';

const el = (xml: string) => parseOwnElement(xml, 'jabber:client');
const options = (fields: Record<string, string>, formType = 'http://jabber.org/protocol/pubsub#publish-options') =>
  el(
    `<publish-options xmlns='http://jabber.org/protocol/pubsub'><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>${formType}</value></field>${Object.entries(fields)
      .map(([k, v]) => `<field var='${k}'><value>${v}</value></field>`)
      .join('')}</x></publish-options>`,
  );

test('publish options: XEP-0402 bookmarks options parse; max means the server limit', () => {
  const r = parsePublishOptions(
    options({ 'pubsub#persist_items': 'true', 'pubsub#max_items': 'max', 'pubsub#send_last_published_item': 'never', 'pubsub#access_model': 'whitelist', 'x-unknown': 'ignored' }),
    256,
  );
  assert.ok(!isOptionsError(r));
  assert.deepEqual(r, { access: 'whitelist', persist: true, maxItems: 256, sendLast: 'never' });
  assert.deepEqual(configFor(r), { ...DEFAULT_NODE_CONFIG, access: 'whitelist', persist: true, maxItems: 256, sendLast: 'never' });
  assert.deepEqual(parsePublishOptions(undefined, 10), {});
});

test('publish options: bad values are bad-request, max_items past the limit not-acceptable, wrong FORM_TYPE bad-request', () => {
  const err = (fields: Record<string, string>, formType?: string) => {
    const r = parsePublishOptions(options(fields, formType), 10);
    assert.ok(isOptionsError(r), JSON.stringify(r));
    return r.error;
  };
  assert.equal(err({ 'pubsub#access_model': 'roster' }), 'bad-request');
  assert.equal(err({ 'pubsub#persist_items': 'yes' }), 'bad-request');
  assert.equal(err({ 'pubsub#max_items': '0' }), 'bad-request');
  assert.equal(err({ 'pubsub#max_items': '-3' }), 'bad-request');
  assert.equal(err({ 'pubsub#max_items': '11' }), 'not-acceptable');
  assert.equal(err({}, 'urn:other'), 'bad-request');
});

test('node_config forms (XEP-0060 §8.1.3, §8.2.4): FORM_TYPE optional, unoffered access models not-acceptable, max_items bounded', () => {
  const form = (fields: Record<string, string>, formType?: string) =>
    el(
      `<x xmlns='jabber:x:data' type='submit'>${formType === undefined ? '' : `<field var='FORM_TYPE'><value>${formType}</value></field>`}${Object.entries(fields)
        .map(([k, v]) => `<field var='${k}'><value>${v}</value></field>`)
        .join('')}</x>`,
    );
  const nc = 'http://jabber.org/protocol/pubsub#node_config';
  assert.deepEqual(parseNodeConfigForm(form({ 'pubsub#access_model': 'open', 'pubsub#max_items': '3', 'pubsub#title': 'ignored' }, nc), 10), { access: 'open', maxItems: 3 });
  assert.deepEqual(parseNodeConfigForm(form({ 'pubsub#max_items': 'max' }), 10), { maxItems: 10 });
  const err = (r: ReturnType<typeof parseNodeConfigForm>) => (isOptionsError(r) ? r.error : 'accepted');
  assert.equal(err(parseNodeConfigForm(form({}, 'http://jabber.org/protocol/pubsub#publish-options'), 10)), 'bad-request');
  assert.equal(err(parseNodeConfigForm(form({ 'pubsub#access_model': 'roster' }, nc), 10)), 'not-acceptable');
  assert.equal(err(parseNodeConfigForm(form({ 'pubsub#access_model': 'authorize' }, nc), 10)), 'not-acceptable');
  assert.equal(err(parseNodeConfigForm(form({ 'pubsub#access_model': 'anyone' }, nc), 10)), 'bad-request');
  assert.equal(err(parseNodeConfigForm(form({ 'pubsub#max_items': '11' }, nc), 10)), 'bad-request');
  assert.equal(err(parseNodeConfigForm(form({ 'pubsub#persist_items': 'maybe' }, nc), 10)), 'bad-request');
});

test('the node configuration form carries the current values and the max_items range', () => {
  const x = nodeConfigForm({ ...DEFAULT_NODE_CONFIG, access: 'whitelist', maxItems: 7, persist: false }, 50);
  assert.equal(x.attrs.type, 'form');
  const value = (v: string) => x.getChildren('field').find((f) => f.attrs.var === v)?.getChildText('value');
  assert.equal(value('FORM_TYPE'), 'http://jabber.org/protocol/pubsub#node_config');
  assert.equal(value('pubsub#access_model'), 'whitelist');
  assert.equal(value('pubsub#max_items'), '7');
  assert.equal(value('pubsub#persist_items'), '0');
  assert.equal(value('pubsub#send_last_published_item'), 'on_sub_and_presence');
  const range = x.getChildren('field').find((f) => f.attrs.var === 'pubsub#max_items')?.getChild('validate')?.getChild('range');
  assert.deepEqual([range?.attrs.min, range?.attrs.max], ['1', '50']);
  // What the form says round-trips through the parser.
  const submitted = new Element('x', { xmlns: 'jabber:x:data', type: 'submit' });
  for (const f of x.getChildren('field')) submitted.c('field', { var: f.attrs.var }).c('value').t(f.getChildText('value') ?? '');
  const parsed = parseNodeConfigForm(submitted, 50);
  assert.ok(!isOptionsError(parsed));
  assert.deepEqual(configFor(parsed), { ...DEFAULT_NODE_CONFIG, access: 'whitelist', maxItems: 7, persist: false });
});

test('preconditions: only the requested fields are compared (XEP-0060 §7.1.5)', () => {
  const config = configFor({ access: 'whitelist', maxItems: 5 });
  assert.equal(unmetPrecondition(config, {}), undefined);
  assert.equal(unmetPrecondition(config, { access: 'whitelist', maxItems: 5 }), undefined);
  assert.equal(unmetPrecondition(config, { access: 'presence' }), 'access');
  assert.equal(unmetPrecondition(config, { persist: false }), 'persist');
});

test('node configurations survive storage; malformed ones fall back to the defaults', () => {
  const c = configFor({ access: 'open', maxItems: 7, notificationType: 'normal' });
  assert.deepEqual(decodeConfig(encodeConfig(c)), c);
  assert.deepEqual(decodeConfig('not json'), DEFAULT_NODE_CONFIG);
  assert.deepEqual(decodeConfig('{"access":"roster","maxItems":-1,"__proto__":{"x":1}}'), DEFAULT_NODE_CONFIG);
});

// XEP-0115 §5.2 / §5.3 examples.
const SIMPLE = `<query xmlns='http://jabber.org/protocol/disco#info'>
  <identity category='client' name='Exodus 0.9.1' type='pc'/>
  <feature var='http://jabber.org/protocol/caps'/>
  <feature var='http://jabber.org/protocol/disco#info'/>
  <feature var='http://jabber.org/protocol/disco#items'/>
  <feature var='http://jabber.org/protocol/muc'/>
</query>`;
const COMPLEX = `<query xmlns='http://jabber.org/protocol/disco#info'>
  <identity xml:lang='en' category='client' name='Psi 0.11' type='pc'/>
  <identity xml:lang='el' category='client' name='Ψ 0.11' type='pc'/>
  <feature var='http://jabber.org/protocol/caps'/>
  <feature var='http://jabber.org/protocol/disco#info'/>
  <feature var='http://jabber.org/protocol/disco#items'/>
  <feature var='http://jabber.org/protocol/muc'/>
  <x xmlns='jabber:x:data' type='result'>
    <field var='FORM_TYPE' type='hidden'><value>urn:xmpp:dataforms:softwareinfo</value></field>
    <field var='ip_version'><value>ipv4</value><value>ipv6</value></field>
    <field var='os'><value>Mac</value></field>
    <field var='os_version'><value>10.5.1</value></field>
    <field var='software'><value>Psi</value></field>
    <field var='software_version'><value>0.11</value></field>
  </x>
</query>`;

test('XEP-0115 §5.2 and §5.3 verification strings, and what §5.4 refuses to trust', () => {
  assert.equal(verificationString(parseOwnElement(SIMPLE), 'sha-1'), 'QgayPKawpkPSDYmwT/WM94uAlu0=');
  assert.equal(verificationString(parseOwnElement(COMPLEX), 'sha-1'), 'q07IKJEyjvHSyhy//CH0CxmKi8w=');
  assert.ok(capsVerified({ hash: 'sha-1', node: 'n', ver: 'QgayPKawpkPSDYmwT/WM94uAlu0=' }, parseOwnElement(SIMPLE)));
  assert.ok(!capsVerified({ hash: 'sha-1', node: 'n', ver: 'forged=' }, parseOwnElement(SIMPLE)));
  assert.equal(verificationString(parseOwnElement(SIMPLE), 'md5'), undefined, 'unknown hash');
  assert.equal(verificationString(parseOwnElement(SIMPLE), '__proto__'), undefined);
  const dup = SIMPLE.replace('</query>', "<feature var='http://jabber.org/protocol/muc'/></query>");
  assert.equal(verificationString(parseOwnElement(dup), 'sha-1'), undefined, 'duplicate feature');
});

test('+notify features become notify nodes, bounded, without duplicates', () => {
  const q = parseOwnElement(
    `<query xmlns='http://jabber.org/protocol/disco#info'><feature var='urn:xmpp:bookmarks:1+notify'/><feature var='+notify'/><feature var='urn:xmpp:avatar:metadata+notify'/><feature var='urn:xmpp:bookmarks:1+notify'/><feature var='a+notify'/><feature var='urn:xmpp:ping'/></query>`,
  );
  assert.deepEqual(notifyNodes(q, 10), ['urn:xmpp:bookmarks:1', 'urn:xmpp:avatar:metadata', 'a']);
  assert.deepEqual(notifyNodes(q, 2), ['urn:xmpp:bookmarks:1', 'urn:xmpp:avatar:metadata']);
  const long = parseOwnElement(`<query xmlns='http://jabber.org/protocol/disco#info'><feature var='${'n'.repeat(2000)}+notify'/><feature var='ok+notify'/></query>`);
  assert.deepEqual(notifyNodes(long, 10), ['ok'], 'an over-long node name is ignored');
});

test('announced caps are read from presence; the cache is bounded, least recently used out', () => {
  assert.deepEqual(announcedCaps(el(`<presence><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='n' ver='v'/></presence>`)), { hash: 'sha-1', node: 'n', ver: 'v' });
  assert.equal(announcedCaps(el(`<presence><c xmlns='http://jabber.org/protocol/caps' node='n'/></presence>`)), undefined);
  assert.equal(announcedCaps(el(`<presence/>`)), undefined);
  const cache = new CapsCache(2);
  cache.set('a', ['x']);
  cache.set('b', ['y']);
  assert.deepEqual(cache.get('a'), ['x']);
  cache.set('c', ['z']);
  assert.equal(cache.size, 2);
  assert.equal(cache.get('b'), undefined, 'b was least recently used');
  assert.deepEqual(cache.get('a'), ['x']);
});

test('CSI policy: presence and others\' PEP events and chat states wait; bodies, own events, iq and subscriptions do not', () => {
  const own = 'me@x';
  assert.deepEqual(csiVerdict(el(`<presence from='a@x/r'/>`), own), { hold: true, key: 'p a@x/r' });
  assert.deepEqual(csiVerdict(el(`<presence from='a@x/r' type='unavailable'/>`), own), { hold: true, key: 'p a@x/r' });
  assert.deepEqual(csiVerdict(el(`<presence from='a@x' type='subscribe'/>`), own), { hold: false });
  assert.deepEqual(csiVerdict(el(`<message from='a@x' type='headline'><event xmlns='http://jabber.org/protocol/pubsub#event'/></message>`), own), { hold: true });
  assert.deepEqual(csiVerdict(el(`<message from='me@x' type='headline'><event xmlns='http://jabber.org/protocol/pubsub#event'/></message>`), own), { hold: false });
  assert.deepEqual(csiVerdict(el(`<message from='a@x/r' type='chat'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>`), own), { hold: true });
  assert.deepEqual(csiVerdict(el(`<message from='a@x/r' type='chat'><body>hi</body><active xmlns='http://jabber.org/protocol/chatstates'/></message>`), own), { hold: false });
  assert.deepEqual(csiVerdict(el(`<message from='a@x/r' type='chat'><received xmlns='urn:xmpp:receipts' id='1'/></message>`), own), { hold: false });
  assert.deepEqual(csiVerdict(el(`<iq from='a@x/r' type='get' id='1'/>`), own), { hold: false });
  assert.deepEqual(csiVerdict(new Element('message', { type: 'error', from: 'a@x' }), own), { hold: false });
});

test('CSI queue: order kept, latest per key replaces the earlier one at the later place, flushed when full', () => {
  const q = new CsiQueue<string>(4);
  assert.equal(q.push('p1', 'a'), undefined);
  assert.equal(q.push('e1'), undefined);
  assert.equal(q.push('p2', 'a'), undefined);
  assert.equal(q.size, 2);
  assert.deepEqual(q.drain(), ['e1', 'p2']);
  assert.equal(q.size, 0);
  for (const x of ['1', '2', '3']) assert.equal(q.push(x), undefined);
  assert.deepEqual(q.push('4', '__proto__'), ['1', '2', '3', '4'], 'the fourth fills it: everything comes out');
  assert.equal(q.size, 0);
});
