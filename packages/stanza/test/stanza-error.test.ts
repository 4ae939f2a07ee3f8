import assert from 'node:assert/strict';
import { test } from 'node:test';
import { stanzaError } from '@parley/stanza';

test('stanzaError with the default type serialises exactly', () => {
  assert.equal(
    stanzaError('service-unavailable').toString(),
    '<error type="cancel"><service-unavailable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error>',
  );
});

test('stanzaError with type, by, text and language', () => {
  assert.equal(
    stanzaError('not-allowed', { type: 'modify', by: 'room@muc.example.com', text: 'No <b>', lang: 'en' }).toString(),
    '<error type="modify" by="room@muc.example.com">' +
      '<not-allowed xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/>' +
      '<text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas" xml:lang="en">No &lt;b&gt;</text></error>',
  );
});

test('stanzaError text without a language has no xml:lang', () => {
  assert.equal(
    stanzaError('bad-request', { text: 'x' }).toString(),
    '<error type="modify"><bad-request xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/>' +
      '<text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas">x</text></error>',
  );
});

test('gone and redirect carry the alternate address as character data', () => {
  assert.equal(
    stanzaError('gone', { uri: 'xmpp:new@muc.example.com?join' }).toString(),
    '<error type="cancel"><gone xmlns="urn:ietf:params:xml:ns:xmpp-stanzas">xmpp:new@muc.example.com?join</gone></error>',
  );
});
