import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { WebSocket } from 'ws';
import { ScramClient, type ScramMechanism } from '@parley/testkit';

/** A self-signed certificate for `localhost` (openssl), in a new temporary directory the caller removes. */
export function selfSignedCert(prefix: string): { dir: string; certFile: string; keyFile: string } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-keyout', keyFile, '-out', certFile], {
    stdio: 'ignore',
  });
  return { dir, certFile, keyFile };
}

/** Collects what a socket receives as text; `waitFor` returns (and clears) it once `re` matches. */
export function textReader(sock: Socket | TLSSocket) {
  let text = '';
  let closed = false;
  sock.on('data', (d: Buffer) => (text += d.toString('utf8')));
  sock.on('close', () => (closed = true));
  return {
    get text() {
      return text;
    },
    get closed() {
      return closed;
    },
    /** @throws Error when `re` does not match within `ms` (default 5000). */
    async waitFor(re: RegExp, ms = 5000): Promise<string> {
      const deadline = Date.now() + ms;
      while (!re.test(text)) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${re}; got: ${text}`);
        await new Promise((r) => setTimeout(r, 10));
      }
      const all = text;
      text = '';
      return all;
    },
  };
}

/**
 * A self-signed certificate for `host` (openssl; subject CN and DNS subjectAltName `host`)
 * written to `certFile`/`keyFile` (overwriting them).
 */
export function writeSelfSignedCert(host: string, certFile: string, keyFile: string): void {
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', `/CN=${host}`, '-addext', `subjectAltName=DNS:${host}`, '-keyout', keyFile, '-out', certFile],
    { stdio: 'ignore' },
  );
}

/** Opens `port` with TLS from the first byte (XEP-0368), sending `servername` as SNI when given. */
export async function directTls(port: number, servername?: string): Promise<TLSSocket> {
  const sock = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...(servername ? { servername } : {}) });
  await new Promise<void>((resolve, reject) => sock.once('secureConnect', () => resolve()).once('error', reject));
  return sock;
}

/**
 * On a plain c2s connection: opens the stream to `domain`, does STARTTLS (RFC 6120 §5.4) with
 * `servername` as SNI (default `domain`), and returns the TLS socket (stream not yet reopened).
 */
export async function startTls(port: number, domain: string, servername = domain): Promise<TLSSocket> {
  const plain = netConnect(port, '127.0.0.1');
  const r = textReader(plain);
  plain.write(streamOpen(domain));
  const features = await r.waitFor(/<\/stream:features>/);
  if (!/<starttls /.test(features)) throw new Error(`no STARTTLS offered: ${features}`);
  plain.write("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
  await r.waitFor(/<proceed xmlns=["']urn:ietf:params:xml:ns:xmpp-tls["']\s*\/>/);
  plain.removeAllListeners('data');
  const secure = tlsConnect({ socket: plain, servername, rejectUnauthorized: false });
  await new Promise<void>((resolve, reject) => secure.once('secureConnect', () => resolve()).once('error', reject));
  return secure;
}

/** An RFC 6120 stream header to `domain`. */
export function streamOpen(domain: string): string {
  return `<?xml version='1.0'?><stream:stream to='${domain}' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>`;
}

const NS_SASL = 'urn:ietf:params:xml:ns:xmpp-sasl';

/**
 * Logs in on a fresh (possibly TLS) socket: opens the stream, authenticates with
 * `mechanism` (PLAIN or SCRAM-SHA-1/-256, checking the server signature), restarts the
 * stream and binds `resource`.
 * @returns the bound full JID and the pre-authentication features
 * @throws Error when a step is refused or times out
 */
export async function saslLogin(
  sock: Socket | TLSSocket,
  opts: { domain: string; user: string; password: string; mechanism: 'PLAIN' | ScramMechanism; resource: string },
): Promise<{ jid: string; features: string; reader: ReturnType<typeof textReader> }> {
  const r = textReader(sock);
  sock.write(streamOpen(opts.domain));
  const features = await r.waitFor(/<\/stream:features>/);
  if (opts.mechanism === 'PLAIN') {
    sock.write(`<auth xmlns='${NS_SASL}' mechanism='PLAIN'>${Buffer.from(`\0${opts.user}\0${opts.password}`).toString('base64')}</auth>`);
    const reply = await r.waitFor(/<success|<failure[\s\S]*<\/failure>|<\/stream:stream>/);
    if (!/<success/.test(reply)) throw new Error(`PLAIN refused: ${reply}`);
  } else {
    const scram = new ScramClient(opts.mechanism, opts.user, opts.password);
    sock.write(`<auth xmlns='${NS_SASL}' mechanism='${opts.mechanism}'>${Buffer.from(scram.first()).toString('base64')}</auth>`);
    const challenge = await r.waitFor(/<\/challenge>|<failure[\s\S]*<\/failure>|<\/stream:stream>/);
    const m = /<challenge[^>]*>([^<]*)<\/challenge>/.exec(challenge);
    if (!m) throw new Error(`SCRAM refused: ${challenge}`);
    const final = await scram.final(Buffer.from(m[1]!, 'base64').toString('utf8'));
    sock.write(`<response xmlns='${NS_SASL}'>${Buffer.from(final).toString('base64')}</response>`);
    const success = await r.waitFor(/<\/success>|<success[^>]*\/>|<failure[\s\S]*<\/failure>|<\/stream:stream>/);
    const s = /<success[^>]*>([^<]*)<\/success>/.exec(success);
    if (!s || !scram.verify(Buffer.from(s[1]!, 'base64').toString('utf8'))) throw new Error(`SCRAM failed or bad server signature: ${success}`);
  }
  sock.write(streamOpen(opts.domain));
  await r.waitFor(/<\/stream:features>/);
  sock.write(`<iq type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>${opts.resource}</resource></bind></iq>`);
  const bound = await r.waitFor(/<\/iq>/);
  const jid = /<jid>([^<]+)<\/jid>/.exec(bound)?.[1];
  if (!jid) throw new Error(`bind failed: ${bound}`);
  return { jid, features, reader: r };
}

/**
 * Opens an RFC 7395 XMPP-over-WebSocket stream to `url` (ws:// or wss://, any certificate
 * accepted) for `domain`: returns the WebSocket, the stream `<open/>` it sent, the first
 * `<stream:features>` frame, a waiter for the next frame matching `re` (5 s) and the
 * underlying socket (for wss, the TLS socket whose channel binding a client uses).
 */
export async function wsOpen(url: string, domain = 'localhost') {
  const ws = new WebSocket(url, 'xmpp', { rejectUnauthorized: false });
  const frames: string[] = [];
  ws.on('message', (d) => frames.push(d.toString()));
  await new Promise<void>((resolve, reject) => ws.once('open', () => resolve()).once('error', reject));
  const next = async (re: RegExp): Promise<string> => {
    const deadline = Date.now() + 5000;
    for (;;) {
      const i = frames.findIndex((f) => re.test(f));
      if (i >= 0) return frames.splice(0, i + 1)[i]!;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${re}; got: ${frames.join('\n')}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  const open = `<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='${domain}' version='1.0'/>`;
  ws.send(open);
  const features = await next(/<stream:features/);
  // ws keeps the underlying socket private.
  const socket = (ws as unknown as { _socket: Socket | TLSSocket })._socket;
  return { ws, open, features, next, socket };
}
