import assert from 'node:assert/strict';
import { test } from 'node:test';
import { streamError } from '@parley/stanza';

const STREAMS = 'urn:ietf:params:xml:ns:xmpp-streams';

test('a TCP stream error relies on the stream prefix bound by the header', () => {
  assert.equal(streamError('not-well-formed').toString(), `<stream:error><not-well-formed xmlns="${STREAMS}"/></stream:error>`);
});

test('a stream error with text and language', () => {
  assert.equal(
    streamError('policy-violation', 'stanza too big', { lang: 'en' }).toString(),
    `<stream:error><policy-violation xmlns="${STREAMS}"/><text xmlns="${STREAMS}" xml:lang="en">stanza too big</text></stream:error>`,
  );
});

test('the WebSocket form declares the stream prefix on the element (RFC 7395)', () => {
  const el = streamError('host-unknown', undefined, { declarePrefix: true });
  assert.equal(
    el.toString(),
    `<stream:error xmlns:stream="http://etherx.jabber.org/streams"><host-unknown xmlns="${STREAMS}"/></stream:error>`,
  );
  assert.equal(el.getNS(), 'http://etherx.jabber.org/streams');
  assert.equal(el.getName(), 'error');
});
