// deriveCredentials: salted, hashed SCRAM credentials (RFC 5802 §3), never the password.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_ITERATIONS, deriveCredentials, SaslError } from '@parley/sasl';

const b64 = (s: string): Buffer => {
  assert.match(s, /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/);
  return Buffer.from(s, 'base64');
};

test('one credential per hash, with the expected lengths and 4096 iterations by default', async () => {
  const creds = await deriveCredentials('pencil');
  assert.equal(DEFAULT_ITERATIONS, 4096);
  assert.deepEqual(Object.keys(creds).sort(), ['SCRAM-SHA-1', 'SCRAM-SHA-256']);
  for (const [name, len] of [['SCRAM-SHA-1', 20], ['SCRAM-SHA-256', 32]] as const) {
    const c = creds[name];
    assert.deepEqual(Object.keys(c).sort(), ['iterations', 'salt', 'serverKey', 'storedKey']);
    assert.equal(c.iterations, 4096);
    assert.equal(b64(c.salt).length, 16);
    assert.equal(b64(c.storedKey).length, len);
    assert.equal(b64(c.serverKey).length, len);
  }
  assert.ok(!JSON.stringify(creds).includes('pencil'));
});

test('every hash and every call gets its own random salt', async () => {
  const a = await deriveCredentials('pencil');
  const b = await deriveCredentials('pencil');
  const salts = new Set([a['SCRAM-SHA-1'].salt, a['SCRAM-SHA-256'].salt, b['SCRAM-SHA-1'].salt, b['SCRAM-SHA-256'].salt]);
  assert.equal(salts.size, 4);
  assert.notEqual(a['SCRAM-SHA-256'].storedKey, b['SCRAM-SHA-256'].storedKey);
});

test('a given salt and iteration count make the result deterministic', async () => {
  const opts = { salt: Buffer.from('fixed salt'), iterations: 1000 };
  const a = await deriveCredentials('pencil', opts);
  assert.deepEqual(await deriveCredentials('pencil', opts), a);
  assert.equal(a['SCRAM-SHA-1'].salt, Buffer.from('fixed salt').toString('base64'));
  assert.equal(a['SCRAM-SHA-256'].iterations, 1000);
  assert.notDeepEqual(await deriveCredentials('pencil2', opts), a);
});

test('bad options are refused with SaslError invalid-options', async () => {
  for (const opts of [{ iterations: 0 }, { iterations: -1 }, { iterations: 1.5 }, { iterations: Number.NaN }, { iterations: 2 ** 31 }, { salt: Buffer.alloc(0) }]) {
    await assert.rejects(deriveCredentials('pencil', opts), (e: unknown) => e instanceof SaslError && e.code === 'invalid-options');
  }
});

test('passwords SASLprep rejects or empties are refused with SaslError password-unusable', async () => {
  for (const password of ['', '\u00AD', 'bell\u0007', 'a\uE000', '\u0627\u0031']) {
    await assert.rejects(deriveCredentials(password), (e: unknown) => e instanceof SaslError && e.code === 'password-unusable');
  }
});

test('PBKDF2 runs off the event loop', async () => {
  let turns = 0;
  let done = false;
  const spin = (): void => {
    turns++;
    if (!done) setImmediate(spin);
  };
  setImmediate(spin);
  await deriveCredentials('pencil', { iterations: 200_000 });
  done = true;
  assert.ok(turns > 1, `event loop turned ${turns} times`);
});
