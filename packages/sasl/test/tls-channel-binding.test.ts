// Channel binding data from real TLS connections (node:tls on 127.0.0.1) and real
// certificates (openssl): tls-exporter (RFC 9266) equal on both ends and only on TLS 1.3,
// tls-server-end-point (RFC 5929 §4.1) hashed with the certificate's signature hash.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { connect, createServer, type TLSSocket } from 'node:tls';
import { serverEndPointHash, tlsChannelBinding, tlsServerEndPoint } from '@parley/sasl';

const dir = mkdtempSync(join(tmpdir(), 'parley-cb-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A self-signed certificate made by openssl with `keyArgs` and `digest` (e.g. -sha384); returns PEMs and DER. */
function cert(name: string, keyArgs: string[], digest: string[]): { cert: Buffer; key: Buffer; der: Buffer } {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  execFileSync('openssl', ['req', '-x509', ...keyArgs, ...digest, '-nodes', '-days', '1', '-subj', '/CN=localhost', '-keyout', keyFile, '-out', certFile], { stdio: 'ignore' });
  const pem = readFileSync(certFile);
  return { cert: pem, key: readFileSync(keyFile), der: new X509Certificate(pem).raw };
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'];

test('tls-server-end-point uses the signature hash, SHA-256 for SHA-1, none for Ed25519', () => {
  const cases: Array<[string, string[], string[], string | undefined]> = [
    ['rsa-sha256', ['-newkey', 'rsa:2048'], ['-sha256'], 'sha256'],
    ['rsa-sha512', ['-newkey', 'rsa:2048'], ['-sha512'], 'sha512'],
    ['rsa-sha1', ['-newkey', 'rsa:2048'], ['-sha1'], 'sha256'],
    ['ec-sha384', EC, ['-sha384'], 'sha384'],
    ['ec-sha256', EC, ['-sha256'], 'sha256'],
    ['pss-sha384', ['-newkey', 'rsa-pss', '-pkeyopt', 'rsa_keygen_bits:2048'], ['-sha384', '-sigopt', 'rsa_padding_mode:pss'], 'sha384'],
    ['ed25519', ['-newkey', 'ed25519'], [], undefined],
  ];
  for (const [name, key, digest, expected] of cases) {
    const { der } = cert(name, key, digest);
    assert.equal(serverEndPointHash(der), expected, name);
    assert.deepEqual(tlsServerEndPoint(der), expected === undefined ? undefined : createHash(expected).update(der).digest(), name);
  }
  assert.equal(serverEndPointHash(Buffer.from('not a certificate')), undefined);
});

async function pair(creds: { cert: Buffer; key: Buffer }, maxVersion: 'TLSv1.2' | 'TLSv1.3'): Promise<{ server: TLSSocket; client: TLSSocket; close: () => void }> {
  let serverSide: TLSSocket | undefined;
  const srv = createServer({ ...creds, maxVersion }, (s) => (serverSide = s));
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  const client = connect({ host: '127.0.0.1', port, rejectUnauthorized: false });
  await new Promise<void>((resolve, reject) => client.once('secureConnect', resolve).once('error', reject));
  while (!serverSide) await new Promise((r) => setTimeout(r, 5));
  return { server: serverSide, client, close: () => (client.destroy(), serverSide!.destroy(), srv.close()) };
}

test('both ends of a TLS 1.3 connection compute the same data for both types', async () => {
  const creds = cert('live', EC, ['-sha256']);
  const { server, client, close } = await pair(creds, 'TLSv1.3');
  let first: Buffer | undefined;
  try {
    const s = tlsChannelBinding(server, 'server');
    const c = tlsChannelBinding(client, 'client');
    assert.deepEqual([...s.types], ['tls-exporter', 'tls-server-end-point']);
    assert.deepEqual([...c.types], ['tls-exporter', 'tls-server-end-point']);
    assert.equal(s.data('tls-exporter')!.length, 32);
    assert.deepEqual(s.data('tls-exporter'), c.data('tls-exporter'));
    assert.deepEqual(s.data('tls-server-end-point'), createHash('sha256').update(creds.der).digest());
    assert.deepEqual(c.data('tls-server-end-point'), s.data('tls-server-end-point'));
    assert.equal(s.data('tls-unique'), undefined);
    first = s.data('tls-exporter');
  } finally {
    close();
  }
  // Another connection, another exporter value.
  const again = await pair(creds, 'TLSv1.3');
  const { server: s2, close: close2 } = again;
  try {
    const other = tlsChannelBinding(s2, 'server').data('tls-exporter')!;
    assert.equal(other.length, 32);
    assert.notDeepEqual(other, first);
  } finally {
    close2();
  }
});

test('on TLS 1.2 only tls-server-end-point is available', async () => {
  const { server, client, close } = await pair(cert('tls12', ['-newkey', 'rsa:2048'], ['-sha256']), 'TLSv1.2');
  try {
    assert.equal(server.getProtocol(), 'TLSv1.2');
    assert.deepEqual([...tlsChannelBinding(server, 'server').types], ['tls-server-end-point']);
    assert.equal(tlsChannelBinding(client, 'client').data('tls-exporter'), undefined);
  } finally {
    close();
  }
});
