import assert from 'node:assert/strict';
import { test } from 'node:test';
import { errorReply } from '@parley/stanza';
import { parseElement, serialize, NS } from '@parley/xml';

const STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';

test('an iq error reply swaps to/from, keeps the id and does not echo the payload', () => {
  const iq = parseElement(
    "<iq from='juliet@example.com/balcony' to='room@muc.example.com' id='q1' type='get'><query xmlns='jabber:iq:version'/></iq>",
    { defaultNs: NS.CLIENT },
  );
  const reply = errorReply(iq, 'service-unavailable');
  assert.ok(reply);
  assert.equal(
    serialize(reply, { omitXmlnsOf: NS.CLIENT }),
    `<iq from="room@muc.example.com" to="juliet@example.com/balcony" id="q1" type="error"><error type="cancel"><service-unavailable xmlns="${STANZAS}"/></error></iq>`,
  );
});

test('message and presence replies keep their name and namespace, and do not echo the body', () => {
  const message = parseElement(
    "<message xmlns='jabber:client' from='a@example.com/r' to='room@muc.example.com' id='m1' type='groupchat'><body>hi</body></message>",
  );
  assert.equal(
    errorReply(message, 'forbidden', { by: 'room@muc.example.com' })?.toString(),
    `<message xmlns="jabber:client" from="room@muc.example.com" to="a@example.com/r" id="m1" type="error"><error type="auth" by="room@muc.example.com"><forbidden xmlns="${STANZAS}"/></error></message>`,
  );
  const presence = parseElement("<presence xmlns='jabber:client' to='room@muc.example.com/nick'/>");
  assert.equal(
    errorReply(presence, 'conflict')?.toString(),
    `<presence xmlns="jabber:client" from="room@muc.example.com/nick" type="error"><error type="cancel"><conflict xmlns="${STANZAS}"/></error></presence>`,
  );
});

test('no error is returned in reply to an error (RFC 6120 §8.3.1)', () => {
  for (const name of ['iq', 'message', 'presence']) {
    const error = parseElement(`<${name} xmlns='jabber:client' from='a@example.com' id='x' type='error'/>`);
    assert.equal(errorReply(error, 'bad-request'), undefined, name);
  }
});

test('the reply does not modify the original stanza', () => {
  const iq = parseElement("<iq xmlns='jabber:client' from='a@example.com' id='1' type='set'><x/></iq>");
  const before = iq.toString();
  errorReply(iq, 'bad-request', { text: 'no' });
  assert.equal(iq.toString(), before);
});
