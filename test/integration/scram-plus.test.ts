/*
 * SCRAM -PLUS with channel binding (issue #14 item 1; RFC 5802 §6, RFC 7677) over real TLS:
 * - offered (SCRAM-SHA-256-PLUS, SCRAM-SHA-1-PLUS first) with the XEP-0440
 *   <sasl-channel-binding/> feature after STARTTLS, on XEP-0368 direct TLS and on wss://; not
 *   before STARTTLS, not on ws:// behind tls.behindTlsProxy, not with tls.channelBinding=false;
 * - login with tls-exporter (RFC 9266, TLS 1.3) and tls-server-end-point (RFC 5929) succeeds;
 *   on TLS 1.2 only tls-server-end-point is offered and tls-exporter is refused;
 * - a wrong binding fails with not-authorized; "y" on plain SCRAM while -PLUS is offered fails
 *   (downgrade), and is accepted where -PLUS is not offered; "n" on -PLUS is malformed;
 * - slixmpp (Debian python3-slixmpp 1.8.x) binds only with tls-unique (CPython's ssl has no
 *   other type), which is undefined on TLS 1.3 (RFC 9266 §4) and not offered here: it logs in
 *   over STARTTLS only with tls.channelBinding=false (there with SCRAM-SHA-256 and "y").
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import type { Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import {
  ScramClient,
  startGateway,
  startRedis,
  tlsChannelBinding,
  xmppctl,
  type GatewayProcess,
  type RedisServer,
  type ScramMechanism,
  type ScramPlusMechanism,
} from '@parley/testkit';
import { directTls, selfSignedCert, startTls, streamOpen, textReader, wsOpen } from './support/tls.js';
import { slixmppTlsLogin } from './support/cli-clients.js';

const NS_SASL = 'urn:ietf:params:xml:ns:xmpp-sasl';
const prefix = `t${process.pid}plus:`;
let redis: RedisServer;
let main: GatewayProcess; // STARTTLS, direct TLS, wss; channel binding on
let proxied: GatewayProcess; // ws:// behind tls.behindTlsProxy, direct TLS
let off: GatewayProcess; // tls.channelBinding=false (the default)
let certDir: string;
let certDer: Buffer;

before(async () => {
  const made = selfSignedCert('parley-plus-');
  certDir = made.dir;
  certDer = new X509Certificate(readFileSync(made.certFile)).raw;
  redis = await startRedis();
  const base = {
    PARLEY_TLS_CERT: made.certFile,
    PARLEY_TLS_KEY: made.keyFile,
    PARLEY_DIRECT_TLS_PORT: '0',
    // This file fails logins on purpose; keep the failed-login limits out of the way.
    PARLEY_AUTH_MAX_FAILURES_PER_ADDRESS: '1000',
    PARLEY_AUTH_MAX_FAILURES_PER_ACCOUNT: '1000',
    PARLEY_TLS_CHANNEL_BINDING: 'true',
  };
  [main, proxied, off] = await Promise.all([
    startGateway({ redisUrl: redis.url, keyPrefix: prefix, env: { ...base, PARLEY_TLS_WSS: 'true' } }),
    startGateway({ redisUrl: redis.url, keyPrefix: prefix, env: { ...base, PARLEY_TLS_BEHIND_PROXY: 'true', PARLEY_ALLOW_PLAIN_WITHOUT_TLS: 'false' } }),
    startGateway({ redisUrl: redis.url, keyPrefix: prefix, env: { ...base, PARLEY_TLS_CHANNEL_BINDING: 'false' } }),
  ]);
  const r = await xmppctl(['user', 'add', 'plus@localhost'], { redisUrl: redis.url, keyPrefix: prefix, stdin: 'plus-pw\n' });
  assert.equal(r.code, 0, r.stderr);
});

after(async () => {
  await Promise.all([main?.stop(), proxied?.stop(), off?.stop()]);
  await redis?.stop();
  rmSync(certDir, { recursive: true, force: true });
});

const offered = (features: string) => [...features.matchAll(/<mechanism>([^<]+)<\/mechanism>/g)].map((m) => m[1]);
const cbTypes = (features: string) => [...features.matchAll(/<channel-binding type=["']([^"']+)["']/g)].map((m) => m[1]);

/**
 * Opens the stream on `sock`, runs SCRAM with `client` (mechanism name `as`, default the
 * client's) and, on success, checks the server signature, restarts and binds.
 * @returns the pre-auth features and either the bound JID or the failure element's text
 */
async function scramLogin(sock: Socket | TLSSocket, client: ScramClient, as: string = client.mechanism): Promise<{ features: string; jid?: string; failure?: string }> {
  const r = textReader(sock);
  sock.write(streamOpen('localhost'));
  const features = await r.waitFor(/<\/stream:features>/);
  sock.write(`<auth xmlns='${NS_SASL}' mechanism='${as}'>${Buffer.from(client.first()).toString('base64')}</auth>`);
  const first = await r.waitFor(/<\/challenge>|<failure[\s\S]*<\/failure>/);
  const ch = /<challenge[^>]*>([^<]*)<\/challenge>/.exec(first);
  if (!ch) return { features, failure: first };
  const final = await client.final(Buffer.from(ch[1]!, 'base64').toString('utf8'));
  sock.write(`<response xmlns='${NS_SASL}'>${Buffer.from(final).toString('base64')}</response>`);
  const outcome = await r.waitFor(/<\/success>|<success[^>]*\/>|<failure[\s\S]*<\/failure>/);
  const s = /<success[^>]*>([^<]*)<\/success>/.exec(outcome);
  if (!s) return { features, failure: outcome };
  assert.ok(client.verify(Buffer.from(s[1]!, 'base64').toString('utf8')), 'server signature');
  sock.write(streamOpen('localhost'));
  await r.waitFor(/<\/stream:features>/);
  sock.write(`<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>plus</resource></bind></iq>`);
  const bound = await r.waitFor(/<\/iq>/);
  return { features, jid: /<jid>([^<]+)<\/jid>/.exec(bound)?.[1] };
}

/** A -PLUS client whose binding data this end reads from `sock` (`tamper` replaces it). */
function plusClient(sock: TLSSocket, mechanism: ScramPlusMechanism, type: 'tls-exporter' | 'tls-server-end-point', tamper?: Buffer): ScramClient {
  const data = tamper ?? tlsChannelBinding(sock, 'client').data(type);
  assert.ok(data, `${type} available on the client side`);
  return new ScramClient(mechanism, 'plus', 'plus-pw', undefined, { channelBinding: { type, data } });
}

test('-PLUS and XEP-0440 types are offered after STARTTLS and on direct TLS, not before STARTTLS', async () => {
  const plain = (await import('node:net')).connect(main.c2sPort, '127.0.0.1');
  const r = textReader(plain);
  plain.write(streamOpen('localhost'));
  const before = await r.waitFor(/<\/stream:features>/);
  plain.destroy();
  assert.deepEqual(offered(before), ['SCRAM-SHA-256', 'SCRAM-SHA-1']);
  assert.doesNotMatch(before, /sasl-channel-binding/);

  for (const sock of [await startTls(main.c2sPort, 'localhost'), await directTls(main.directTlsPort, 'localhost')]) {
    const { features, jid } = await scramLogin(sock, plusClient(sock, 'SCRAM-SHA-256-PLUS', 'tls-exporter'));
    assert.equal(sock.getProtocol(), 'TLSv1.3');
    assert.deepEqual(offered(features), ['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-1-PLUS', 'SCRAM-SHA-256', 'SCRAM-SHA-1', 'PLAIN']);
    assert.match(features, /<sasl-channel-binding xmlns=["']urn:xmpp:sasl-cb:0["']>/);
    assert.deepEqual(cbTypes(features), ['tls-exporter', 'tls-server-end-point']);
    assert.equal(jid, 'plus@localhost/plus');
    sock.destroy();
  }
});

test('SCRAM-SHA-256-PLUS and SCRAM-SHA-1-PLUS log in with tls-exporter and tls-server-end-point', async () => {
  for (const mechanism of ['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-1-PLUS'] as const) {
    for (const type of ['tls-exporter', 'tls-server-end-point'] as const) {
      for (const open of [() => startTls(main.c2sPort, 'localhost'), () => directTls(main.directTlsPort, 'localhost')]) {
        const sock = await open();
        if (type === 'tls-server-end-point') {
          // RFC 5929 §4.1: SHA-256 of the DER certificate (openssl signs it with SHA-256).
          assert.deepEqual(tlsChannelBinding(sock, 'client').data(type), createHash('sha256').update(certDer).digest());
        }
        const { jid, failure } = await scramLogin(sock, plusClient(sock, mechanism, type));
        assert.equal(jid, 'plus@localhost/plus', `${mechanism} ${type}: ${failure ?? ''}`);
        sock.destroy();
      }
    }
  }
});

test('a wrong channel binding fails with not-authorized', async () => {
  const otherCert = createHash('sha256').update(randomBytes(64)).digest();
  for (const [type, data] of [['tls-exporter', randomBytes(32)], ['tls-server-end-point', otherCert]] as const) {
    for (const open of [() => startTls(main.c2sPort, 'localhost'), () => directTls(main.directTlsPort, 'localhost')]) {
      const sock = await open();
      const { failure } = await scramLogin(sock, plusClient(sock, 'SCRAM-SHA-256-PLUS', type, data));
      assert.match(failure ?? '', /<failure xmlns=["']urn:ietf:params:xml:ns:xmpp-sasl["']><not-authorized\/>/);
      sock.destroy();
    }
  }
  // The data of another TLS connection (what a man in the middle relaying SCRAM would have).
  const a = await directTls(main.directTlsPort, 'localhost');
  const b = await directTls(main.directTlsPort, 'localhost');
  const { failure } = await scramLogin(a, plusClient(a, 'SCRAM-SHA-256-PLUS', 'tls-exporter', tlsChannelBinding(b, 'client').data('tls-exporter')));
  assert.match(failure ?? '', /<not-authorized\/>/);
  a.destroy();
  b.destroy();
});

test('"y" on plain SCRAM fails while -PLUS is offered; accepted where it is not; "n" on -PLUS is malformed', async () => {
  const yClient = (mechanism: ScramMechanism) => new ScramClient(mechanism, 'plus', 'plus-pw', undefined, { flag: 'y' });
  for (const mechanism of ['SCRAM-SHA-256', 'SCRAM-SHA-1'] as const) {
    const sock = await startTls(main.c2sPort, 'localhost');
    const { failure } = await scramLogin(sock, yClient(mechanism));
    // DOWNGRADE_CONDITION: malformed-request, as Prosody 0.12 answers.
    assert.match(failure ?? '', /<malformed-request\/><text[^>]*>channel binding is offered/, `${mechanism} with y`);
    sock.destroy();
  }
  // tls.channelBinding=false: no -PLUS offered, so the client saying "y" is right.
  const offSock = await startTls(off.c2sPort, 'localhost');
  const offLogin = await scramLogin(offSock, yClient('SCRAM-SHA-256'));
  assert.deepEqual(offered(offLogin.features), ['SCRAM-SHA-256', 'SCRAM-SHA-1', 'PLAIN']);
  assert.doesNotMatch(offLogin.features, /sasl-channel-binding/);
  assert.equal(offLogin.jid, 'plus@localhost/plus');
  offSock.destroy();
  // -PLUS asked for with "n,," (no binding): malformed-request.
  const sock = await directTls(main.directTlsPort, 'localhost');
  const { failure } = await scramLogin(sock, new ScramClient('SCRAM-SHA-256', 'plus', 'plus-pw'), 'SCRAM-SHA-256-PLUS');
  assert.match(failure ?? '', /<malformed-request\/>/);
  sock.destroy();
  // -PLUS where it is not offered: invalid-mechanism.
  const offPlus = await startTls(off.c2sPort, 'localhost');
  assert.match((await scramLogin(offPlus, plusClient(offPlus, 'SCRAM-SHA-256-PLUS', 'tls-exporter'))).failure ?? '', /<invalid-mechanism\/>/);
  offPlus.destroy();
});

test('TLS 1.2: only tls-server-end-point is offered; tls-exporter is refused', async () => {
  const open = async () => {
    const sock = tlsConnect({ host: '127.0.0.1', port: main.directTlsPort, servername: 'localhost', rejectUnauthorized: false, maxVersion: 'TLSv1.2' });
    await new Promise<void>((resolve, reject) => sock.once('secureConnect', () => resolve()).once('error', reject));
    return sock;
  };
  const sock = await open();
  assert.equal(sock.getProtocol(), 'TLSv1.2');
  const ok = await scramLogin(sock, plusClient(sock, 'SCRAM-SHA-256-PLUS', 'tls-server-end-point'));
  assert.deepEqual(cbTypes(ok.features), ['tls-server-end-point']);
  assert.equal(ok.jid, 'plus@localhost/plus');
  sock.destroy();
  const again = await open();
  const refused = await scramLogin(again, new ScramClient('SCRAM-SHA-256-PLUS', 'plus', 'plus-pw', undefined, { channelBinding: { type: 'tls-exporter', data: randomBytes(32) } }));
  assert.match(refused.failure ?? '', /<malformed-request\/>/);
  again.destroy();
});

test('wss:// offers -PLUS and logs in with tls-exporter; ws:// behind tls.behindTlsProxy offers none', async () => {
  const s = await wsOpen(`wss://127.0.0.1:${main.wsPort}/xmpp-websocket`);
  assert.deepEqual(offered(s.features).slice(0, 2), ['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-1-PLUS']);
  assert.deepEqual(cbTypes(s.features), ['tls-exporter', 'tls-server-end-point']);
  const client = plusClient(s.socket as TLSSocket, 'SCRAM-SHA-256-PLUS', 'tls-exporter');
  s.ws.send(`<auth xmlns='${NS_SASL}' mechanism='SCRAM-SHA-256-PLUS'>${Buffer.from(client.first()).toString('base64')}</auth>`);
  const ch = /<challenge[^>]*>([^<]*)<\/challenge>/.exec(await s.next(/<challenge/))!;
  s.ws.send(`<response xmlns='${NS_SASL}'>${Buffer.from(await client.final(Buffer.from(ch[1]!, 'base64').toString())).toString('base64')}</response>`);
  const success = /<success[^>]*>([^<]*)<\/success>/.exec(await s.next(/<success|<failure/));
  assert.ok(success && client.verify(Buffer.from(success[1]!, 'base64').toString()), 'wss -PLUS login');
  s.ws.close();

  const p = await wsOpen(`ws://127.0.0.1:${proxied.wsPort}/xmpp-websocket`);
  assert.deepEqual(offered(p.features), ['SCRAM-SHA-256', 'SCRAM-SHA-1', 'PLAIN']);
  assert.doesNotMatch(p.features, /sasl-channel-binding/);
  p.ws.close();
  // The same gateway's own TLS (direct TLS) still offers -PLUS.
  const d = await directTls(proxied.directTlsPort, 'localhost');
  const { features } = await scramLogin(d, plusClient(d, 'SCRAM-SHA-1-PLUS', 'tls-server-end-point'));
  assert.deepEqual(offered(features).slice(0, 2), ['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-1-PLUS']);
  d.destroy();
});

test('slixmpp over STARTTLS: refused while -PLUS is offered (it binds only with tls-unique), logs in with tls.channelBinding=false', async () => {
  const run = (port: number) => slixmppTlsLogin({ jid: 'plus@localhost/slix', password: 'plus-pw', port });
  const off_ = await run(off.c2sPort);
  assert.deepEqual({ ok: off_.ok, mechanism: off_.mechanism, failures: off_.failures }, { ok: true, mechanism: 'SCRAM-SHA-256', failures: [] });
  assert.ok(off_.binding, 'slixmpp has tls-unique data, so it sent "y" (accepted: no -PLUS offered)');
  // With -PLUS offered: SCRAM-SHA-256-PLUS and SCRAM-SHA-1-PLUS with p=tls-unique (not a type
  // we offer), then SCRAM-SHA-256 with "y" (a downgrade to us); the third failure closes the stream.
  const on = await run(main.c2sPort);
  assert.deepEqual({ ok: on.ok, failures: on.failures }, { ok: false, failures: ['malformed-request', 'malformed-request', 'malformed-request'] });
});
