// XEP-0280 §6.1/§9 eligibility and §7/§8 wrapping (XEP-0297): pure functions, no I/O.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseOwnElement, serialize } from '@parley/xml';
import { carbonEligible, isCarbonCopy, NS_CARBONS, NS_FORWARD, wrapCarbon } from '../src/carbons/eligibility.js';

const msg = (xml: string) => parseOwnElement(xml, 'jabber:client');

test('chat messages are copied both ways; groupchat and headline never', () => {
  for (const dir of ['sent', 'received'] as const) {
    assert.equal(carbonEligible(msg(`<message type='chat' to='b@x/r'><body>hi</body></message>`), dir), true);
    assert.equal(carbonEligible(msg(`<message type='chat' to='b@x'/>`), dir), true, 'type chat without body (a chat state) too');
    assert.equal(carbonEligible(msg(`<message type='groupchat' to='room@muc'><body>hi</body></message>`), dir), false);
    assert.equal(carbonEligible(msg(`<message type='headline' to='b@x'><body>hi</body></message>`), dir), false);
  }
});

test('normal messages: with a body, a receipt, a chat state, a marker or an invitation; not empty ones', () => {
  assert.equal(carbonEligible(msg(`<message to='b@x'><body>hi</body></message>`), 'sent'), true);
  assert.equal(carbonEligible(msg(`<message type='normal' to='b@x'><body>hi</body></message>`), 'received'), true);
  assert.equal(carbonEligible(msg(`<message to='b@x'><received xmlns='urn:xmpp:receipts' id='1'/></message>`), 'sent'), true);
  assert.equal(carbonEligible(msg(`<message to='b@x'><active xmlns='http://jabber.org/protocol/chatstates'/></message>`), 'received'), true);
  assert.equal(carbonEligible(msg(`<message to='b@x'><displayed xmlns='urn:xmpp:chat-markers:0' id='1'/></message>`), 'received'), true);
  assert.equal(carbonEligible(msg(`<message to='b@x'><x xmlns='jabber:x:conference' jid='room@muc'/></message>`), 'sent'), true);
  assert.equal(carbonEligible(msg(`<message to='b@x'><x xmlns='http://jabber.org/protocol/muc#user'><invite from='c@x'/></x></message>`), 'received'), true);
  assert.equal(carbonEligible(msg(`<message to='b@x'><subject>s</subject></message>`), 'sent'), false);
  assert.equal(carbonEligible(msg(`<message to='b@x'/>`), 'sent'), false);
});

test('<private/> (§9) and the XEP-0334 <no-copy/> hint each stop copies', () => {
  assert.equal(carbonEligible(msg(`<message type='chat' to='b@x'><body>s</body><private xmlns='${NS_CARBONS}'/><no-copy xmlns='urn:xmpp:hints'/></message>`), 'sent'), false);
  assert.equal(carbonEligible(msg(`<message type='chat' to='b@x'><body>s</body><private xmlns='${NS_CARBONS}'/></message>`), 'received'), false);
  assert.equal(carbonEligible(msg(`<message type='chat' to='b@x'><body>s</body><no-copy xmlns='urn:xmpp:hints'/></message>`), 'received'), false);
  assert.equal(carbonEligible(msg(`<message type='chat' to='b@x'><body>s</body><private xmlns='urn:example:other'/></message>`), 'sent'), true, 'private in another namespace means nothing');
});

test('MUC private messages: copied when sent, not when received from an occupant (§6.1)', () => {
  const pm = `<message type='chat' to='room@muc/nick'><body>psst</body><x xmlns='http://jabber.org/protocol/muc#user'/></message>`;
  assert.equal(carbonEligible(msg(pm), 'sent'), true);
  const received = `<message type='chat' from='room@muc/nick' to='a@x/r'><body>psst</body><x xmlns='http://jabber.org/protocol/muc#user'/></message>`;
  assert.equal(carbonEligible(msg(received), 'received'), false);
});

test('errors are copied only when received; copies themselves are never copied again', () => {
  const error = `<message type='error' from='b@x' to='a@x/r'><error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>`;
  assert.equal(carbonEligible(msg(error), 'received'), true);
  assert.equal(carbonEligible(msg(error), 'sent'), false);
  const copy = wrapCarbon('received', msg(`<message type='chat' from='b@x/r' to='a@x/one'><body>hi</body></message>`), 'a@x', 'a@x/two');
  assert.equal(carbonEligible(copy, 'received'), false);
  assert.equal(carbonEligible(msg(`<presence to='b@x'/>`), 'sent'), false);
});

test('wrapCarbon: from the bare JID to the resource, same type (normal when none), original inside forwarded in jabber:client', () => {
  const original = msg(`<message type='chat' id='m1' from='b@x/r' to='a@x/one'><body>hi &amp; bye</body></message>`);
  const copy = wrapCarbon('received', original, 'a@x', 'a@x/two');
  assert.equal(copy.attrs.from, 'a@x');
  assert.equal(copy.attrs.to, 'a@x/two');
  assert.equal(copy.attrs.type, 'chat');
  const inner = copy.getChild('received', NS_CARBONS)?.getChild('forwarded', NS_FORWARD)?.getChild('message');
  assert.ok(inner, serialize(copy));
  assert.equal(inner.attrs.xmlns, 'jabber:client');
  assert.equal(inner.attrs.id, 'm1');
  assert.equal(inner.attrs.to, 'a@x/one');
  assert.equal(inner.getChildText('body'), 'hi & bye');
  assert.notEqual(inner, original, 'a clone: the original stays as it was');
  assert.equal(wrapCarbon('sent', msg(`<message to='b@x'><body>x</body></message>`), 'a@x', 'a@x/two').attrs.type, 'normal');
  assert.match(serialize(copy), /^<message from="a@x" to="a@x\/two" type="chat"><received xmlns="urn:xmpp:carbons:2"><forwarded xmlns="urn:xmpp:forward:0"><message xmlns="jabber:client"/);
});

test('isCarbonCopy recognises our copies for their own account only', () => {
  const copy = wrapCarbon('sent', msg(`<message type='chat' to='b@x'><body>x</body></message>`), 'a@x', 'a@x/two');
  assert.equal(isCarbonCopy(copy, 'a@x/two'), true);
  assert.equal(isCarbonCopy(copy, 'c@x/two'), false, 'a forged copy for someone else is an ordinary message');
  assert.equal(isCarbonCopy(msg(`<message from='a@x' type='chat'><body>x</body></message>`), 'a@x/two'), false);
});
