// RFC 7622 §3.4: the resourcepart (OpaqueString, RFC 8265 §4.2).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { JidError, normalizeResourcepart, parseJid } from '@parley/jid';

const resource = (s: string): string | undefined => parseJid(`juliet@example.com/${s}`).resource;

function rejects(s: string, code = 'disallowed-character'): void {
  assert.throws(() => normalizeResourcepart(s), (err: unknown) => {
    assert.ok(err instanceof JidError, `expected JidError for ${JSON.stringify(s)}`);
    assert.equal(err.part, 'resourcepart');
    assert.equal(err.code, code);
    return true;
  });
}

test('case is preserved', () => {
  assert.equal(resource('Balcony'), 'Balcony');
  assert.notEqual(resource('Balcony'), resource('balcony'));
  assert.equal(resource('ΣΑΣ'), 'ΣΑΣ');
});

test('spaces are allowed; non-ASCII spaces become U+0020', () => {
  assert.equal(resource('the balcony'), 'the balcony');
  assert.equal(resource(' '), ' ');
  assert.equal(resource('a\u00A0b'), 'a b');
  assert.equal(resource('a\u2003b'), 'a b');
  assert.equal(resource('a\u3000b'), 'a b');
});

test('separators, symbols, punctuation, emoji and compatibility forms are allowed as they are', () => {
  assert.equal(resource('a/b@c:d'), 'a/b@c:d');
  assert.equal(resource('"<&>\''), '"<&>\'');
  assert.equal(resource('☃ €🎭«»'), '☃ €🎭«»');
  assert.equal(resource('ﬀ½Ⅻ'), 'ﬀ½Ⅻ');
  assert.equal(resource('ＡＢ'), 'ＡＢ'); // no width mapping in OpaqueString
});

test('output is NFC', () => {
  assert.equal(resource('e\u0301'), '\u00e9');
  assert.ok(parseJid('a@b/caf\u0065\u0301').equals(parseJid('a@b/caf\u00e9')));
});

test('controls, unassigned, private-use, surrogates, ignorables and line separators are rejected', () => {
  for (const ch of ['\u0000', '\u0007', '\t', '\n', '\r', '\u007F', '\u0085', '\u0378', '\uE000', '\uDC00', '\uFFFE', '\u00AD', '\u200B', '\uFEFF', '\u202E', '\u2028', '\u1100']) {
    rejects(`a${ch}b`);
  }
  assert.throws(() => parseJid('a@b/c\u0000'), JidError);
});

test('at most 1023 octets of UTF-8, counted after preparation', () => {
  assert.equal(normalizeResourcepart('r'.repeat(1023)).length, 1023);
  rejects('r'.repeat(1024), 'too-long');
  assert.equal(normalizeResourcepart('€'.repeat(341)).length, 341); // 1023 octets
  rejects('€'.repeat(342), 'too-long');
  assert.equal(normalizeResourcepart('e\u0301'.repeat(511) + 'x'), 'é'.repeat(511) + 'x');
  rejects('é'.repeat(512), 'too-long');
});

test('empty is rejected', () => {
  rejects('', 'empty');
});
