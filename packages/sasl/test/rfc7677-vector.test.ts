// RFC 7677 §3: the SCRAM-SHA-256 example exchange, byte for byte.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createMechanism, deriveCredentials } from '@parley/sasl';
import { memoryBackend } from './backend.js';
import { challenge, success } from './steps.js';

test('RFC 7677 §3 example: user "user", password "pencil"', async () => {
  const creds = await deriveCredentials('pencil', { salt: Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64'), iterations: 4096 });
  const mech = createMechanism('SCRAM-SHA-256', memoryBackend({ user: creds }), {
    nonce: () => '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0',
  });
  assert.ok(mech);
  assert.equal(mech.name, 'SCRAM-SHA-256');

  const first = await mech.start(Buffer.from('n,,n=user,r=rOprNGfwEbeRWgbNEkqO'));
  assert.equal(
    challenge(first),
    'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
  );

  const final = await mech.step(
    Buffer.from(
      'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
    ),
  );
  const done = success(final);
  assert.equal(done.data?.toString(), 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=');
  assert.equal(done.username, 'user');
});
