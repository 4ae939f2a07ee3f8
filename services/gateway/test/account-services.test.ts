// Pure parts of the account services (issue #11 items 5, 6): XEP-0153 hashes and presence
// stamping, XEP-0115 verification strings, XEP-0202 time, XEP-0012 answers, XEP-0077 forms.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Element } from 'ltx';
import { parseJid } from '@parley/jid';
import { NS, parseElement } from '@parley/xml';
import { capsElement, capsVer, CAPS_NODE, CAPS_NS } from '../src/account/caps.js';
import { timeElement, TIME_NS } from '../src/account/entity-time.js';
import { lastQuery, LAST_NS } from '../src/account/last-activity.js';
import { privateField } from '../src/account/private-storage.js';
import { isRemove, registeredForm, registrationForm, REGISTER_NS } from '../src/account/register.js';
import { photoHash, stampAvatar, VCARD_UPDATE_NS } from '../src/account/vcard.js';
import { coreIqHandlers, type IqContext } from '../src/server/iq-handlers.js';

const vcard = (xml: string) => parseElement(`<vCard xmlns='vcard-temp'>${xml}</vCard>`);
// An 8-byte PNG signature; Prosody 0.12 advertises the same hash for it.
const PNG_SIG = 'iVBORw0KGgo=';
const PNG_SIG_SHA1 = '4caece539b039b16e16206ea2478f8c5ffb2ca05';

test('XEP-0153 §4.1: the photo hash is the SHA-1 of the decoded BINVAL, whitespace ignored', () => {
  assert.equal(photoHash(vcard(`<PHOTO><TYPE>image/png</TYPE><BINVAL>${PNG_SIG}</BINVAL></PHOTO>`)), PNG_SIG_SHA1);
  assert.equal(photoHash(vcard(`<PHOTO><BINVAL>\n iVBORw0K\r\n Ggo= \n</BINVAL></PHOTO>`)), PNG_SIG_SHA1);
  assert.equal(photoHash(vcard('<FN>No photo</FN>')), '');
  assert.equal(photoHash(vcard('<PHOTO><BINVAL/></PHOTO>')), '');
});

test('XEP-0153 §4.2: the hash is added to presence without one, in a new update element', () => {
  const p = parseElement("<presence xmlns='jabber:client'><status>hi</status></presence>");
  stampAvatar(p, PNG_SIG_SHA1);
  const x = p.getChild('x', VCARD_UPDATE_NS);
  assert.equal(x?.getChildText('photo'), PNG_SIG_SHA1);
  assert.equal(p.getChildText('status'), 'hi');
  const empty = parseElement("<presence xmlns='jabber:client'/>");
  stampAvatar(empty, '');
  const photo = empty.getChild('x', VCARD_UPDATE_NS)?.getChild('photo');
  assert.ok(photo, empty.toString());
  assert.equal(photo.getText(), '', 'no avatar: an empty <photo/>');
});

test('an update element without <photo/> gets it; one with <photo/> is left alone (as Prosody)', () => {
  const notReady = parseElement(`<presence xmlns='jabber:client'><x xmlns='${VCARD_UPDATE_NS}'/></presence>`);
  stampAvatar(notReady, PNG_SIG_SHA1);
  assert.equal(notReady.getChildren('x', VCARD_UPDATE_NS).length, 1);
  assert.equal(notReady.getChild('x', VCARD_UPDATE_NS)?.getChildText('photo'), PNG_SIG_SHA1);
  const own = parseElement(`<presence xmlns='jabber:client'><x xmlns='${VCARD_UPDATE_NS}'><photo>abc</photo></x></presence>`);
  stampAvatar(own, PNG_SIG_SHA1);
  assert.deepEqual(own.getChild('x', VCARD_UPDATE_NS)?.getChildren('photo').map((e) => e.getText()), ['abc']);
});

test('XEP-0115 §5.2: the verification string of the simple example', () => {
  const ver = capsVer([{ category: 'client', type: 'pc', name: 'Exodus 0.9.1' }], [
    'http://jabber.org/protocol/disco#info',
    'http://jabber.org/protocol/disco#items',
    'http://jabber.org/protocol/muc',
    'http://jabber.org/protocol/caps',
  ]);
  assert.equal(ver, 'QgayPKawpkPSDYmwT/WM94uAlu0=');
  const c = capsElement(ver);
  assert.equal(c.attrs.xmlns, CAPS_NS);
  assert.equal(c.attrs.hash, 'sha-1');
  assert.equal(c.attrs.node, CAPS_NODE);
});

test('XEP-0115 §6.2: disco#info at node#ver is answered like the plain one, other nodes are item-not-found', async () => {
  const table = coreIqHandlers();
  const ctx = (node?: string): IqContext => ({
    target: 'server',
    domain: 'localhost',
    node,
    mucDomain: 'conference.localhost',
    from: parseJid('a@localhost/r'),
    to: parseJid('localhost'),
    self: false,
    iq: new Element('iq', { type: 'get', id: '1' }),
  });
  const node = `${CAPS_NODE}#${table.capsVer('server')}`;
  const plain = await table.answer('get', new Element('query', { xmlns: NS.DISCO_INFO }), ctx());
  const atNode = await table.answer('get', new Element('query', { xmlns: NS.DISCO_INFO, node }), ctx(node));
  assert.ok('payload' in plain && plain.payload && 'payload' in atNode && atNode.payload);
  assert.equal(atNode.payload.attrs.node, node);
  assert.deepEqual(atNode.payload.children.map(String), plain.payload.children.map(String));
  const bad = await table.answer('get', new Element('query', { xmlns: NS.DISCO_INFO, node: `${CAPS_NODE}#x` }), ctx(`${CAPS_NODE}#x`));
  assert.deepEqual(bad, { error: 'item-not-found' });
  // The hash covers exactly what disco#info lists.
  const ids = plain.payload.getChildren('identity').map((i) => ({ ...i.attrs }) as Record<string, string>);
  const features = plain.payload.getChildren('feature').map((f) => String(f.attrs.var));
  assert.equal(capsVer(ids, features), table.capsVer('server'));
});

test('XEP-0202 §3: tzo and utc (XEP-0082 DateTime, whole seconds, Z)', () => {
  const el = timeElement(Date.UTC(2008, 7, 22, 21, 9, 4, 567));
  assert.equal(el.attrs.xmlns, TIME_NS);
  assert.equal(el.getChildText('utc'), '2008-08-22T21:09:04Z');
  assert.match(el.getChildText('tzo') ?? '', /^[+-]\d{2}:\d{2}$/);
});

test('XEP-0012: seconds are whole and never negative; the status is the text', () => {
  assert.equal(lastQuery(903.9, 'Heading Home').toString(), `<query xmlns="${LAST_NS}" seconds="903">Heading Home</query>`);
  assert.equal(lastQuery(-2).attrs.seconds, '0');
  assert.equal(lastQuery(0).children.length, 0);
});

test('XEP-0049: elements are stored by namespace and name', () => {
  const q = parseElement("<query xmlns='jabber:iq:private'><exodus xmlns='exodus:prefs'/><foo/></query>");
  const [a, b] = q.getChildElements();
  assert.equal(privateField(a!), 'exodus:prefs exodus');
  assert.equal(privateField(b!), 'jabber:iq:private foo', 'an element without its own namespace inherits jabber:iq:private (and is refused)');
});

test('XEP-0077: the registration form, the registered answer, and <remove/>', () => {
  const form = registrationForm();
  assert.equal(form.attrs.xmlns, REGISTER_NS);
  assert.ok(form.getChild('username') && form.getChild('password') && form.getChild('instructions'));
  const reg = registeredForm(parseJid('alice@localhost'));
  assert.ok(reg.getChild('registered'));
  assert.equal(reg.getChildText('username'), 'alice');
  assert.equal(isRemove(parseElement("<query xmlns='jabber:iq:register'><remove/></query>")), true);
  assert.equal(isRemove(form), false);
});
