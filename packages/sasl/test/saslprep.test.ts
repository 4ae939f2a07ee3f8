// SASLprep (RFC 4013) of passwords, as RFC 5802 §2.2 Normalize() requires.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createMechanism, deriveCredentials, verifyPassword } from '@parley/sasl';
import { memoryBackend } from './backend.js';
import { clientFinal } from './scram-client.js';
import { challenge, success } from './steps.js';

test('a soft hyphen (U+00AD) is mapped to nothing', async () => {
  const creds = await deriveCredentials('pencil', { iterations: 1000 });
  assert.equal(await verifyPassword(creds, 'pen\u00ADcil'), true);
  const hyphenated = await deriveCredentials('pen\u00ADcil', { iterations: 1000 });
  assert.equal(await verifyPassword(hyphenated, 'pencil'), true);
});

test('non-ASCII spaces are mapped to U+0020', async () => {
  const creds = await deriveCredentials('correct horse', { iterations: 1000 });
  assert.equal(await verifyPassword(creds, 'correct\u00A0horse'), true);
  assert.equal(await verifyPassword(creds, 'correct\u2003horse'), true);
  assert.equal(await verifyPassword(creds, 'correcthorse'), false);
});

test('compatibility characters are normalised with NFKC', async () => {
  const creds = await deriveCredentials('\u2168', { iterations: 1000 }); // ROMAN NUMERAL NINE
  assert.equal(await verifyPassword(creds, 'IX'), true);
});

test('SCRAM: a client that prepared its password matches credentials derived from the unprepared one', async () => {
  const creds = await deriveCredentials('pen\u00ADcil\u00A0box');
  const mech = createMechanism('SCRAM-SHA-256', memoryBackend({ user: creds }))!;
  const clientFirst = 'n,,n=user,r=abc';
  const serverFirst = challenge(await mech.start(Buffer.from(clientFirst)));
  const final = clientFinal('sha256', 'pencil box', clientFirst, serverFirst);
  assert.equal(success(await mech.step(Buffer.from(final.message))).data?.toString(), final.expectedServerFinal);
});

test('PLAIN: the password is prepared before it is checked', async () => {
  const mech = createMechanism('PLAIN', memoryBackend({ user: await deriveCredentials('pencil') }))!;
  assert.equal(success(await mech.start(Buffer.from('\0user\0pen\u00ADcil'))).username, 'user');
});
