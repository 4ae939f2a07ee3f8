// RFC 8266: the PRECIS Nickname profile (enforcement §2.3, comparison §2.4).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { enforceNickname, JidError, nicknameKey, tryNickname } from '@parley/jid';

function rejects(s: string, code: string): void {
  assert.throws(() => enforceNickname(s), (err: unknown) => {
    assert.ok(err instanceof JidError, `expected JidError for ${JSON.stringify(s)}`);
    assert.equal(err.code, code);
    assert.equal(err.condition, 'jid-malformed');
    return true;
  });
  assert.equal(tryNickname(s), undefined);
}

test('plain ASCII nicks are kept as they are, case included', () => {
  assert.equal(enforceNickname('Romeo'), 'Romeo');
  assert.equal(enforceNickname('king lear'), 'king lear');
  assert.equal(enforceNickname('__proto__'), '__proto__');
  assert.equal(enforceNickname('constructor'), 'constructor');
});

test('non-ASCII spaces become U+0020; leading and trailing spaces go; runs collapse (§2.3 rule 2)', () => {
  assert.equal(enforceNickname('  stpeter '), 'stpeter');
  assert.equal(enforceNickname('St  Peter'), 'St Peter');
  assert.equal(enforceNickname('St\u00A0\u2003Peter'), 'St Peter');
  assert.equal(enforceNickname('\u3000Juliet\u3000'), 'Juliet');
});

test('NFKC: fullwidth, compatibility and composed forms (§2.3 rule 4)', () => {
  assert.equal(enforceNickname('ａｌｉｃｅ'), 'alice');
  assert.equal(enforceNickname('Ｊｕｌｉｅｔ'), 'Juliet');
  assert.equal(enforceNickname('ﬀ'), 'ff');
  assert.equal(enforceNickname('e\u0301'), '\u00e9');
  assert.equal(enforceNickname('Ⅻ'), 'XII');
});

test('the rules are applied until stable: NFKC output spaces are trimmed (RFC 8264 §7)', () => {
  // U+00A8 DIAERESIS is U+0020 U+0308 under NFKC: the leading space is removed on the second pass.
  assert.equal(enforceNickname('\u00A8a'), '\u0308a'.normalize('NFKC'));
  assert.equal(enforceNickname(enforceNickname('\u00A8a')), enforceNickname('\u00A8a'));
});

test('comparison: toLowerCase and NFKC make equivalent nicks equal (§2.4)', () => {
  assert.equal(nicknameKey('Alice'), 'alice');
  assert.equal(nicknameKey('ALICE'), nicknameKey('alice'));
  assert.equal(nicknameKey('ａｌｉｃｅ'), nicknameKey('alice'));
  assert.equal(nicknameKey('ＡＬＩＣＥ'), nicknameKey('Alice'));
  assert.equal(nicknameKey(' Alice  '), 'alice');
  assert.equal(nicknameKey('ΣΑΣ'), 'σας'); // toLowerCase, with its final-sigma rule
  assert.notEqual(nicknameKey('alice'), nicknameKey('alicia'));
  assert.notEqual(nicknameKey('a b'), nicknameKey('ab'));
  assert.deepEqual(tryNickname(' Ａｌｉｃｅ '), { nick: 'Alice', key: 'alice' });
});

test('empty, space-only and disallowed nicks are rejected', () => {
  rejects('', 'empty');
  rejects('   ', 'empty');
  rejects('\u00A0\u3000', 'empty');
  rejects('a\u0000b', 'disallowed-character');
  rejects('a\u200Bb', 'disallowed-character'); // default ignorable
  rejects('\uE000', 'disallowed-character'); // private use
  rejects('a\u0007', 'disallowed-character');
});

test('length: at most 1023 octets of UTF-8 after enforcement', () => {
  assert.equal(enforceNickname('a'.repeat(1023)).length, 1023);
  rejects('a'.repeat(1024), 'too-long');
  rejects('a'.repeat(5000), 'too-long');
  // U+FDFA expands to 18 code points (33 octets) under NFKC.
  rejects('\uFDFA'.repeat(40), 'too-long');
});
