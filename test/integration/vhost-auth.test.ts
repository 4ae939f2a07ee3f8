/*
 * Authentication per virtual host (issue #10 item 2; RFC 6120 §4.7.2, §6.4.6): with
 * hosts localhost and other.test, the stream's `to` host picks the accounts SASL checks,
 * and the bound JID carries that host. The same localpart on both hosts has two accounts with
 * two passwords; a user that exists only on localhost cannot log in on other.test; SCRAM's
 * decoy salts are keyed per host so that they do not show which host has the account.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { keySpace } from '@parley/bus';
import {
  loginPlain,
  loginScram,
  openStream,
  RawClient,
  ScramClient,
  startGateway,
  startRedis,
  xmppctl,
  type GatewayProcess,
  type RedisServer,
} from '@parley/testkit';
import { uniquePrefix } from './support/names.js';

const HOSTS = 'localhost,other.test';
const NS_SASL = 'urn:ietf:params:xml:ns:xmpp-sasl';

let redis: RedisServer;
let gw: GatewayProcess;
let openGw: GatewayProcess;
const prefix = uniquePrefix('vhost');
const openPrefix = uniquePrefix('vhost-open');

before(async () => {
  redis = await startRedis();
  const env = { PARLEY_HOSTS: HOSTS, PARLEY_ALLOW_PLAIN_WITHOUT_TLS: 'true' };
  [gw, openGw] = await Promise.all([
    startGateway({ redisUrl: redis.url, keyPrefix: prefix, env }),
    startGateway({ redisUrl: redis.url, keyPrefix: openPrefix, env: { ...env, PARLEY_AUTH_BACKEND: 'open-insecure-test-only' } }),
  ]);
  for (const [jid, pw] of [['victim@localhost', 'local-pw'], ['victim@other.test', 'other-pw'], ['solo@localhost', 'solo-pw']]) {
    const r = await xmppctl(['user', 'add', jid!], { redisUrl: redis.url, keyPrefix: prefix, env: { PARLEY_HOSTS: HOSTS }, stdin: `${pw}\n` });
    assert.equal(r.code, 0, `user add ${jid}: ${r.stderr}`);
  }
});

after(async () => {
  await Promise.all([gw?.stop(), openGw?.stop()]);
  await redis?.stop();
});

type Mechanism = 'PLAIN' | 'SCRAM-SHA-1' | 'SCRAM-SHA-256';
const MECHANISMS: Mechanism[] = ['PLAIN', 'SCRAM-SHA-1', 'SCRAM-SHA-256'];

/** Logs in on `port` as user@domain; resolves with the bound JID or rejects with the server's answer. */
async function login(port: number, mechanism: Mechanism, domain: string, user: string, password: string): Promise<string> {
  const raw = await RawClient.connect(port);
  try {
    const opts = { domain, user, password, resource: 'r' };
    const session = mechanism === 'PLAIN' ? await loginPlain(raw, opts) : await loginScram(raw, { ...opts, mechanism });
    return session.jid;
  } finally {
    raw.destroy();
  }
}

test('the same localpart on two hosts: each host accepts only its own password, and binds its own JID', async () => {
  for (const mechanism of MECHANISMS) {
    assert.equal(await login(gw.c2sPort, mechanism, 'localhost', 'victim', 'local-pw'), 'victim@localhost/r', mechanism);
    assert.equal(await login(gw.c2sPort, mechanism, 'other.test', 'victim', 'other-pw'), 'victim@other.test/r', mechanism);
    await assert.rejects(login(gw.c2sPort, mechanism, 'other.test', 'victim', 'local-pw'), /not-authorized/, `${mechanism}: localhost's password on other.test`);
    await assert.rejects(login(gw.c2sPort, mechanism, 'localhost', 'victim', 'other-pw'), /not-authorized/, `${mechanism}: other.test's password on localhost`);
  }
});

test('a user that exists only on localhost cannot log in on other.test', async () => {
  for (const mechanism of MECHANISMS) {
    assert.equal(await login(gw.c2sPort, mechanism, 'localhost', 'solo', 'solo-pw'), 'solo@localhost/r', mechanism);
    await assert.rejects(login(gw.c2sPort, mechanism, 'other.test', 'solo', 'solo-pw'), /not-authorized/, mechanism);
  }
});

test('an authzid of the other host is refused (RFC 6120 §6.4.6 invalid-authzid)', async () => {
  const raw = await RawClient.connect(gw.c2sPort);
  try {
    await openStream(raw, 'other.test');
    const from = raw.length;
    await raw.send(`<auth xmlns='${NS_SASL}' mechanism='PLAIN'>${Buffer.from('victim@localhost\0victim\0other-pw').toString('base64')}</auth>`);
    const [reply] = await raw.waitFor(/<failure[\s\S]*?<\/failure>/, { from });
    assert.match(reply, /<invalid-authzid\/>/);
  } finally {
    raw.destroy();
  }
});

/** The salt (`s=`) of SCRAM-SHA-256's server-first message for user@domain. */
async function scramSalt(domain: string, user: string): Promise<string> {
  const raw = await RawClient.connect(gw.c2sPort);
  try {
    await openStream(raw, domain);
    const scram = new ScramClient('SCRAM-SHA-256', user, 'irrelevant');
    const from = raw.length;
    await raw.send(`<auth xmlns='${NS_SASL}' mechanism='SCRAM-SHA-256'>${Buffer.from(scram.first()).toString('base64')}</auth>`);
    const [challenge] = await raw.waitFor(/<challenge[^>]*>([^<]*)<\/challenge>/, { from });
    const payload = Buffer.from(/>([^<]*)</.exec(challenge)![1]!, 'base64').toString('utf8');
    const salt = /(?:^|,)s=([^,]+)/.exec(payload)?.[1];
    assert.ok(salt, `no salt in ${payload}`);
    return salt;
  } finally {
    raw.destroy();
  }
}

test('SCRAM decoy salts are per host and stable: comparing hosts does not show where an account exists', async () => {
  // An unknown user gets a stable made-up salt on each host, a different one per host, just as
  // a user with an account on one host only ("solo") gets different salts on the two hosts.
  const ghostLocal = await scramSalt('localhost', 'ghost');
  const ghostOther = await scramSalt('other.test', 'ghost');
  assert.equal(await scramSalt('localhost', 'ghost'), ghostLocal, 'decoy salt is stable');
  assert.equal(await scramSalt('other.test', 'ghost'), ghostOther, 'decoy salt is stable');
  assert.notEqual(ghostLocal, ghostOther, 'an unknown user must not show the same salt on both hosts');
  assert.notEqual(await scramSalt('localhost', 'solo'), await scramSalt('other.test', 'solo'));
  assert.equal(Buffer.from(ghostOther, 'base64').length, Buffer.from(await scramSalt('localhost', 'solo'), 'base64').length, 'decoy and real salts have the same length');
});

test('open test authentication creates the account on the stream host only', async () => {
  assert.equal(await login(openGw.c2sPort, 'PLAIN', 'other.test', 'newbie', 'any'), 'newbie@other.test/r');
  const keys = keySpace(openPrefix);
  const db = redis.client();
  try {
    assert.equal(await db.exists(keys.account('newbie@other.test')), 1);
    assert.equal(await db.exists(keys.account('newbie@localhost')), 0, 'no account on the other host');
  } finally {
    db.disconnect();
  }
  // SCRAM on the open backend checks the stored credentials of the stream's host.
  assert.equal(await login(openGw.c2sPort, 'SCRAM-SHA-256', 'other.test', 'newbie', 'any'), 'newbie@other.test/r');
  await assert.rejects(login(openGw.c2sPort, 'SCRAM-SHA-256', 'localhost', 'newbie', 'any'), /not-authorized/);
});
