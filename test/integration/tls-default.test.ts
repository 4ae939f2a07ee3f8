/*
 * TLS that works by default (issue #14 item 1) on real sockets:
 * - STARTTLS (RFC 6120 §5) then SCRAM; XEP-0368 direct TLS (TLS from the first byte, no
 *   STARTTLS offered, PLAIN and SCRAM offered);
 * - per-host certificates chosen by SNI (RFC 6066 §3) on STARTTLS, direct TLS and wss://,
 *   the first configured one for an unknown name or none;
 * - tls.behindTlsProxy: plain ws:// counts as encrypted (PLAIN offered, tls.required met),
 *   while c2s without STARTTLS still gets <encryption-required/>;
 * - SIGHUP reloads the certificate files: new handshakes get the new certificate, sessions
 *   already open stay open and keep working; a reload that cannot read a file keeps the old;
 * - a missing certificate file stops the start with one error line (exit 78), no stack.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { WebSocket } from 'ws';
import { repoRoot, startGateway, startRedis, xmppctl, type GatewayProcess, type RedisServer } from '@parley/testkit';
import { directTls, saslLogin, startTls, streamOpen, textReader, writeSelfSignedCert, wsOpen } from './support/tls.js';

let redis: RedisServer;
let multi: GatewayProcess; // two hosts, SNI, direct TLS, wss
let proxied: GatewayProcess; // tls.required + tls.behindTlsProxy, plain ws://
let reloading: GatewayProcess; // its own certificate files, rewritten by the reload test
let dir: string;
const prefix = `t${process.pid}tlsdef:`;
const file = (name: string) => join(dir, name);

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'parley-tlsdef-'));
  writeSelfSignedCert('localhost', file('localhost.crt'), file('localhost.key'));
  writeSelfSignedCert('example.test', file('example.test.crt'), file('example.test.key'));
  writeSelfSignedCert('localhost', file('reload.crt'), file('reload.key'));
  const certificates = `localhost:${file('localhost.crt')}:${file('localhost.key')},example.test:${file('example.test.crt')}:${file('example.test.key')}`;
  const hosts = { PARLEY_HOSTS: 'localhost,example.test', PARLEY_MUC_DOMAIN: 'conference.localhost' };
  redis = await startRedis();
  [multi, proxied, reloading] = await Promise.all([
    startGateway({ redisUrl: redis.url, keyPrefix: prefix, env: { ...hosts, PARLEY_TLS_CERTIFICATES: certificates, PARLEY_DIRECT_TLS_PORT: '0', PARLEY_TLS_WSS: 'true' } }),
    startGateway({
      redisUrl: redis.url,
      keyPrefix: prefix,
      env: { ...hosts, PARLEY_TLS_CERTIFICATES: certificates, PARLEY_DIRECT_TLS_PORT: '0', PARLEY_TLS_REQUIRED: 'true', PARLEY_TLS_BEHIND_PROXY: 'true' },
    }),
    startGateway({ redisUrl: redis.url, keyPrefix: prefix, env: { ...hosts, PARLEY_TLS_CERT: file('reload.crt'), PARLEY_TLS_KEY: file('reload.key'), PARLEY_DIRECT_TLS_PORT: '0' } }),
  ]);
  for (const [jid, pw] of [['alice@localhost', 'alice-pw'], ['bob@example.test', 'bob-pw']] as const) {
    const r = await xmppctl(['user', 'add', jid], { redisUrl: redis.url, keyPrefix: prefix, stdin: `${pw}\n`, env: hosts });
    assert.equal(r.code, 0, r.stderr);
  }
});

after(async () => {
  await Promise.all([multi?.stop(), proxied?.stop(), reloading?.stop()]);
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const cn = (sock: TLSSocket) => sock.getPeerCertificate().subject.CN;

test('STARTTLS then SCRAM-SHA-256 and SCRAM-SHA-1 login', async () => {
  for (const mechanism of ['SCRAM-SHA-256', 'SCRAM-SHA-1'] as const) {
    const sock = await startTls(multi.c2sPort, 'localhost');
    const { jid, features } = await saslLogin(sock, { domain: 'localhost', user: 'alice', password: 'alice-pw', mechanism, resource: `st-${mechanism}` });
    assert.equal(jid, `alice@localhost/st-${mechanism}`);
    assert.doesNotMatch(features, /<starttls/, 'no second STARTTLS');
    assert.match(features, /<mechanism>PLAIN<\/mechanism>/, 'PLAIN offered once encrypted');
    sock.destroy();
  }
});

test('XEP-0368 direct TLS: no STARTTLS offered; SCRAM and PLAIN log in', async () => {
  assert.ok(multi.directTlsPort > 0, 'a direct TLS port is reported in the ready line');
  const a = await directTls(multi.directTlsPort, 'localhost');
  const la = await saslLogin(a, { domain: 'localhost', user: 'alice', password: 'alice-pw', mechanism: 'SCRAM-SHA-256', resource: 'direct' });
  assert.equal(la.jid, 'alice@localhost/direct');
  assert.doesNotMatch(la.features, /<starttls/);
  assert.match(la.features, /<mechanism>PLAIN<\/mechanism>/);
  const b = await directTls(multi.directTlsPort, 'example.test');
  const lb = await saslLogin(b, { domain: 'example.test', user: 'bob', password: 'bob-pw', mechanism: 'PLAIN', resource: 'direct' });
  assert.equal(lb.jid, 'bob@example.test/direct');
  a.destroy();
  b.destroy();
});

test('a plaintext connection to the direct TLS port is not served', async () => {
  const sock = netConnect(multi.directTlsPort, '127.0.0.1');
  const r = textReader(sock);
  sock.write(streamOpen('localhost'));
  await new Promise<void>((resolve) => sock.once('close', () => resolve()));
  assert.doesNotMatch(r.text, /<stream:features/, 'no XMPP in clear on the direct TLS port');
});

test('SNI picks the certificate per host on STARTTLS, direct TLS and wss://; unknown or no name gets the first', async () => {
  for (const host of ['localhost', 'example.test']) {
    const st = await startTls(multi.c2sPort, host);
    assert.equal(cn(st), host, `STARTTLS to ${host}`);
    st.destroy();
    const d = await directTls(multi.directTlsPort, host);
    assert.equal(cn(d), host, `direct TLS to ${host}`);
    d.destroy();
    const ws = new WebSocket(`wss://127.0.0.1:${multi.wsPort}/xmpp-websocket`, 'xmpp', { rejectUnauthorized: false, servername: host } as ConstructorParameters<typeof WebSocket>[2]);
    const peer = await new Promise<string>((resolve, reject) => {
      ws.once('upgrade', (res) => resolve((res.socket as TLSSocket).getPeerCertificate().subject.CN as string));
      ws.once('error', reject);
    });
    assert.equal(peer, host, `wss:// to ${host}`);
    ws.close();
  }
  const unknown = await directTls(multi.directTlsPort, 'other.example');
  assert.equal(cn(unknown), 'localhost');
  unknown.destroy();
  const none = await directTls(multi.directTlsPort); // an IP address: no SNI sent
  assert.equal(cn(none), 'localhost');
  none.destroy();
});

test('tls.required with tls.behindTlsProxy: plain ws:// logs in with PLAIN; c2s without STARTTLS is refused', async () => {
  const c = await wsOpen(`ws://127.0.0.1:${proxied.wsPort}/xmpp-websocket`, 'localhost');
  assert.match(c.features, /<mechanism>PLAIN<\/mechanism>/, 'ws behind the proxy counts as encrypted');
  c.ws.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from('\0alice\0alice-pw').toString('base64')}</auth>`);
  await c.next(/<success/);
  c.ws.send(c.open);
  await c.next(/<stream:features/);
  c.ws.send("<iq type='set' id='b' xmlns='jabber:client'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>proxied</resource></bind></iq>");
  assert.match(await c.next(/<iq/), /<jid>alice@localhost\/proxied<\/jid>/);
  c.ws.close();

  // c2s on the same gateway: plaintext SASL gets <encryption-required/> and policy-violation.
  const plain = netConnect(proxied.c2sPort, '127.0.0.1');
  const r = textReader(plain);
  plain.write(streamOpen('localhost'));
  const features = await r.waitFor(/<\/stream:features>/);
  assert.match(features, /<starttls xmlns=["']urn:ietf:params:xml:ns:xmpp-tls["']><required\/><\/starttls>/);
  plain.write(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from('\0alice\0alice-pw').toString('base64')}</auth>`);
  const reply = await r.waitFor(/<\/stream:stream>/);
  assert.match(reply, /<encryption-required\/>/);
  assert.match(reply, /<policy-violation/);
  assert.doesNotMatch(reply, /<success/);
  plain.destroy();

  // STARTTLS and direct TLS on the same gateway meet tls.required.
  const st = await startTls(proxied.c2sPort, 'localhost');
  assert.equal((await saslLogin(st, { domain: 'localhost', user: 'alice', password: 'alice-pw', mechanism: 'SCRAM-SHA-256', resource: 'req-st' })).jid, 'alice@localhost/req-st');
  st.destroy();
  const d = await directTls(proxied.directTlsPort, 'localhost');
  assert.equal((await saslLogin(d, { domain: 'localhost', user: 'alice', password: 'alice-pw', mechanism: 'PLAIN', resource: 'req-d' })).jid, 'alice@localhost/req-d');
  d.destroy();
});

test('without tls.behindTlsProxy, plain ws:// is not encrypted: PLAIN is not offered', async () => {
  const c = await wsOpen(`ws://127.0.0.1:${reloading.wsPort}/xmpp-websocket`, 'localhost');
  assert.doesNotMatch(c.features, /<mechanism>PLAIN<\/mechanism>/);
  assert.match(c.features, /<mechanism>SCRAM-SHA-256<\/mechanism>/);
  c.ws.close();
});

test('SIGHUP reloads the certificate: new handshakes get it, open sessions stay', async () => {
  const fingerprint = (s: TLSSocket) => s.getPeerCertificate().fingerprint256;
  const old = await directTls(reloading.directTlsPort, 'localhost');
  const oldPrint = fingerprint(old);
  const session = await saslLogin(old, { domain: 'localhost', user: 'alice', password: 'alice-pw', mechanism: 'SCRAM-SHA-256', resource: 'before-reload' });
  const oldSt = await startTls(reloading.c2sPort, 'localhost');
  const stSession = await saslLogin(oldSt, { domain: 'localhost', user: 'alice', password: 'alice-pw', mechanism: 'PLAIN', resource: 'before-reload-st' });

  // A new key pair, written next to the old files and moved over them.
  writeSelfSignedCert('localhost', file('reload.crt.new'), file('reload.key.new'));
  renameSync(file('reload.key.new'), file('reload.key'));
  renameSync(file('reload.crt.new'), file('reload.crt'));
  const seen = reloading.logs.length;
  process.kill(reloading.pid, 'SIGHUP');
  await reloading.waitForLog((e) => e.msg === 'tls certificates reloaded' && reloading.logs.length > seen, 5000);

  const fresh = await directTls(reloading.directTlsPort, 'localhost');
  const newPrint = fingerprint(fresh);
  assert.notEqual(newPrint, oldPrint, 'direct TLS serves the new certificate');
  fresh.destroy();
  const freshSt = await startTls(reloading.c2sPort, 'localhost');
  assert.equal(fingerprint(freshSt), newPrint, 'STARTTLS serves the new certificate');
  freshSt.destroy();

  // Both sessions from before the reload still work (an XEP-0199 ping to the server).
  for (const [sock, s] of [[old, session], [oldSt, stSession]] as const) {
    assert.equal(sock.destroyed, false, 'session still connected');
    sock.write("<iq type='get' id='after-reload' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>");
    assert.match(await s.reader.waitFor(/id=["']after-reload["']/), /type=["']result["']/);
  }

  // A reload that cannot read a file keeps the certificate in use and the process running.
  copyFileSync(file('reload.crt'), file('reload.crt.keep'));
  rmSync(file('reload.crt'));
  const seen2 = reloading.logs.length;
  process.kill(reloading.pid, 'SIGHUP');
  const failed = await reloading.waitForLog((e) => e.msg === 'tls certificate reload failed; the previous certificates stay in use' && reloading.logs.length > seen2, 5000);
  assert.match(String(failed.reason), /tls\.certFile: cannot read .*reload\.crt \(ENOENT/);
  const still = await directTls(reloading.directTlsPort, 'localhost');
  assert.equal(fingerprint(still), newPrint, 'the certificate loaded last is still served');
  still.destroy();
  renameSync(file('reload.crt.keep'), file('reload.crt'));
  old.destroy();
  oldSt.destroy();
});

test('a missing certificate file: one error line naming it, exit 78, no stack trace', async () => {
  const main = join(repoRoot(), 'services', 'gateway', 'dist', 'main.js');
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PARLEY_') && k !== 'REDIS_URL') env[k] = v;
  Object.assign(env, { REDIS_URL: redis.url, PARLEY_REDIS_KEY_PREFIX: prefix, PARLEY_C2S_PORT: '0', PARLEY_WS_PORT: '-1', PARLEY_TLS_CERT: file('missing.crt'), PARLEY_TLS_KEY: file('localhost.key') });
  const child = spawn(process.execPath, [main], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  const code = await new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)));
  clearTimeout(timer);
  assert.equal(code, 78, stderr);
  assert.equal(stderr.trim().split('\n').length, 1, `one line: ${stderr}`);
  assert.match(stderr, /^parley gateway: tls\.certFile: cannot read .*missing\.crt \(ENOENT: no such file\)\n$/);
  assert.doesNotMatch(stderr, /\n\s+at /);
});
