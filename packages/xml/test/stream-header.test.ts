import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HEADER, record } from './recorder.js';

test('onStreamStart gets the header attributes (without namespace declarations) and default namespace', () => {
  const r = record();
  r.parser.write(HEADER);
  assert.deepEqual(r.events, [
    {
      type: 'start',
      header: {
        attrs: { to: 'example.com', version: '1.0', 'xml:lang': 'en' },
        defaultNs: 'jabber:client',
      },
    },
  ]);
});

test('the header is reported once its ">" is read, not before', () => {
  const r = record();
  r.parser.write(HEADER.slice(0, -1));
  assert.equal(r.events.length, 0);
  r.parser.write('>');
  assert.equal(r.events.length, 1);
});

test('a header without a default namespace has defaultNs undefined', () => {
  const r = record();
  r.parser.write("<stream:stream xmlns:stream='http://etherx.jabber.org/streams' to='example.com'>");
  assert.deepEqual(r.events, [{ type: 'start', header: { attrs: { to: 'example.com' }, defaultNs: undefined } }]);
});

test('</stream:stream> reports the end of the stream', () => {
  const r = record();
  r.parser.write(`${HEADER}<presence/></stream:stream>`);
  assert.deepEqual(r.events.map((e) => e.type), ['start', 'element', 'end']);
});

test('a stanza left open when the stream closes is not delivered', () => {
  const r = record();
  r.parser.write(`${HEADER}<message></stream:stream>`);
  assert.deepEqual(r.events.map((e) => e.type), ['start', 'error']);
  assert.deepEqual(r.errors(), ['not-well-formed']);
});
