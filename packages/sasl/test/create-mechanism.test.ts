// createMechanism and SUPPORTED_MECHANISMS.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createMechanism, SaslError, SUPPORTED_MECHANISMS } from '@parley/sasl';
import { memoryBackend } from './backend.js';

test('the supported mechanisms, strongest first', () => {
  assert.deepEqual([...SUPPORTED_MECHANISMS], ['SCRAM-SHA-256', 'SCRAM-SHA-1', 'PLAIN']);
});

test('each supported name makes a mechanism of that name', () => {
  for (const name of SUPPORTED_MECHANISMS) assert.equal(createMechanism(name, memoryBackend({}))?.name, name);
});

test('other names, including -PLUS variants and other cases, make none', () => {
  for (const name of ['', 'DIGEST-MD5', 'SCRAM-SHA-256-PLUS', 'SCRAM-SHA-1-PLUS', 'scram-sha-256', 'plain', 'ANONYMOUS', 'EXTERNAL']) {
    assert.equal(createMechanism(name, memoryBackend({})), undefined, name);
  }
});

test('a nonce option that cannot be a SCRAM nonce is refused', async () => {
  for (const nonce of ['', 'a,b', 'nönce', 'a b']) {
    const mech = createMechanism('SCRAM-SHA-1', memoryBackend({}), { nonce: () => nonce })!;
    await assert.rejects(mech.start(Buffer.from('n,,n=u,r=c')), (e: unknown) => e instanceof SaslError && e.code === 'invalid-options');
  }
});

test('a decoyIterations option that is not an iteration count is refused', async () => {
  const mech = createMechanism('SCRAM-SHA-256', memoryBackend({}), { decoyIterations: 0 })!;
  await assert.rejects(mech.start(Buffer.from('n,,n=nobody,r=c')), (e: unknown) => e instanceof SaslError && e.code === 'invalid-options');
});
