/*
 * TLS by default in the launcher (issue #14 item 1): on first start it makes a self-signed
 * certificate per configured host in <data-dir>/certs (files 0600, directory 0700) and gives
 * it to the gateways: STARTTLS is offered on c2s and a XEP-0368 direct TLS port opens, while
 * plain-TCP clients (tests, load generator) still log in. The next start reuses the same
 * certificate. `--no-tls` turns it off.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, lstatSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@parley/testkit';
import { spawnLauncher } from './support/launcher.js';
import { directTls, saslLogin, startTls, streamOpen, textReader } from './support/tls.js';

const root = mkdtempSync(join(tmpdir(), 'parley-launcher-tls-'));
const dataDir = join(root, 'data');
let launcher: ChildProcess | undefined;

after(() => {
  if (launcher && launcher.exitCode === null && launcher.signalCode === null) launcher.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  await exited;
}

async function launch(extra: string[]): Promise<{ line: string; output: string[]; c2s: number; direct: number }> {
  const c2s = await freePort();
  const direct = await freePort();
  const started = spawnLauncher(['--gateways', '1', '--workers', '0', '--no-admin', '--open-auth', '--c2s-port', String(c2s), '--ws-port', String(await freePort()),
    '--direct-tls-port', String(direct), '--data-dir', dataDir, '--json', ...extra]);
  launcher = started.child;
  return { line: await started.ready, output: started.output, c2s, direct };
}

test('first start makes a certificate; STARTTLS and direct TLS use it; plain TCP still works; the next start reuses it', async () => {
  const first = await launch([]);
  assert.match(first.line, new RegExp(`directtls=${first.direct}\\b`), first.line);
  const certFile = join(dataDir, 'certs', 'localhost.crt');
  const keyFile = join(dataDir, 'certs', 'localhost.key');
  assert.ok(first.output.some((l) => l.includes('made a new self-signed certificate for localhost')), first.output.join('\n'));
  assert.equal(lstatSync(keyFile).mode & 0o777, 0o600, 'key file 0600');
  assert.equal(lstatSync(join(dataDir, 'certs')).mode & 0o777, 0o700, 'certificate directory 0700');
  const x509 = new X509Certificate(readFileSync(certFile));
  assert.match(x509.subjectAltName ?? '', /DNS:localhost/);

  const st = await startTls(first.c2s, 'localhost');
  assert.equal(st.getPeerCertificate().fingerprint256, x509.fingerprint256, 'STARTTLS serves the made certificate');
  assert.equal((await saslLogin(st, { domain: 'localhost', user: 'ltls', password: 'any', mechanism: 'PLAIN', resource: 'st' })).jid, 'ltls@localhost/st');
  st.destroy();
  const d = await directTls(first.direct, 'localhost');
  assert.equal(d.getPeerCertificate().fingerprint256, x509.fingerprint256, 'direct TLS serves the made certificate');
  d.destroy();
  // TLS is offered, not required: a plain-TCP client logs in as before (open auth allows PLAIN).
  const plain = netConnect(first.c2s, '127.0.0.1');
  const login = await saslLogin(plain, { domain: 'localhost', user: 'ltls', password: 'any', mechanism: 'PLAIN', resource: 'plain' });
  assert.match(login.features, /<starttls xmlns=["']urn:ietf:params:xml:ns:xmpp-tls["']\/>/, 'STARTTLS offered, not required');
  plain.destroy();
  await stop(launcher!);

  const second = await launch([]);
  assert.ok(second.output.some((l) => l.includes('reusing the self-signed certificate for localhost')), second.output.join('\n'));
  const again = await directTls(second.direct, 'localhost');
  assert.equal(again.getPeerCertificate().fingerprint256, x509.fingerprint256, 'the same certificate after a restart');
  again.destroy();
  await stop(launcher!);
});

test('--no-tls: no STARTTLS, no direct TLS port', async () => {
  rmSync(join(dataDir, 'certs'), { recursive: true, force: true });
  const run = await launch(['--no-tls']);
  assert.doesNotMatch(run.line, /directtls=/);
  assert.equal(existsSync(join(dataDir, 'certs')), false, 'no certificate made');
  const sock = netConnect(run.c2s, '127.0.0.1');
  const r = textReader(sock);
  sock.write(streamOpen('localhost'));
  assert.doesNotMatch(await r.waitFor(/<\/stream:features>/), /<starttls/);
  sock.destroy();
  await stop(launcher!);
});
