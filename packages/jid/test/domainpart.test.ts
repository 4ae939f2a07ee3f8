// RFC 7622 §3.2: the domainpart (IDNA2008 / UTS #46 through node:url, IP literals).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { JidError, normalizeDomainpart, parseJid } from '@parley/jid';

const domain = (s: string): string => parseJid(`juliet@${s}`).domain;

function rejects(s: string, code = 'invalid-domain'): void {
  assert.throws(() => normalizeDomainpart(s), (err: unknown) => {
    assert.ok(err instanceof JidError, `expected JidError for ${JSON.stringify(s)}`);
    assert.equal(err.part, 'domainpart');
    assert.equal(err.code, code, `code for ${JSON.stringify(s)}`);
    return true;
  });
}

test('case is mapped to lowercase', () => {
  assert.equal(domain('EXAMPLE.com'), 'example.com');
  assert.equal(domain('Conference.Example.COM'), 'conference.example.com');
  assert.equal(domain('BÜCHER.de'), 'bücher.de');
});

test('one trailing dot is stripped; two are an error', () => {
  assert.equal(domain('example.com.'), 'example.com');
  assert.ok(parseJid('juliet@example.com./r').equals(parseJid('juliet@example.com/r')));
  rejects('example.com..');
  rejects('.', 'empty');
  rejects('..');
  rejects('.example.com');
  rejects('a..b');
});

test('A-labels become U-labels, so both spellings are the same JID', () => {
  assert.equal(domain('xn--bcher-kva.de'), 'bücher.de');
  assert.equal(domain('XN--BCHER-KVA.DE'), 'bücher.de');
  assert.equal(domain('日本.JP'), '日本.jp');
  assert.ok(parseJid('a@xn--wgv71a.jp').equals(parseJid('a@日本.jp')));
  assert.equal(domain('faß.de'), 'faß.de'); // IDNA2008: ß is kept (non-transitional)
});

test('fullwidth letters and dots, and ideographic full stops, are width-mapped', () => {
  assert.equal(domain('ｅｘａｍｐｌｅ．ｃｏｍ'), 'example.com');
  assert.equal(domain('example。com'), 'example.com');
  assert.equal(domain('example.com。'), 'example.com');
});

test('IPv4 addresses are kept; only the dotted-quad form counts as one', () => {
  assert.equal(domain('192.0.2.1'), '192.0.2.1');
  assert.equal(domain('192.0.2.1.'), '192.0.2.1');
  rejects('1.2.3'); // the URL parser would read 1.2.0.3
  rejects('0x7f.0.0.1');
  rejects('01.2.3.4');
  rejects('256.1.1.1');
  rejects('example.123');
});

test('IPv6 literals are kept in brackets in RFC 5952 form', () => {
  assert.equal(domain('[::1]'), '[::1]');
  assert.equal(domain('[2001:DB8:0:0:0:0:0:1]'), '[2001:db8::1]');
  assert.equal(parseJid('juliet@[2001:db8::1]/r').resource, 'r');
  assert.ok(parseJid('[2001:0db8::0001]').equals(parseJid('[2001:db8::1]')));
  rejects('[::1');
  rejects('[::1]:5222');
  rejects('[1:2:3]');
  rejects('[fe80::1%eth0]');
  rejects('[v1.fe]');
  rejects('[]');
  rejects('2001:db8::1');
});

test('ASCII outside letters, digits and hyphens is rejected', () => {
  for (const s of ['exa mple.com', 'a_b.com', 'a*b.com', 'a!b.com', "a'b.com", 'a,b.com', 'a\tb.com', 'a?b', 'a#b', 'a\\b', 'a/b']) rejects(s);
  rejects('-a.com');
  rejects('a-.com');
  assert.equal(domain('a-b.example'), 'a-b.example');
  assert.equal(domain('localhost'), 'localhost');
  assert.equal(domain('123.example'), '123.example');
});

test('invalid IDNs are rejected', () => {
  rejects('xn--abc.com'); // not valid Punycode
  rejects('\u0301x.com'); // label starts with a combining mark
  rejects('a\u200Db.com'); // ZWJ without a virama
  rejects('a\u0000b.com');
  rejects('a＠b.com'); // maps to @
});

test('labels are at most 63 octets as A-labels, the whole at most 1023 octets', () => {
  const label = 'a'.repeat(63);
  assert.equal(domain(`${label}.com`), `${label}.com`);
  rejects(`${'a'.repeat(64)}.com`, 'too-long');
  rejects(`${'ü'.repeat(60)}.de`, 'too-long'); // 60 code points, but a longer A-label
  const longest = Array.from({ length: 16 }, () => label).join('.'); // 16 × 63 + 15 = 1023
  assert.equal(normalizeDomainpart(longest), longest);
  assert.equal(normalizeDomainpart(`${longest}.`), longest); // the stripped dot does not count
  rejects(`b.${longest}`, 'too-long');
});

test('empty is rejected', () => {
  rejects('', 'empty');
});
