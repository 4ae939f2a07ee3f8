import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HEADER, record } from './recorder.js';

/** `props` on a null-prototype object, as the parser builds header attributes. */
const attrsOf = (props: Record<string, string>): Record<string, string> => Object.assign(Object.create(null) as Record<string, string>, props);

test('onStreamStart gets the header attributes (without namespace declarations) and default namespace', () => {
  const r = record();
  r.parser.write(HEADER);
  assert.deepEqual(r.events, [
    {
      type: 'start',
      header: {
        attrs: attrsOf({ to: 'example.com', version: '1.0', 'xml:lang': 'en' }),
        defaultNs: 'jabber:client',
      },
    },
  ]);
});

test('header attributes named __proto__ or constructor are kept as own attributes, the prototype untouched', () => {
  const r = record();
  r.parser.write("<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' __proto__='x' constructor='y' to='example.com'>");
  const start = r.events[0];
  assert.ok(start?.type === 'start');
  const attrs = start.header.attrs;
  assert.equal(Object.getPrototypeOf(attrs), null);
  assert.deepEqual(Object.entries(attrs), [['__proto__', 'x'], ['constructor', 'y'], ['to', 'example.com']]);
  assert.equal(Object.prototype.hasOwnProperty.call(Object.prototype, 'x'), false);
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
  assert.deepEqual(r.events, [{ type: 'start', header: { attrs: attrsOf({ to: 'example.com' }), defaultNs: undefined } }]);
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
