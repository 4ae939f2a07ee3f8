import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ScramClient } from '../src/index.js';

test('SCRAM-SHA-1 matches the RFC 5802 §5 example', async () => {
  const c = new ScramClient('SCRAM-SHA-1', 'user', 'pencil', 'fyko+d2lbbFgONRv9qkxdawL');
  assert.equal(c.first(), 'n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL');
  const final = await c.final('r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096');
  assert.equal(final, 'c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=');
  assert.equal(c.verify('v=rmF9pqV8S7suAoZWja4dJRkFsKQ='), true);
  assert.equal(c.verify('v=AAAAAAAAAAAAAAAAAAAAAAAAAAA='), false);
});

test('SCRAM-SHA-256 matches the RFC 7677 §3 example', async () => {
  const c = new ScramClient('SCRAM-SHA-256', 'user', 'pencil', 'rOprNGfwEbeRWgbNEkqO');
  assert.equal(c.first(), 'n,,n=user,r=rOprNGfwEbeRWgbNEkqO');
  const final = await c.final('r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096');
  assert.equal(final, 'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=');
  assert.equal(c.verify('v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4='), true);
});

test('a server nonce that does not extend the client nonce is refused', async () => {
  const c = new ScramClient('SCRAM-SHA-256', 'user', 'pencil', 'abc');
  await assert.rejects(c.final('r=xyz123,s=QSXCR+Q6sek8bf92,i=4096'), /nonce/);
  await assert.rejects(c.final('r=abc,s=QSXCR+Q6sek8bf92,i=4096'), /nonce/);
  await assert.rejects(c.final('r=abcdef,i=4096'), /server-first/);
});

test('usernames are escaped per RFC 5802 §5.1', async () => {
  assert.equal(new ScramClient('SCRAM-SHA-1', 'a=b,c', 'x', 'n').first(), 'n,,n=a=3Db=2Cc,r=n');
});

test('usernames and passwords go through SASLprep (RFC 4013): a soft hyphen is dropped', async () => {
  assert.equal(new ScramClient('SCRAM-SHA-1', 'us\u00ADer', 'x', 'n').first(), 'n,,n=user,r=n');
  const plain = new ScramClient('SCRAM-SHA-1', 'user', 'pencil', 'fyko+d2lbbFgONRv9qkxdawL');
  const hyphen = new ScramClient('SCRAM-SHA-1', 'user', 'pen\u00ADcil', 'fyko+d2lbbFgONRv9qkxdawL');
  const serverFirst = 'r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096';
  assert.equal(await hyphen.final(serverFirst), await plain.final(serverFirst));
});

test('verify is false before final and for a message without v=', () => {
  const c = new ScramClient('SCRAM-SHA-256', 'user', 'pencil', 'abc');
  assert.equal(c.verify('v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4='), false);
  assert.equal(c.verify('e=invalid-proof'), false);
});
