// SCRAM exchanges that must fail, and with which RFC 6120 §6.5 condition.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createMechanism, deriveCredentials, type ServerMechanism } from '@parley/sasl';
import { memoryBackend, type MemoryBackend } from './backend.js';
import { clientFinal } from './scram-client.js';
import { challenge, failure } from './steps.js';

const creds = await deriveCredentials('pencil', { iterations: 4096 });
const CLIENT_FIRST = 'n,,n=user,r=clientnonce';

function setup(name = 'SCRAM-SHA-256'): { mech: ServerMechanism; backend: MemoryBackend } {
  const backend = memoryBackend({ user: creds });
  const mech = createMechanism(name, backend);
  assert.ok(mech);
  return { mech, backend };
}

async function atFinal(): Promise<{ mech: ServerMechanism; serverFirst: string }> {
  const { mech } = setup();
  const serverFirst = challenge(await mech.start(Buffer.from(CLIENT_FIRST)));
  return { mech, serverFirst };
}

test('a wrong password fails with not-authorized and no text', async () => {
  for (const [name, hash] of [['SCRAM-SHA-256', 'sha256'], ['SCRAM-SHA-1', 'sha1']] as const) {
    const { mech } = setup(name);
    const serverFirst = challenge(await mech.start(Buffer.from(CLIENT_FIRST)));
    const step = await mech.step(Buffer.from(clientFinal(hash, 'pencil!', CLIENT_FIRST, serverFirst).message));
    assert.deepEqual(step, { kind: 'failure', condition: 'not-authorized' });
  }
});

test('an unknown user gets a plausible exchange and the same failure as a wrong password', async () => {
  const backend = memoryBackend({});
  const salts: string[] = [];
  for (let i = 0; i < 2; i++) {
    const mech = createMechanism('SCRAM-SHA-256', backend)!;
    const serverFirst = challenge(await mech.start(Buffer.from('n,,n=nobody,r=cn')));
    const m = /^r=cn[!-+\--~]+,s=([A-Za-z0-9+/]+=*),i=4096$/.exec(serverFirst);
    assert.ok(m, serverFirst);
    assert.equal(Buffer.from(m[1]!, 'base64').length, 16);
    salts.push(m[1]!);
    const step = await mech.step(Buffer.from(clientFinal('sha256', 'guess', 'n,,n=nobody,r=cn', serverFirst).message));
    assert.deepEqual(step, { kind: 'failure', condition: 'not-authorized' });
  }
  assert.equal(salts[0], salts[1]); // stable, as a real account's salt is
  const other = challenge(await createMechanism('SCRAM-SHA-256', backend)!.start(Buffer.from('n,,n=somebody,r=cn')));
  assert.ok(!other.includes(`s=${salts[0]},`));
  assert.deepEqual(backend.lookups, ['nobody', 'nobody', 'somebody']);
});

test('decoy salts follow decoySecret and decoyIterations', async () => {
  const opts = { decoySecret: Buffer.from('shared secret'), decoyIterations: 10000 };
  const a = challenge(await createMechanism('SCRAM-SHA-1', memoryBackend({}), opts)!.start(Buffer.from('n,,n=x,r=c')));
  const b = challenge(await createMechanism('SCRAM-SHA-1', memoryBackend({}), opts)!.start(Buffer.from('n,,n=x,r=c')));
  assert.equal(a.replace(/^r=[^,]*/, ''), b.replace(/^r=[^,]*/, ''));
  assert.match(a, /,i=10000$/);
});

test('a nonce other than the one the server sent fails with not-authorized', async () => {
  for (const tamper of [(n: string) => `${n}x`, (n: string) => n.slice(0, -1), (n: string) => `X${n.slice(1)}`, () => 'clientnonce']) {
    const { mech, serverFirst } = await atFinal();
    const nonce = serverFirst.split(',')[0]!.slice(2);
    const final = clientFinal('sha256', 'pencil', CLIENT_FIRST, serverFirst, { nonce: tamper(nonce) });
    assert.equal(failure(await mech.step(Buffer.from(final.message)), 'not-authorized').text, 'nonce does not match');
  }
});

test('channel binding data that is not the GS2 header fails with not-authorized', async () => {
  for (const cb of ['eSws', Buffer.from('n,a=user@example.com,').toString('base64'), Buffer.from('n,').toString('base64')]) {
    const { mech, serverFirst } = await atFinal();
    const final = clientFinal('sha256', 'pencil', CLIENT_FIRST, serverFirst, { channelBinding: cb });
    const step = failure(await mech.step(Buffer.from(final.message)), 'not-authorized');
    assert.equal(step.text, 'channel binding data does not match');
  }
});

test('a request for channel binding (p=) fails: it is not supported', async () => {
  const { mech, backend } = setup();
  const step = failure(await mech.start(Buffer.from('p=tls-unique,,n=user,r=abc')), 'malformed-request');
  assert.match(step.text ?? '', /channel binding/);
  assert.deepEqual(backend.lookups, []);
});

test('mandatory extensions (m=) fail', async () => {
  const { mech } = setup();
  failure(await mech.start(Buffer.from('n,,m=ext,n=user,r=abc')), 'malformed-request');
  const { mech: mech2, serverFirst } = await atFinal();
  const final = clientFinal('sha256', 'pencil', CLIENT_FIRST, serverFirst, { extensions: ',m=x' });
  failure(await mech2.step(Buffer.from(final.message)), 'malformed-request');
});

test('malformed client-first messages fail with malformed-request before any lookup', async () => {
  for (const message of [
    'n',
    'n,',
    'x,,n=user,r=abc',
    'n,,',
    'n,,n=user',
    'n,,n=user,r=',
    'n,,r=abc,n=user',
    'n,,n=,r=abc',
    'n,,n=us=er,r=abc',
    'n,,n=us=2cer,r=abc',
    'n,,n=us\0er,r=abc',
    'n,,n=user,r=abc,',
    'n,,n=user,r=abc,junk',
    'n,,n=user,r=abc,n=again',
    'n,,n=user,r=abc,r=again',
    'n,,n=user,r=nönce',
    'n,b=x,n=user,r=abc',
    'n,a=,n=user,r=abc',
    'n,a=b=,n=user,r=abc',
    ' n,,n=user,r=abc',
  ]) {
    const { mech, backend } = setup();
    failure(await mech.start(Buffer.from(message)), 'malformed-request');
    assert.deepEqual(backend.lookups, [], message);
  }
});

test('malformed client-final messages fail with malformed-request', async () => {
  for (const make of [
    () => '',
    () => 'c=biws',
    (n: string) => `c=biws,r=${n}`,
    (n: string) => `r=${n},c=biws,p=AAAA`,
    (n: string) => `c=biws,r=${n},p=`,
    (n: string) => `c=biws,r=${n},p=!!!!`,
    (n: string) => `c=biws,r=${n},p=${Buffer.alloc(5).toString('base64')}`,
    (n: string) => `c=biws,r=${n},p=${Buffer.alloc(20).toString('base64')}`, // SHA-1 length for SHA-256
    (n: string) => `c=biws,r=${n},s=x,p=${Buffer.alloc(32).toString('base64')}`,
    (n: string) => `c=bi*s,r=${n},p=${Buffer.alloc(32).toString('base64')}`,
    (n: string) => `c=,r=${n},p=${Buffer.alloc(32).toString('base64')}`,
  ]) {
    const { mech, serverFirst } = await atFinal();
    const message = make(serverFirst.split(',')[0]!.slice(2));
    failure(await mech.step(Buffer.from(message)), 'malformed-request');
  }
});

test('an authzid other than the user\'s own bare JID fails with invalid-authzid', async () => {
  for (const authzid of ['romeo@example.com', 'user', 'user@', 'user@example.com/balcony', 'user@a@b', 'USER@example.com']) {
    const { mech, backend } = setup();
    failure(await mech.start(Buffer.from(`n,a=${authzid},n=user,r=abc`)), 'invalid-authzid');
    assert.deepEqual(backend.lookups, []);
  }
});

test('an empty initial response, an empty final response and non-UTF-8 are malformed', async () => {
  failure(await setup().mech.start(Buffer.alloc(0)), 'malformed-request');
  const { mech } = await atFinal();
  failure(await mech.step(Buffer.alloc(0)), 'malformed-request');
  failure(await setup().mech.start(Buffer.from([0x6e, 0x2c, 0x2c, 0x6e, 0x3d, 0xff, 0x2c, 0x72, 0x3d, 0x61])), 'malformed-request');
  const { mech: mech2 } = setup();
  assert.equal(challenge(await mech2.start(undefined)), '');
  failure(await mech2.step(Buffer.alloc(0)), 'malformed-request');
});
