// The Jid value: bare(), isBare(), withResource(), toString(), equals(), immutability.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { JidError, parseJid, type Jid } from '@parley/jid';

test('toString joins the normalised parts and parses back to an equal JID', () => {
  for (const [input, text] of [
    ['Juliet@Example.COM/Balcony', 'juliet@example.com/Balcony'],
    ['example.com', 'example.com'],
    ['EXAMPLE.com/Res/With/Slashes', 'example.com/Res/With/Slashes'],
    ['ＲＯＭＥＯ@xn--bcher-kva.de/ a\u00A0b', 'romeo@bücher.de/ a b'],
    ['x@[2001:DB8::1]', 'x@[2001:db8::1]'],
  ] as const) {
    const j = parseJid(input);
    assert.equal(j.toString(), text);
    assert.equal(`${j}`, text);
    assert.ok(parseJid(j.toString()).equals(j));
    assert.equal(parseJid(j.toString()).toString(), text);
  }
});

test('bare() drops the resourcepart; isBare() tells whether there is one', () => {
  const full = parseJid('juliet@example.com/balcony');
  assert.equal(full.isBare(), false);
  const bare = full.bare();
  assert.equal(bare.isBare(), true);
  assert.equal(bare.toString(), 'juliet@example.com');
  assert.equal(bare.resource, undefined);
  assert.equal(bare.bare(), bare);
  assert.equal(full.resource, 'balcony'); // unchanged
  assert.equal(parseJid('example.com/r').bare().toString(), 'example.com');
});

test('withResource() normalises the new resourcepart and rejects invalid ones', () => {
  const bare = parseJid('juliet@example.com');
  const full = bare.withResource('Orchard\u2003Gate');
  assert.equal(full.toString(), 'juliet@example.com/Orchard Gate');
  assert.equal(bare.isBare(), true);
  assert.equal(full.withResource('e\u0301').resource, '\u00e9');
  assert.throws(() => bare.withResource(''), JidError);
  assert.throws(() => bare.withResource('a\u0007'), JidError);
});

test('equals() compares normalised parts: localpart and domainpart fold case, resourcepart does not', () => {
  const a = parseJid('Juliet@Example.com/Balcony');
  assert.ok(a.equals(parseJid('juliet@EXAMPLE.COM/Balcony')));
  assert.ok(!a.equals(parseJid('juliet@example.com/balcony')));
  assert.ok(!a.equals(parseJid('juliet@example.com')));
  assert.ok(!parseJid('example.com').equals(parseJid('juliet@example.com')));
  assert.ok(!parseJid('example.com').equals(parseJid('example.com/juliet')));
  assert.ok(!parseJid('a@example.com').equals(parseJid('a@example.net')));
  assert.ok(a.equals(a));
});

test('a Jid is immutable', () => {
  const j: Jid = parseJid('juliet@example.com/balcony');
  assert.ok(Object.isFrozen(j));
  assert.equal(Reflect.set(j, 'local', 'romeo'), false);
  assert.equal(j.local, 'juliet');
  assert.equal(j.toString(), 'juliet@example.com/balcony');
});
