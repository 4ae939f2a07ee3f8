// RFC 7622 §3.3: the localpart (UsernameCaseMapped, RFC 8265 §3.3).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { JidError, normalizeLocalpart, parseJid } from '@parley/jid';

const local = (s: string): string | undefined => parseJid(`${s}@example.com`).local;

function rejects(s: string, code = 'disallowed-character'): void {
  assert.throws(() => normalizeLocalpart(s), (err: unknown) => {
    assert.ok(err instanceof JidError, `expected JidError for ${JSON.stringify(s)}`);
    assert.equal(err.part, 'localpart');
    assert.equal(err.code, code);
    return true;
  });
}

test('case is folded', () => {
  assert.equal(local('Juliet'), 'juliet');
  assert.equal(local('JULIET'), 'juliet');
  assert.equal(local('ÉLODIE'), 'élodie');
  assert.equal(local('ΣΟΦΙΑ'), 'σοφια');
});

test('folding is full Unicode case folding, not just toLowerCase', () => {
  assert.equal(local('straße'), 'strasse');
  assert.equal(local('STRAẞE'), 'strasse');
  assert.equal(local('STRASSE'), 'strasse');
  // A final sigma folds to σ like any other: no Final_Sigma context.
  assert.equal(local('ΟΔΟΣ'), 'οδοσ');
  assert.equal(local('οδος'), 'οδοσ');
  // Cherokee folds to the uppercase letters.
  assert.equal(local('ꭰꭱ'), 'ᎠᎡ');
  assert.equal(local('ᎠᎡ'), 'ᎠᎡ');
  // Dotless i is its own letter.
  assert.equal(local('ı'), 'ı');
  assert.notEqual(local('ı'), local('i'));
});

test('output is NFC: composed and decomposed input give the same localpart', () => {
  assert.equal(local('e\u0301lodie'), '\u00e9lodie');
  assert.ok(parseJid('e\u0301lodie@example.com').equals(parseJid('\u00e9lodie@example.com')));
  // Conjoining jamo are OldHangulJamo (RFC 8264 §9.9): rejected before NFC could compose them.
  assert.throws(() => local('\u1112\u1161\u11AB'), JidError);
});

test('fullwidth and halfwidth characters are width-mapped', () => {
  assert.equal(local('ＪＵＬＩＥＴ'), 'juliet');
  assert.equal(local('ｶﾀｶﾅ'), 'カタカナ');
  assert.equal(local('ｶﾞ'), '\u30AC'); // halfwidth voiced mark composes after mapping
});

test('RFC 7622 §3.3.1 characters are rejected, also when they come from width mapping', () => {
  for (const ch of ['"', '&', "'", '/', ':', '<', '>', '@']) rejects(`a${ch}b`);
  rejects('a＠b');
  rejects('a＂b');
  assert.throws(() => parseJid('a"b@example.com'), JidError);
  assert.throws(() => parseJid('a:b@example.com'), JidError);
});

test('other ASCII punctuation and symbols are allowed', () => {
  assert.equal(local('a.b_c-d+e!f#g$h%i*j=k?l^m`n{o}p|q~r'), 'a.b_c-d+e!f#g$h%i*j=k?l^m`n{o}p|q~r');
});

test('spaces are rejected, ASCII or not', () => {
  rejects('a b');
  rejects(' a');
  rejects('a\u00A0b');
  rejects('a\u3000b'); // ideographic space width-maps to U+0020
  rejects('a\u2003b');
});

test('controls, unassigned, private-use, surrogates and ignorables are rejected', () => {
  for (const ch of ['\u0000', '\u0007', '\t', '\n', '\u007F', '\u0085', '\u0378', '\uE000', '\uD800', '\uFFFF', '\u00AD', '\u200B', '\u2060', '\uFEFF', '\u202E']) {
    rejects(`a${ch}b`);
  }
});

test('non-ASCII symbols and punctuation, compatibility forms and titlecase letters are rejected', () => {
  for (const s of ['☃', '€', '🎭', '«a»', '\u2028', 'ﬀ', 'ℌ', '½', 'Ⅻ', '\u212A', 'ǅ', '\u1100', '\u0640']) rejects(s);
});

test('letters, digits and combining marks of any script are allowed', () => {
  assert.equal(local('jürgen'), 'jürgen');
  assert.equal(local('日本語'), '日本語');
  assert.equal(local('한국어'), '한국어');
  assert.equal(local('हिन्दी'), 'हिन्दी');
  assert.equal(local('٠١٢'), '٠١٢');
  assert.equal(local('\u3007'), '\u3007');
});

test('contextual rules of RFC 5892 Appendix A', () => {
  assert.equal(local('l·l'), 'l·l'); // A.3, Catalan
  assert.equal(local('L·L'), 'l·l'); // checked after case folding
  rejects('a·b');
  assert.equal(local('\u0375α'), '\u0375α'); // A.4
  rejects('\u0375a');
  assert.equal(local('א\u05F3'), 'א\u05F3'); // A.5
  rejects('\u05F3a');
  assert.equal(local('カ・カ'), 'カ・カ'); // A.7
  rejects('a・b');
  rejects('٠۰'); // A.8/A.9: Arabic-Indic and extended Arabic-Indic digits do not mix
  assert.equal(local('क्\u200Dष'), 'क्\u200Dष'); // A.2: ZWJ after a virama
  assert.equal(local('क्\u200Cष'), 'क्\u200Cष'); // A.1: ZWNJ after a virama
  rejects('a\u200Db');
  rejects('a\u200Cb');
});

test('at most 1023 octets of UTF-8, counted after preparation', () => {
  assert.equal(normalizeLocalpart('a'.repeat(1023)).length, 1023);
  rejects('a'.repeat(1024), 'too-long');
  assert.equal(normalizeLocalpart('é'.repeat(511) + 'a'), 'é'.repeat(511) + 'a'); // 1023 octets
  rejects('é'.repeat(512), 'too-long'); // 512 code units, 1024 octets
  assert.equal(normalizeLocalpart('日'.repeat(341)), '日'.repeat(341)); // 1023 octets
  rejects('日'.repeat(342), 'too-long');
  assert.equal(normalizeLocalpart('\u{20000}'.repeat(255) + 'abc').length, 513); // 1023 octets
  rejects('\u{20000}'.repeat(256), 'too-long');
  // Decomposed é is 3 octets, composed 2: the limit applies to the NFC form.
  assert.equal(normalizeLocalpart('e\u0301'.repeat(511) + 'a'), 'é'.repeat(511) + 'a');
  rejects('x'.repeat(100_000), 'too-long');
});

test('empty is rejected', () => {
  rejects('', 'empty');
});
