// verifyPassword: how PLAIN is checked against stored SCRAM credentials.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deriveCredentials, SaslError, verifyPassword } from '@parley/sasl';

const creds = await deriveCredentials('correct horse', { iterations: 1000 });

test('true for the password, false for anything else', async () => {
  assert.equal(await verifyPassword(creds, 'correct horse'), true);
  for (const wrong of ['Correct horse', 'correct horse ', 'correct', '', 'bell\u0007']) {
    assert.equal(await verifyPassword(creds, wrong), false, JSON.stringify(wrong));
  }
});

test('it checks the SCRAM-SHA-256 credential', async () => {
  const other = await deriveCredentials('battery staple', { iterations: 1000 });
  const mixed = { 'SCRAM-SHA-1': creds['SCRAM-SHA-1'], 'SCRAM-SHA-256': other['SCRAM-SHA-256'] };
  assert.equal(await verifyPassword(mixed, 'battery staple'), true);
  assert.equal(await verifyPassword(mixed, 'correct horse'), false);
});

test('a malformed stored credential is an error, not a wrong password', async () => {
  const sha256 = creds['SCRAM-SHA-256'];
  for (const bad of [
    { ...sha256, storedKey: sha256.storedKey.slice(4) },
    { ...sha256, storedKey: 'not base64!' },
    { ...sha256, salt: '' },
    { ...sha256, iterations: 0 },
  ]) {
    await assert.rejects(
      verifyPassword({ ...creds, 'SCRAM-SHA-256': bad }, 'correct horse'),
      (e: unknown) => e instanceof SaslError && e.code === 'invalid-credential',
    );
  }
});
