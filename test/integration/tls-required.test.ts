/*
 * TLS on every transport (issue #10 item 7):
 * - tls.required with a plain ws:// listener, or without a certificate, is a configuration
 *   error: the gateway exits 78 before listening (WebSocket has no STARTTLS, RFC 7395 §3.8);
 * - with tls.required and tls.wss, c2s offers only <starttls><required/></starttls>; SASL before
 *   STARTTLS gets <encryption-required/> and a policy-violation stream error (RFC 6120 §5.3.1,
 *   §6.5.3); WebSocket is wss:// only, where PLAIN and SCRAM work;
 * - data sent after <starttls/> in the same write, before the TLS handshake, is discarded
 *   (RFC 6120 §5.4.3.3), not acted on after the upgrade (STARTTLS command injection).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { WebSocket } from 'ws';
import { freePort, repoRoot, startGateway, startRedis, xmppctl, ScramClient, type GatewayProcess, type RedisServer } from '@parley/testkit';
import { selfSignedCert, textReader } from './support/tls.js';

let redis: RedisServer;
let required: GatewayProcess;
let optional: GatewayProcess;
let certDir: string;
let cert: { PARLEY_TLS_CERT: string; PARLEY_TLS_KEY: string };
const prefix = `t${process.pid}tlsreq:`;

const HEADER = "<?xml version='1.0'?><stream:stream to='localhost' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>";
const NS_SASL = 'urn:ietf:params:xml:ns:xmpp-sasl';


before(async () => {
  const made = selfSignedCert('parley-tlsreq-');
  certDir = made.dir;
  cert = { PARLEY_TLS_CERT: made.certFile, PARLEY_TLS_KEY: made.keyFile };
  redis = await startRedis();
  [required, optional] = await Promise.all([
    startGateway({ redisUrl: redis.url, keyPrefix: prefix, env: { ...cert, PARLEY_TLS_REQUIRED: 'true', PARLEY_TLS_WSS: 'true' } }),
    startGateway({ redisUrl: redis.url, keyPrefix: prefix, env: { ...cert, PARLEY_AUTH_BACKEND: 'open-insecure-test-only' } }),
  ]);
  const r = await xmppctl(['user', 'add', 'tls-user@localhost'], { redisUrl: redis.url, keyPrefix: prefix, stdin: 'tls-pw\n' });
  assert.equal(r.code, 0, r.stderr);
});

after(async () => {
  await Promise.all([required?.stop(), optional?.stop()]);
  await redis?.stop();
  rmSync(certDir, { recursive: true, force: true });
});

/** The test's environment without PARLEY_* / REDIS_URL, plus `vars`. */
function childEnv(vars: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PARLEY_') && k !== 'REDIS_URL') env[k] = v;
  return { ...env, ...vars };
}

/** Runs the gateway entry point with `env` until it exits; resolves with its exit code and stderr. */
async function gatewayExit(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const main = join(repoRoot(), 'services', 'gateway', 'dist', 'main.js');
  const child = spawn(process.execPath, [main], {
    env: childEnv({ REDIS_URL: redis.url, PARLEY_REDIS_KEY_PREFIX: prefix, PARLEY_C2S_PORT: '0', PARLEY_WS_PORT: String(await freePort()), ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  const code = await new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)));
  clearTimeout(timer);
  return { code, stderr };
}

test('tls.required with a plain ws:// listener, or without a certificate, refuses to start (exit 78)', async () => {
  const ws = await gatewayExit({ ...cert, PARLEY_TLS_REQUIRED: 'true' });
  assert.equal(ws.code, 78, ws.stderr);
  assert.match(ws.stderr, /tls\.required with a plain ws:\/\/ listener/);
  const noCert = await gatewayExit({ PARLEY_TLS_REQUIRED: 'true', PARLEY_WS_PORT: '-1' });
  assert.equal(noCert.code, 78, noCert.stderr);
  assert.match(noCert.stderr, /tls\.required needs tls\.certFile and tls\.keyFile/);
  const wssNoCert = await gatewayExit({ PARLEY_TLS_WSS: 'true' });
  assert.equal(wssNoCert.code, 78, wssNoCert.stderr);
});

test('tls.required on c2s: only STARTTLS is offered; SASL first gets encryption-required and policy-violation', async () => {
  for (const mechanism of ['SCRAM-SHA-256', 'PLAIN']) {
    const sock = netConnect(required.c2sPort, '127.0.0.1');
    const r = textReader(sock);
    sock.write(HEADER);
    const features = await r.waitFor(/<\/stream:features>/);
    assert.match(features, /<starttls xmlns=["']urn:ietf:params:xml:ns:xmpp-tls["']><required\/><\/starttls>/);
    assert.doesNotMatch(features, /<mechanisms/, 'no mechanism before TLS');
    const initial = mechanism === 'PLAIN' ? Buffer.from('\0tls-user\0tls-pw').toString('base64') : Buffer.from(new ScramClient('SCRAM-SHA-256', 'tls-user', 'tls-pw').first()).toString('base64');
    sock.write(`<auth xmlns='${NS_SASL}' mechanism='${mechanism}'>${initial}</auth>`);
    const reply = await r.waitFor(/<\/stream:stream>/);
    assert.match(reply, /<failure xmlns=["']urn:ietf:params:xml:ns:xmpp-sasl["']><encryption-required\/><\/failure>/, mechanism);
    assert.match(reply, /<stream:error><policy-violation xmlns=["']urn:ietf:params:xml:ns:xmpp-streams["']\/>/, mechanism);
    assert.doesNotMatch(reply, /<challenge|<success/);
    sock.destroy();
  }
});

/** Opens an XMPP-over-WebSocket connection; resolves with helpers to send and await frames. */
async function wsClient(url: string) {
  const ws = new WebSocket(url, 'xmpp', { rejectUnauthorized: false });
  const frames: string[] = [];
  ws.on('message', (d) => frames.push(d.toString()));
  await new Promise<void>((resolve, reject) => ws.once('open', () => resolve()).once('error', reject));
  return {
    ws,
    send: (s: string) => ws.send(s),
    async next(re: RegExp, ms = 5000): Promise<string> {
      const deadline = Date.now() + ms;
      for (;;) {
        const i = frames.findIndex((f) => re.test(f));
        if (i >= 0) return frames.splice(0, i + 1)[i]!;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${re}; got: ${frames.join('\n')}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
  };
}

const OPEN = "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='localhost' version='1.0'/>";

test('tls.required with tls.wss: WebSocket is wss:// only, and PLAIN/SCRAM work there', async () => {
  await assert.rejects(
    new Promise<void>((resolve, reject) => {
      const plain = new WebSocket(`ws://127.0.0.1:${required.wsPort}/xmpp-websocket`, 'xmpp');
      plain.once('open', () => {
        plain.close();
        resolve();
      });
      plain.once('error', reject);
    }),
    'a plain ws:// upgrade to the wss:// listener fails',
  );
  const c = await wsClient(`wss://127.0.0.1:${required.wsPort}/xmpp-websocket`);
  c.send(OPEN);
  const features = await c.next(/<stream:features/);
  assert.match(features, /<mechanism>PLAIN<\/mechanism>/, 'wss is encrypted: PLAIN is offered');
  assert.match(features, /<mechanism>SCRAM-SHA-256<\/mechanism>/);
  c.send(`<auth xmlns='${NS_SASL}' mechanism='PLAIN'>${Buffer.from('\0tls-user\0tls-pw').toString('base64')}</auth>`);
  await c.next(/<success/);
  c.send(OPEN);
  await c.next(/<stream:features/);
  c.send("<iq type='set' id='b' xmlns='jabber:client'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>wss</resource></bind></iq>");
  assert.match(await c.next(/<iq/), /<jid>tls-user@localhost\/wss<\/jid>/);
  c.ws.close();
});

test('elements sent after <starttls/> before the handshake are discarded, not processed after the upgrade', async () => {
  const plain = netConnect(optional.c2sPort, '127.0.0.1');
  const r1 = textReader(plain);
  plain.write(HEADER);
  await r1.waitFor(/<\/stream:features>/);
  // A man in the middle (or a broken client) appends commands in clear after <starttls/>.
  const injected = `<auth xmlns='${NS_SASL}' mechanism='PLAIN'>${Buffer.from('\0injected\0pw').toString('base64')}</auth>` +
    "<iq type='get' id='injected-iq'><query xmlns='jabber:iq:version'/></iq>";
  plain.write(`<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>${injected}`);
  await r1.waitFor(/<proceed xmlns=["']urn:ietf:params:xml:ns:xmpp-tls["']\s*\/>/);
  plain.removeAllListeners('data');
  const secure = tlsConnect({ socket: plain, servername: 'localhost', rejectUnauthorized: false });
  await new Promise<void>((resolve, reject) => secure.once('secureConnect', () => resolve()).once('error', reject));
  const r2 = textReader(secure);
  // Give a queued injected element time to be (wrongly) handled before the new header.
  await new Promise((res) => setTimeout(res, 300));
  secure.write(HEADER);
  const features = await r2.waitFor(/<\/stream:features>/);
  assert.match(features, /<mechanism>PLAIN<\/mechanism>/);
  await new Promise((res) => setTimeout(res, 300));
  assert.doesNotMatch(r2.text + features, /<success|<failure|<stream:error|injected-iq/, 'nothing injected was acted on');
  assert.equal(r2.closed, false, 'the stream is still open');
  // The legitimate exchange goes on normally on the encrypted stream.
  secure.write(`<auth xmlns='${NS_SASL}' mechanism='PLAIN'>${Buffer.from('\0real-user\0pw').toString('base64')}</auth>`);
  await r2.waitFor(/<success xmlns=["']urn:ietf:params:xml:ns:xmpp-sasl["']/);
  secure.write(HEADER);
  await r2.waitFor(/<\/stream:features>/);
  secure.write("<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>r</resource></bind></iq>");
  assert.match(await r2.waitFor(/<\/iq>/), /<jid>real-user@localhost\/r<\/jid>/);
  secure.destroy();
});
