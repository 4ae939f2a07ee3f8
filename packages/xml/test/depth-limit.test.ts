import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseElement, XmlError } from '@parley/xml';
import { HEADER, record } from './recorder.js';

function nested(depth: number): string {
  return '<a>'.repeat(depth) + '</a>'.repeat(depth);
}

test('nesting up to maxDepth (the stanza counting as 1) is accepted', () => {
  const r = record({ maxDepth: 4 });
  r.parser.write(HEADER + nested(4));
  assert.deepEqual(r.errors(), []);
  assert.equal(r.elements.length, 1);
});

test('nesting one deeper than maxDepth is refused with policy-violation', () => {
  const r = record({ maxDepth: 4 });
  r.parser.write(HEADER + nested(5));
  assert.deepEqual(r.errors(), ['policy-violation']);
  assert.equal(r.elements.length, 0);
});

test('a deep but unfinished element is refused as soon as it is too deep', () => {
  const r = record({ maxDepth: 8 });
  r.parser.write(HEADER + '<a>'.repeat(9));
  assert.deepEqual(r.errors(), ['policy-violation']);
});

test('parseElement applies maxDepth to the root and its descendants', () => {
  assert.equal(parseElement(nested(3), { maxDepth: 3 }).name, 'a');
  assert.throws(
    () => parseElement(nested(4), { maxDepth: 3 }),
    (err: unknown) => err instanceof XmlError && err.condition === 'policy-violation',
  );
});
