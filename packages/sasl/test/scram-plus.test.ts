// SCRAM-SHA-1-PLUS / SCRAM-SHA-256-PLUS (RFC 5802 §6, RFC 7677) with known channel binding
// data, driven by the independent test client (expected proofs on node:crypto), and the
// GS2 flag rules: "p=" only on -PLUS, "n"/"y" refused there, "y" on a plain mechanism
// failed while -PLUS is offered (downgrade protection).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import {
  createMechanism,
  deriveCredentials,
  DOWNGRADE_CONDITION,
  fixedChannelBinding,
  PLUS_MECHANISMS,
  ScramClient,
  type ChannelBinding,
  type ChannelBindingType,
} from '@parley/sasl';
import { memoryBackend } from './backend.js';
import { clientFinal, type Hash } from './scram-client.js';
import { challenge, failure, success } from './steps.js';

const creds = await deriveCredentials('pencil');
const EXPORTER = randomBytes(32);
const END_POINT = randomBytes(32);
const BOTH = fixedChannelBinding(new Map<ChannelBindingType, Buffer>([['tls-exporter', EXPORTER], ['tls-server-end-point', END_POINT]]));
const PLUS: Array<[string, Hash]> = [
  ['SCRAM-SHA-256-PLUS', 'sha256'],
  ['SCRAM-SHA-1-PLUS', 'sha1'],
];

function cbValue(gs2Header: string, data: Buffer): string {
  return Buffer.concat([Buffer.from(gs2Header), data]).toString('base64');
}

async function plusExchange(name: string, hash: Hash, binding: ChannelBinding, clientFirst: string, cb: string) {
  const backend = memoryBackend({ user: creds });
  const mech = createMechanism(name, backend, { channelBinding: binding });
  assert.ok(mech, name);
  const serverFirst = challenge(await mech.start(Buffer.from(clientFirst)));
  const final = clientFinal(hash, 'pencil', clientFirst, serverFirst, { channelBinding: cb });
  return { step: await mech.step(Buffer.from(final.message)), final, backend, mech };
}

test('-PLUS with tls-exporter and tls-server-end-point succeeds when c= carries header and data', async () => {
  for (const [name, hash] of PLUS) {
    for (const [type, data] of [['tls-exporter', EXPORTER], ['tls-server-end-point', END_POINT]] as const) {
      const header = `p=${type},,`;
      const { step, final, mech } = await plusExchange(name, hash, BOTH, `${header}n=user,r=cnonce`, cbValue(header, data));
      assert.equal(mech.name, name);
      const done = success(step);
      assert.equal(done.username, 'user');
      assert.equal(done.data?.toString(), final.expectedServerFinal);
    }
  }
});

test('-PLUS with an authzid: the whole GS2 header goes into c=', async () => {
  const header = 'p=tls-exporter,a=user@example.com,';
  const { step } = await plusExchange('SCRAM-SHA-256-PLUS', 'sha256', BOTH, `${header}n=user,r=c`, cbValue(header, EXPORTER));
  assert.equal(success(step).authzid, 'user@example.com');
});

test('wrong channel binding data fails with not-authorized', async () => {
  const header = 'p=tls-exporter,,';
  for (const cb of [
    cbValue(header, randomBytes(32)), // another TLS channel (a man in the middle)
    cbValue(header, END_POINT), // the other type's data
    cbValue(header, EXPORTER.subarray(0, 31)),
    Buffer.from(header).toString('base64'), // header without data
    cbValue('p=tls-server-end-point,,', EXPORTER), // another header
  ]) {
    const { step } = await plusExchange('SCRAM-SHA-256-PLUS', 'sha256', BOTH, `${header}n=user,r=c`, cb);
    assert.equal(failure(step, 'not-authorized').text, 'channel binding data does not match');
  }
});

test('a -PLUS mechanism refuses "n", "y" and types this connection lacks, before any lookup', async () => {
  const onlyEndPoint = fixedChannelBinding(new Map([['tls-server-end-point', END_POINT]]));
  for (const [first, binding] of [
    ['n,,n=user,r=c', BOTH],
    ['y,,n=user,r=c', BOTH],
    ['p=tls-unique,,n=user,r=c', BOTH],
    ['p=tls-exporter,,n=user,r=c', onlyEndPoint],
    ['p=,,n=user,r=c', BOTH],
    ['p=tls_exporter,,n=user,r=c', BOTH],
  ] as const) {
    const backend = memoryBackend({ user: creds });
    const mech = createMechanism('SCRAM-SHA-256-PLUS', backend, { channelBinding: binding })!;
    failure(await mech.start(Buffer.from(first)), 'malformed-request');
    assert.deepEqual(backend.lookups, [], first);
  }
});

test('"y" on a plain SCRAM mechanism fails while -PLUS is offered (downgrade), "n" still works', async () => {
  assert.equal(DOWNGRADE_CONDITION, 'malformed-request'); // as Prosody 0.12 answers
  for (const name of ['SCRAM-SHA-256', 'SCRAM-SHA-1']) {
    const backend = memoryBackend({ user: creds });
    const step = failure(await createMechanism(name, backend, { channelBinding: BOTH })!.start(Buffer.from('y,,n=user,r=c')), DOWNGRADE_CONDITION);
    assert.match(step.text ?? '', /-PLUS/);
    assert.deepEqual(backend.lookups, []);
  }
  const mech = createMechanism('SCRAM-SHA-256', memoryBackend({ user: creds }), { channelBinding: BOTH })!;
  const serverFirst = challenge(await mech.start(Buffer.from('n,,n=user,r=c')));
  success(await mech.step(Buffer.from(clientFinal('sha256', 'pencil', 'n,,n=user,r=c', serverFirst).message)));
  // No type available on this connection: -PLUS is not offered, so "y" is right.
  const none = createMechanism('SCRAM-SHA-256', memoryBackend({ user: creds }), { channelBinding: fixedChannelBinding(new Map()) })!;
  challenge(await none.start(Buffer.from('y,,n=user,r=c')));
});

test('"p=" on a plain SCRAM mechanism is malformed even when binding is available', async () => {
  const mech = createMechanism('SCRAM-SHA-256', memoryBackend({ user: creds }), { channelBinding: BOTH })!;
  assert.match(failure(await mech.start(Buffer.from('p=tls-exporter,,n=user,r=c')), 'malformed-request').text ?? '', /-PLUS/);
});

test('-PLUS mechanisms exist only with a channel binding that lists a type', () => {
  assert.deepEqual([...PLUS_MECHANISMS], ['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-1-PLUS']);
  for (const name of PLUS_MECHANISMS) {
    assert.equal(createMechanism(name, memoryBackend({})), undefined);
    assert.equal(createMechanism(name, memoryBackend({}), { channelBinding: fixedChannelBinding(new Map()) }), undefined);
    assert.equal(createMechanism(name, memoryBackend({}), { channelBinding: BOTH })?.name, name);
  }
});

test('the package ScramClient speaks -PLUS: success with the same data, not-authorized with other data', async () => {
  for (const name of PLUS_MECHANISMS) {
    for (const [data, ok] of [[EXPORTER, true], [randomBytes(32), false]] as const) {
      const client = new ScramClient(name, 'user', 'pencil', undefined, { channelBinding: { type: 'tls-exporter', data } });
      assert.match(client.first(), /^p=tls-exporter,,n=user,r=/);
      const mech = createMechanism(name, memoryBackend({ user: creds }), { channelBinding: BOTH })!;
      const serverFirst = challenge(await mech.start(Buffer.from(client.first())));
      const step = await mech.step(Buffer.from(await client.final(serverFirst)));
      if (ok) assert.ok(client.verify(success(step).data!.toString()));
      else failure(step, 'not-authorized');
    }
  }
});

test('ScramClient: -PLUS needs binding data, other mechanisms refuse it; flag "y" is sent as asked', () => {
  assert.throws(() => new ScramClient('SCRAM-SHA-256-PLUS', 'u', 'p'));
  assert.throws(() => new ScramClient('SCRAM-SHA-256', 'u', 'p', 'n', { channelBinding: { type: 'tls-exporter', data: EXPORTER } }));
  assert.throws(() => new ScramClient('SCRAM-SHA-1-PLUS', 'u', 'p', 'n', { channelBinding: { type: 'bad,type', data: EXPORTER } }));
  assert.equal(new ScramClient('SCRAM-SHA-1', 'u', 'p', 'n', { flag: 'y' }).first(), 'y,,n=u,r=n');
});
