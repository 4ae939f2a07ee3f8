import assert from 'node:assert/strict';
import { test } from 'node:test';
import { record } from './recorder.js';

test('a root in the wrong namespace is refused with invalid-namespace', () => {
  const r = record();
  r.parser.write("<stream:stream xmlns='jabber:client' xmlns:stream='http://example.com/streams'>");
  assert.deepEqual(r.events, [{ type: 'error', condition: 'invalid-namespace' }]);
});

test('a root with another name is refused with invalid-namespace', () => {
  const r = record();
  r.parser.write("<message xmlns='http://etherx.jabber.org/streams'>");
  assert.deepEqual(r.errors(), ['invalid-namespace']);
});

test('a stanza sent instead of a stream header is refused', () => {
  const r = record();
  r.parser.write("<presence xmlns='jabber:client'/>");
  assert.deepEqual(r.errors(), ['invalid-namespace']);
});

test('any prefix bound to the stream namespace is accepted', () => {
  const r = record();
  r.parser.write("<s:stream xmlns='jabber:client' xmlns:s='http://etherx.jabber.org/streams'><presence/></s:stream>");
  assert.deepEqual(r.events.map((e) => e.type), ['start', 'element', 'end']);
});
