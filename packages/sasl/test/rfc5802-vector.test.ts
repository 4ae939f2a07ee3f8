// RFC 5802 §5: the SCRAM-SHA-1 example exchange, byte for byte.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createMechanism, deriveCredentials } from '@parley/sasl';
import { memoryBackend } from './backend.js';
import { challenge, success } from './steps.js';

test('RFC 5802 §5 example: user "user", password "pencil"', async () => {
  const creds = await deriveCredentials('pencil', { salt: Buffer.from('QSXCR+Q6sek8bf92', 'base64'), iterations: 4096 });
  assert.equal(creds['SCRAM-SHA-1'].salt, 'QSXCR+Q6sek8bf92');
  assert.equal(creds['SCRAM-SHA-1'].iterations, 4096);
  const mech = createMechanism('SCRAM-SHA-1', memoryBackend({ user: creds }), { nonce: () => '3rfcNHYJY1ZVvWVs7j' });
  assert.ok(mech);
  assert.equal(mech.name, 'SCRAM-SHA-1');

  const first = await mech.start(Buffer.from('n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL'));
  assert.equal(challenge(first), 'r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096');

  const final = await mech.step(
    Buffer.from('c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts='),
  );
  const done = success(final);
  assert.equal(done.data?.toString(), 'v=rmF9pqV8S7suAoZWja4dJRkFsKQ=');
  assert.equal(done.username, 'user');
  assert.equal(done.authzid, undefined);
});
