// Successful SCRAM exchanges (RFC 5802 §5, RFC 7677) driven by an independent client.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createMechanism, deriveCredentials, type StoredCredentials } from '@parley/sasl';
import { memoryBackend } from './backend.js';
import { clientFinal, saslname, type Hash } from './scram-client.js';
import { challenge, success } from './steps.js';

const MECHANISMS: Array<[string, Hash]> = [
  ['SCRAM-SHA-256', 'sha256'],
  ['SCRAM-SHA-1', 'sha1'],
];

async function exchange(
  name: string,
  hash: Hash,
  accounts: Record<string, StoredCredentials>,
  clientFirst: string,
  password: string,
  opts: { initial?: boolean; finalExtensions?: string } = {},
) {
  const backend = memoryBackend(accounts);
  const mech = createMechanism(name, backend);
  assert.ok(mech);
  let serverFirst: string;
  if (opts.initial === false) {
    assert.equal(challenge(await mech.start(undefined)), '');
    serverFirst = challenge(await mech.step(Buffer.from(clientFirst)));
  } else {
    serverFirst = challenge(await mech.start(Buffer.from(clientFirst)));
  }
  const final = clientFinal(hash, password, clientFirst, serverFirst, { extensions: opts.finalExtensions });
  const done = success(await mech.step(Buffer.from(final.message)));
  assert.equal(done.data?.toString(), final.expectedServerFinal);
  return { done, serverFirst, backend };
}

test('a full exchange succeeds and the server proves itself with v=', async () => {
  const creds = await deriveCredentials('correct horse');
  for (const [name, hash] of MECHANISMS) {
    const { done, serverFirst, backend } = await exchange(name, hash, { juliet: creds }, 'n,,n=juliet,r=abcdefgh', 'correct horse');
    assert.equal(done.username, 'juliet');
    assert.equal(done.authzid, undefined);
    assert.deepEqual(backend.lookups, ['juliet']);
    const salt = creds[name as keyof StoredCredentials].salt;
    assert.match(serverFirst, new RegExp(`^r=abcdefgh[!-+\\--~]{8,},s=${salt.replace(/[+/]/g, '\\$&')},i=4096$`));
  }
});

test('without an initial response the server sends an empty challenge first', async () => {
  const creds = await deriveCredentials('pw');
  for (const [name, hash] of MECHANISMS) {
    const { done } = await exchange(name, hash, { romeo: creds }, 'n,,n=romeo,r=xyz', 'pw', { initial: false });
    assert.equal(done.username, 'romeo');
  }
});

test('each exchange gets a fresh server nonce that extends the client nonce', async () => {
  const backend = memoryBackend({ u: await deriveCredentials('pw') });
  const nonces = new Set<string>();
  for (let i = 0; i < 3; i++) {
    const mech = createMechanism('SCRAM-SHA-256', backend)!;
    const serverFirst = challenge(await mech.start(Buffer.from('n,,n=u,r=same')));
    const nonce = serverFirst.split(',')[0]!.slice(2);
    assert.ok(nonce.startsWith('same') && nonce.length > 'same'.length + 16);
    nonces.add(nonce);
  }
  assert.equal(nonces.size, 3);
});

test('the "y" flag (client supports channel binding, thinks the server does not) is accepted', async () => {
  const creds = await deriveCredentials('pw');
  const { done } = await exchange('SCRAM-SHA-256', 'sha256', { u: creds }, 'y,,n=u,r=nonce', 'pw');
  assert.equal(done.username, 'u');
});

test('an authzid equal to the user\'s own bare JID is accepted and returned', async () => {
  const creds = await deriveCredentials('pw');
  const { done } = await exchange('SCRAM-SHA-1', 'sha1', { juliet: creds }, 'n,a=juliet@example.com,n=juliet,r=n0nce', 'pw');
  assert.equal(done.authzid, 'juliet@example.com');
});

test('=2C and =3D in the username are decoded; the raw username is returned and looked up', async () => {
  const creds = await deriveCredentials('pw');
  const { done, backend } = await exchange('SCRAM-SHA-256', 'sha256', { 'A,b=c': creds }, `n,,n=${saslname('A,b=c')},r=n`, 'pw');
  assert.equal(saslname('A,b=c'), 'A=2Cb=3Dc');
  assert.equal(done.username, 'A,b=c');
  assert.deepEqual(backend.lookups, ['A,b=c']);
});

test('non-ASCII usernames and passwords work', async () => {
  const creds = await deriveCredentials('pässwörd €');
  const { done } = await exchange('SCRAM-SHA-256', 'sha256', { jürgen: creds }, 'n,,n=jürgen,r=n', 'pässwörd €');
  assert.equal(done.username, 'jürgen');
});

test('unknown extension attributes are ignored (RFC 5802 §7)', async () => {
  const creds = await deriveCredentials('pw');
  const { done } = await exchange('SCRAM-SHA-256', 'sha256', { u: creds }, 'n,,n=u,r=n,x=first,y=more', 'pw', {
    finalExtensions: ',z=final',
  });
  assert.equal(done.username, 'u');
});
