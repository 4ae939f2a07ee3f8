// PLAIN (RFC 4616): authzid NUL authcid NUL passwd.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createMechanism, deriveCredentials, type ServerMechanism } from '@parley/sasl';
import { memoryBackend, type MemoryBackend } from './backend.js';
import { challenge, failure, success } from './steps.js';

const creds = await deriveCredentials('pencil');

function setup(): { mech: ServerMechanism; backend: MemoryBackend } {
  const backend = memoryBackend({ user: creds });
  const mech = createMechanism('PLAIN', backend);
  assert.ok(mech);
  assert.equal(mech.name, 'PLAIN');
  return { mech, backend };
}

test('the right password succeeds; the username is returned as sent', async () => {
  const { mech, backend } = setup();
  const done = success(await mech.start(Buffer.from('\0user\0pencil')));
  assert.equal(done.username, 'user');
  assert.equal(done.authzid, undefined);
  assert.equal(done.data, undefined);
  assert.deepEqual(backend.plainChecks, [['user', 'pencil']]);
});

test('without an initial response the server sends an empty challenge first', async () => {
  const { mech } = setup();
  assert.equal(challenge(await mech.start(undefined)), '');
  assert.equal(success(await mech.step(Buffer.from('\0user\0pencil'))).username, 'user');
});

test('an authzid equal to the user\'s own bare JID is accepted and returned', async () => {
  const { mech } = setup();
  assert.equal(success(await mech.start(Buffer.from('user@example.com\0user\0pencil'))).authzid, 'user@example.com');
});

test('a wrong password and an unknown user both fail with not-authorized', async () => {
  for (const message of ['\0user\0Pencil', '\0user\0pencil ', '\0nobody\0pencil', '\0User\0pencil']) {
    const { mech, backend } = setup();
    assert.deepEqual(await mech.start(Buffer.from(message)), { kind: 'failure', condition: 'not-authorized' });
    assert.equal(backend.plainChecks.length, 1);
  }
});

test('an empty password fails with not-authorized without asking the backend', async () => {
  const { mech, backend } = setup();
  failure(await mech.start(Buffer.from('\0user\0')), 'not-authorized');
  assert.deepEqual(backend.plainChecks, []);
});

test('a message without exactly two NULs, or with an empty authcid, is malformed', async () => {
  for (const message of ['userpencil', 'user\0pencil', '\0user\0pen\0cil', '\0\0pencil', '\0\0', '\0', '']) {
    const { mech, backend } = setup();
    failure(await mech.start(Buffer.from(message)), 'malformed-request');
    assert.deepEqual(backend.plainChecks, [], JSON.stringify(message));
  }
});

test('an authzid other than the user\'s own bare JID fails with invalid-authzid', async () => {
  for (const authzid of ['romeo@example.com', 'user', 'user@example.com/res']) {
    const { mech, backend } = setup();
    failure(await mech.start(Buffer.from(`${authzid}\0user\0pencil`)), 'invalid-authzid');
    assert.deepEqual(backend.plainChecks, []);
  }
});

test('a message that is not UTF-8 is malformed', async () => {
  const { mech } = setup();
  failure(await mech.start(Buffer.from([0x00, 0x75, 0x00, 0xc3, 0x28])), 'malformed-request');
});

test('the exchange ends after one message', async () => {
  const { mech } = setup();
  success(await mech.start(Buffer.from('\0user\0pencil')));
  failure(await mech.step(Buffer.from('\0user\0pencil')), 'malformed-request');
});
