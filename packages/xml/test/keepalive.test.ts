import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HEADER, record } from './recorder.js';

test('whitespace keepalives between stanzas are ignored (RFC 6120 §4.6.1)', () => {
  const r = record();
  r.parser.write(HEADER);
  r.parser.write(' ');
  r.parser.write('<presence/>');
  r.parser.write('\n');
  r.parser.write('\r\n\t ');
  r.parser.write('<presence/>');
  r.parser.write(' ');
  assert.deepEqual(r.events.map((e) => e.type), ['start', 'element', 'element']);
});

test('non-whitespace text at stream level is refused with bad-format', () => {
  const r = record();
  r.parser.write(`${HEADER}<presence/> hello <presence/>`);
  assert.deepEqual(r.events.map((e) => e.type), ['start', 'element', 'error']);
  assert.deepEqual(r.errors(), ['bad-format']);
});

test('an entity at stream level is text too', () => {
  const r = record();
  r.parser.write(`${HEADER}&amp;<presence/>`);
  assert.deepEqual(r.errors(), ['bad-format']);
});
