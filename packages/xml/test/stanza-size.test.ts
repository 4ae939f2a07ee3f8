import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HEADER, record, writeInChunks } from './recorder.js';

/** Largest overshoot allowed by the slice-based check: one 4 KiB slice. */
const SLACK = 4096;

function message(bodyBytes: number): string {
  return `<message><body>${'a'.repeat(bodyBytes)}</body></message>`;
}

test('a stanza within maxStanzaBytes is delivered, in one write or many', () => {
  for (const size of [1, 100, 1_000_000]) {
    const r = record({ maxStanzaBytes: 8192 });
    r.parser.write(HEADER);
    writeInChunks(r.parser, message(8000) + message(8000), size);
    assert.deepEqual(r.errors(), [], `chunk size ${size}`);
    assert.equal(r.elements.length, 2);
  }
});

test('a stanza over maxStanzaBytes + one slice is refused with policy-violation', () => {
  const r = record({ maxStanzaBytes: 8192 });
  r.parser.write(HEADER + message(8192 + SLACK));
  assert.deepEqual(r.errors(), ['policy-violation']);
  assert.equal(r.elements.length, 0);
});

test('a 10 MiB stanza is refused before the parser has taken much more than the cap', () => {
  const max = 256 * 1024;
  const chunk = 64 * 1024;
  const r = record({ maxStanzaBytes: max });
  r.parser.write(`${HEADER}<message><body>`);
  const payload = Buffer.alloc(chunk, 'a');
  let written = 0;
  while (written < 10 * 1024 * 1024 && r.errors().length === 0) {
    r.parser.write(payload);
    written += chunk;
  }
  assert.deepEqual(r.errors(), ['policy-violation']);
  assert.ok(written <= max + SLACK + chunk, `error after ${written} bytes`);
});

test('the stream header itself is capped', () => {
  const r = record({ maxStanzaBytes: 4096 });
  r.parser.write(`<stream:stream xmlns:stream='http://etherx.jabber.org/streams' to='${'x'.repeat(10_000)}`);
  assert.deepEqual(r.errors(), ['policy-violation']);
  assert.equal(r.events.length, 1);
});

test('whitespace without end between stanzas is capped too', () => {
  const r = record({ maxStanzaBytes: 4096 });
  r.parser.write(HEADER);
  for (let i = 0; i < 4; i++) r.parser.write(' '.repeat(4096));
  assert.deepEqual(r.errors(), ['policy-violation']);
});

test('whitespace before a stanza does not count towards the stanza', () => {
  const r = record({ maxStanzaBytes: 16384 });
  r.parser.write(HEADER);
  r.parser.write(' '.repeat(12000));
  r.parser.write(message(12000));
  assert.deepEqual(r.errors(), []);
  assert.equal(r.elements.length, 1);
});

test('many small stanzas in one large write are not mistaken for one large stanza', () => {
  const r = record({ maxStanzaBytes: 1024 });
  r.parser.write(HEADER + '<presence/>'.repeat(10_000));
  assert.deepEqual(r.errors(), []);
  assert.equal(r.elements.length, 10_000);
});

test('setMaxStanzaBytes() raises the cap for the following stanzas (after authentication)', () => {
  const r = record({ maxStanzaBytes: 4096 });
  r.parser.write(HEADER);
  r.parser.setMaxStanzaBytes(256 * 1024);
  r.parser.write(message(100_000));
  assert.deepEqual(r.errors(), []);
  assert.equal(r.elements[0]?.getChildText('body')?.length, 100_000);
});

test('limits must be positive integers', () => {
  assert.throws(() => record({ maxStanzaBytes: 0 }), RangeError);
  assert.throws(() => record({ maxDepth: 1.5 }), RangeError);
  assert.throws(() => record().parser.setMaxStanzaBytes(-1), RangeError);
});
