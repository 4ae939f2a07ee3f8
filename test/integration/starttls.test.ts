// STARTTLS on c2s (RFC 6120 §5): with a certificate configured, the gateway offers
// <starttls/>, upgrades the same TCP connection, restarts the stream, and only then offers
// PLAIN (which, without TLS, is not offered unless explicitly allowed).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { startGateway, startRedis, type GatewayProcess, type RedisServer } from '@parley/testkit';
import { selfSignedCert, textReader } from './support/tls.js';

let redis: RedisServer;
let gateway: GatewayProcess;
let certDir: string;

const HEADER = "<?xml version='1.0'?><stream:stream to='localhost' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>";


before(async () => {
  const made = selfSignedCert('parley-tls-');
  certDir = made.dir;
  redis = await startRedis();
  gateway = await startGateway({
    redisUrl: redis.url,
    keyPrefix: `t${process.pid}starttls:`,
    env: { PARLEY_TLS_CERT: made.certFile, PARLEY_TLS_KEY: made.keyFile, PARLEY_AUTH_BACKEND: 'open-insecure-test-only' },
  });
});

after(async () => {
  await gateway?.stop();
  await redis?.stop();
  rmSync(certDir, { recursive: true, force: true });
});

test('STARTTLS upgrades the connection, then PLAIN is offered and works', async () => {
  const plain = netConnect(gateway.c2sPort, '127.0.0.1');
  const r1 = textReader(plain);
  plain.write(HEADER);
  const features = await r1.waitFor(/<\/stream:features>/);
  assert.match(features, /<starttls xmlns=["']urn:ietf:params:xml:ns:xmpp-tls["']/);
  assert.doesNotMatch(features, /<mechanism>PLAIN<\/mechanism>/, 'PLAIN must not be offered before TLS');
  assert.match(features, /<mechanism>SCRAM-SHA-256<\/mechanism>/);

  plain.write("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
  await r1.waitFor(/<proceed xmlns=["']urn:ietf:params:xml:ns:xmpp-tls["']\s*\/>/);
  plain.removeAllListeners('data');

  const secure = tlsConnect({ socket: plain, servername: 'localhost', rejectUnauthorized: false });
  await new Promise<void>((resolve, reject) => secure.once('secureConnect', () => resolve()).once('error', reject));
  const r2 = textReader(secure);
  secure.write(HEADER);
  const secured = await r2.waitFor(/<\/stream:features>/);
  assert.doesNotMatch(secured, /<starttls/, 'STARTTLS is not offered twice');
  assert.match(secured, /<mechanism>PLAIN<\/mechanism>/);

  secure.write(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from('\0tls-user\0pw').toString('base64')}</auth>`);
  await r2.waitFor(/<success xmlns=["']urn:ietf:params:xml:ns:xmpp-sasl["']/);
  secure.write(HEADER);
  await r2.waitFor(/<bind xmlns=["']urn:ietf:params:xml:ns:xmpp-bind["']/);
  secure.write("<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>tls</resource></bind></iq>");
  const bound = await r2.waitFor(/<\/iq>/);
  assert.match(bound, /<jid>tls-user@localhost\/tls<\/jid>/);
  secure.destroy();
});

test('PLAIN attempted on the unencrypted stream is refused as invalid-mechanism', async () => {
  const sock = netConnect(gateway.c2sPort, '127.0.0.1');
  const r = textReader(sock);
  sock.write(HEADER);
  await r.waitFor(/<\/stream:features>/);
  sock.write(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from('\0u\0pw').toString('base64')}</auth>`);
  const reply = await r.waitFor(/<\/failure>|<failure[^>]*\/>/);
  assert.match(reply, /<invalid-mechanism\/>/);
  sock.destroy();
});
