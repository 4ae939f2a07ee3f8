import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseElement, XmlError } from '@parley/xml';
import { HEADER, record, writeInChunks } from './recorder.js';

const CASES: Record<string, string | Buffer> = {
  'mismatched end tag': "<message><body>x</message>",
  'end tag of another element': "<message></presence>",
  'duplicate attribute': "<message to='a' to='b'/>",
  'unbound prefix': '<foo:message/>',
  'unquoted attribute': '<message to=a/>',
  'garbage bytes': Buffer.from([0x3c, 0x01, 0x02, 0x03, 0xfe, 0x3e]),
  'invalid UTF-8': Buffer.concat([Buffer.from('<message><body>'), Buffer.from([0xc3, 0x28]), Buffer.from('</body></message>')]),
  'NUL character': '<message><body>\u0000</body></message>',
  'malformed character reference': '<message><body>&#xD800;</body></message>',
  '"]]>" in text': '<message><body>]]></body></message>',
};

for (const [name, input] of Object.entries(CASES)) {
  test(`${name} → not-well-formed, nothing delivered`, () => {
    for (const size of [1, 1 << 20]) {
      const r = record();
      r.parser.write(HEADER);
      writeInChunks(r.parser, input, size);
      assert.deepEqual(r.errors(), ['not-well-formed'], `chunk size ${size}`);
      assert.equal(r.elements.length, 0, `chunk size ${size}`);
    }
  });
}

test('a stanza completed before the error is delivered, whatever the chunking', () => {
  for (const size of [1, 1 << 20]) {
    const r = record();
    writeInChunks(r.parser, `${HEADER}<presence/><message></presence>`, size);
    assert.deepEqual(r.events.map((e) => e.type), ['start', 'element', 'error'], `chunk size ${size}`);
  }
});

test('the parser is dead after the first error: later writes are ignored', () => {
  const r = record();
  r.parser.write(`${HEADER}<a x='1' x='2'/>`);
  r.parser.write('<presence/></stream:stream>');
  r.parser.write('<<<<');
  assert.deepEqual(r.events.map((e) => e.type), ['start', 'error']);
});

test('nothing is reported after the end of the stream', () => {
  const r = record();
  r.parser.write(`${HEADER}</stream:stream><presence/>garbage<`);
  assert.deepEqual(r.events.map((e) => e.type), ['start', 'end']);
});

test('parseElement throws not-well-formed for malformed documents', () => {
  for (const xml of ['<a><b></a>', "<a x='1' x='2'/>", '<a/><b/>', '<a>', '', 'text', '<a/>trailing']) {
    assert.throws(
      () => parseElement(xml),
      (err: unknown) => err instanceof XmlError && err.condition === 'not-well-formed',
      JSON.stringify(xml),
    );
  }
});
