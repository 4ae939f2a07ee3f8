// ServerMechanism.authcid: the authentication identity the client gave, for logging failed
// logins (issue #14 item 4); never the password or proof, and reading it changes nothing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createMechanism, deriveCredentials } from '@parley/sasl';
import { memoryBackend } from './backend.js';
import { clientFinal } from './scram-client.js';
import { challenge, failure, success } from './steps.js';

const creds = await deriveCredentials('pencil', { iterations: 4096 });

test('PLAIN: the authcid is known after the message, on success and on failure, without the password', async () => {
  const ok = createMechanism('PLAIN', memoryBackend({ user: creds }))!;
  assert.equal(ok.authcid, undefined);
  success(await ok.start(Buffer.from('\0user\0pencil')));
  assert.equal(ok.authcid, 'user');

  const wrong = createMechanism('PLAIN', memoryBackend({ user: creds }))!;
  failure(await wrong.start(Buffer.from('\0User\0secret-password')), 'not-authorized');
  assert.equal(wrong.authcid, 'User', 'as sent, not normalised');
  assert.ok(!JSON.stringify({ a: wrong.authcid }).includes('secret-password'));

  // Refused before the backend is asked (empty password, foreign authzid): still known.
  const empty = createMechanism('PLAIN', memoryBackend({}))!;
  failure(await empty.start(Buffer.from('\0mallory\0')), 'not-authorized');
  assert.equal(empty.authcid, 'mallory');
  const authzid = createMechanism('PLAIN', memoryBackend({ user: creds }))!;
  failure(await authzid.start(Buffer.from('admin@example.com\0user\0pencil')), 'invalid-authzid');
  assert.equal(authzid.authcid, 'user');

  // A message without the three fields names nobody.
  const malformed = createMechanism('PLAIN', memoryBackend({}))!;
  failure(await malformed.start(Buffer.from('user-and-pencil')), 'malformed-request');
  assert.equal(malformed.authcid, undefined);
});

test('SCRAM: the authcid is the decoded n= username, known from the client-first message on', async () => {
  const clientFirst = 'n,,n=us=2Cer=3D,r=clientnonce';
  const mech = createMechanism('SCRAM-SHA-256', memoryBackend({ 'us,er=': creds }))!;
  assert.equal(mech.authcid, undefined);
  const serverFirst = challenge(await mech.start(Buffer.from(clientFirst)));
  assert.equal(mech.authcid, 'us,er=');
  const final = clientFinal('sha256', 'wrong', clientFirst, serverFirst).message;
  failure(await mech.step(Buffer.from(final)), 'not-authorized');
  assert.equal(mech.authcid, 'us,er=');
  assert.ok(!final.includes(mech.authcid!), 'the proof is not in the authcid');

  // An unknown user gets the same exchange, and its name is reported the same way.
  const unknown = createMechanism('SCRAM-SHA-1', memoryBackend({}))!;
  challenge(await unknown.start(Buffer.from('n,,n=nobody,r=cn')));
  assert.equal(unknown.authcid, 'nobody');

  // A client-first message that does not parse names nobody.
  const bad = createMechanism('SCRAM-SHA-256', memoryBackend({}))!;
  failure(await bad.start(Buffer.from('x,,n=user,r=cn')), 'malformed-request');
  assert.equal(bad.authcid, undefined);
});

test('SCRAM: a successful exchange reports the same name as its success step', async () => {
  const clientFirst = 'n,,n=user,r=abc';
  const mech = createMechanism('SCRAM-SHA-1', memoryBackend({ user: creds }))!;
  const serverFirst = challenge(await mech.start(Buffer.from(clientFirst)));
  const done = success(await mech.step(Buffer.from(clientFinal('sha1', 'pencil', clientFirst, serverFirst).message)));
  assert.equal(mech.authcid, done.username);
});
