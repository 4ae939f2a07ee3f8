// The life cycle every mechanism shares: start once, one message at a time, over at the
// first success or failure; abort; backend errors.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createMechanism, deriveCredentials, SaslError, SUPPORTED_MECHANISMS, type SaslBackend, type StoredCredentials } from '@parley/sasl';
import { memoryBackend } from './backend.js';
import { challenge, failure } from './steps.js';

const creds = await deriveCredentials('pencil', { iterations: 1000 });

test('step() before start() fails', async () => {
  for (const name of SUPPORTED_MECHANISMS) {
    const mech = createMechanism(name, memoryBackend({ user: creds }))!;
    failure(await mech.step(Buffer.from('\0user\0pencil')), 'malformed-request');
  }
});

test('start() twice fails, and the exchange is over', async () => {
  const mech = createMechanism('PLAIN', memoryBackend({ user: creds }))!;
  challenge(await mech.start(undefined));
  failure(await mech.start(undefined), 'malformed-request');
  failure(await mech.step(Buffer.from('\0user\0pencil')), 'malformed-request');
});

test('after a failure every further call fails', async () => {
  const mech = createMechanism('SCRAM-SHA-256', memoryBackend({ user: creds }))!;
  failure(await mech.start(Buffer.from('garbage')), 'malformed-request');
  failure(await mech.step(Buffer.from('n,,n=user,r=abc')), 'malformed-request');
});

test('abort() fails the exchange with aborted', async () => {
  for (const name of SUPPORTED_MECHANISMS) {
    const mech = createMechanism(name, memoryBackend({ user: creds }))!;
    challenge(await mech.start(undefined));
    assert.deepEqual(mech.abort(), { kind: 'failure', condition: 'aborted' });
    failure(await mech.step(Buffer.from('\0user\0pencil')), 'malformed-request');
  }
});

test('an abort while the backend is being asked wins over its answer', async () => {
  let release: (creds: StoredCredentials) => void = () => {};
  const backend: SaslBackend = {
    getCredentials: () => new Promise((resolve) => (release = resolve)),
    checkPlain: async () => true,
  };
  const mech = createMechanism('SCRAM-SHA-1', backend)!;
  const pending = mech.start(Buffer.from('n,,n=user,r=abc'));
  failure(mech.abort(), 'aborted');
  release(creds);
  failure(await pending, 'aborted');
});

test('a second call while one is in progress fails, and so does the first', async () => {
  let release: (ok: boolean) => void = () => {};
  const backend: SaslBackend = {
    getCredentials: async () => undefined,
    checkPlain: () => new Promise((resolve) => (release = resolve)),
  };
  const mech = createMechanism('PLAIN', backend)!;
  challenge(await mech.start(undefined));
  const first = mech.step(Buffer.from('\0user\0pencil'));
  failure(await mech.step(Buffer.from('\0user\0pencil')), 'malformed-request');
  release(true);
  failure(await first, 'aborted');
});

test('a backend error rejects the call and ends the exchange', async () => {
  const boom = new Error('redis down');
  const backend: SaslBackend = {
    getCredentials: async () => {
      throw boom;
    },
    checkPlain: async () => {
      throw boom;
    },
  };
  for (const [name, initial] of [['PLAIN', '\0user\0pencil'], ['SCRAM-SHA-256', 'n,,n=user,r=abc']] as const) {
    const mech = createMechanism(name, backend)!;
    await assert.rejects(mech.start(Buffer.from(initial)), boom);
    failure(await mech.step(Buffer.from(initial)), 'malformed-request');
  }
});

test('a malformed stored credential rejects with SaslError invalid-credential', async () => {
  const broken = { ...creds, 'SCRAM-SHA-256': { ...creds['SCRAM-SHA-256'], serverKey: 'AAAA' } };
  const mech = createMechanism('SCRAM-SHA-256', memoryBackend({ user: broken }))!;
  await assert.rejects(mech.start(Buffer.from('n,,n=user,r=abc')), (e: unknown) => e instanceof SaslError && e.code === 'invalid-credential');
  // The SHA-1 credential is intact, so SCRAM-SHA-1 still works up to the final step.
  const sha1 = createMechanism('SCRAM-SHA-1', memoryBackend({ user: broken }))!;
  assert.match(challenge(await sha1.start(Buffer.from('n,,n=user,r=abc'))), /^r=abc/);
});
