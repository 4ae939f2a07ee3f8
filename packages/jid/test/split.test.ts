// RFC 7622 §3.1: where parseJid splits a JID string into its three parts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseJid, JidError } from '@parley/jid';

function parts(input: string): [string | undefined, string, string | undefined] {
  const j = parseJid(input);
  return [j.local, j.domain, j.resource];
}

function rejects(input: string, part: string, code: string): void {
  assert.throws(() => parseJid(input), (err: unknown) => {
    assert.ok(err instanceof JidError);
    assert.equal(err.part, part);
    assert.equal(err.code, code);
    return true;
  });
}

test('domain only, with localpart, with resourcepart', () => {
  assert.deepEqual(parts('example.com'), [undefined, 'example.com', undefined]);
  assert.deepEqual(parts('juliet@example.com'), ['juliet', 'example.com', undefined]);
  assert.deepEqual(parts('example.com/orchard'), [undefined, 'example.com', 'orchard']);
  assert.deepEqual(parts('juliet@example.com/balcony'), ['juliet', 'example.com', 'balcony']);
});

test('the resourcepart is everything after the first slash, slashes and @ included', () => {
  assert.deepEqual(parts('a@b/c/d'), ['a', 'b', 'c/d']);
  assert.deepEqual(parts('a@b/c@d/e'), ['a', 'b', 'c@d/e']);
  assert.deepEqual(parts('b/@'), [undefined, 'b', '@']);
  assert.deepEqual(parts('b//'), [undefined, 'b', '/']);
});

test('an @ after the first slash does not make a localpart', () => {
  assert.deepEqual(parts('example.com/juliet@example.net'), [undefined, 'example.com', 'juliet@example.net']);
});

test('the localpart ends at the first @, so a second @ lands in the domainpart and is invalid', () => {
  rejects('a@b@c', 'domainpart', 'invalid-domain');
  rejects('a@b@c/d', 'domainpart', 'invalid-domain');
});

test('a separator with an empty part is an error', () => {
  rejects('@example.com', 'localpart', 'empty');
  rejects('juliet@', 'domainpart', 'empty');
  rejects('example.com/', 'resourcepart', 'empty');
  rejects('juliet@example.com/', 'resourcepart', 'empty');
  rejects('juliet@/balcony', 'domainpart', 'empty');
  rejects('/balcony', 'domainpart', 'empty');
  rejects('@', 'localpart', 'empty');
  rejects('', 'domainpart', 'empty');
});
