// `checkCertificate` of `xmppctl check` (services/gateway/src/xmppctl/check.ts) at chosen
// times: valid, within 14 days of expiry (WARN), expired and not yet valid (FAIL), a key of
// another certificate, unreadable files, and the host name check (RFC 6125) for per-host
// certificates. The certificates come from the openssl CLI, as the TLS integration tests'.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { checkCertificate } from '../src/xmppctl/check.js';

let dir: string;
let cert: string;
let key: string;
let otherKey: string;
let from: number;
let to: number;
const DAY = 86_400_000;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'parley-check-unit-'));
  cert = join(dir, 'cert.pem');
  key = join(dir, 'key.pem');
  otherKey = join(dir, 'other-key.pem');
  const make = (c: string, k: string) =>
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '90', '-subj', '/CN=chat.example', '-addext', 'subjectAltName=DNS:chat.example', '-keyout', k, '-out', c], { stdio: 'ignore' });
  make(cert, key);
  make(join(dir, 'other-cert.pem'), otherKey);
  const x = new X509Certificate(readFileSync(cert));
  from = Date.parse(x.validFrom);
  to = Date.parse(x.validTo);
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('a valid certificate with its key, naming its host: ok', () => {
  const [f, ...rest] = checkCertificate(cert, key, from + DAY, 'chat.example');
  assert.deepEqual(rest, []);
  assert.equal(f!.level, 'ok');
  assert.equal(f!.subject, 'certificate chat.example');
  assert.match(f!.detail, /valid until \d{4}-\d\d-\d\dT/);
});

test('expiry: WARN within 14 days, FAIL once expired or before notBefore', () => {
  assert.deepEqual(checkCertificate(cert, key, to - 3 * DAY).map((f) => f.level), ['WARN']);
  assert.match(checkCertificate(cert, key, to - 3 * DAY)[0]!.detail, /expires on/);
  assert.deepEqual(checkCertificate(cert, key, to - 20 * DAY).map((f) => f.level), ['ok']);
  const expired = checkCertificate(cert, key, to + 1);
  assert.deepEqual(expired.map((f) => f.level), ['FAIL']);
  assert.match(expired[0]!.detail, /expired on/);
  const early = checkCertificate(cert, key, from - DAY);
  assert.deepEqual(early.map((f) => f.level), ['FAIL']);
  assert.match(early[0]!.detail, /not valid before/);
});

test('the key of another certificate, a missing file, a file that is no PEM: FAIL', () => {
  const wrongKey = checkCertificate(cert, otherKey, from + DAY);
  assert.deepEqual(wrongKey.map((f) => f.level), ['FAIL']);
  assert.match(wrongKey[0]!.detail, /is not the private key of/);
  assert.match(checkCertificate(join(dir, 'nope.pem'), key, from + DAY)[0]!.detail, /ENOENT/);
  assert.equal(checkCertificate(cert, join(dir, 'nope.pem'), from + DAY)[0]!.level, 'FAIL');
  const junk = join(dir, 'junk.pem');
  writeFileSync(junk, 'hello\n');
  assert.equal(checkCertificate(junk, key, from + DAY)[0]!.level, 'FAIL');
  assert.equal(checkCertificate(cert, junk, from + DAY)[0]!.level, 'FAIL');
});

test('a per-host certificate that does not name its host: WARN', () => {
  const found = checkCertificate(cert, key, from + DAY, 'other.example');
  assert.deepEqual(found.map((f) => f.level), ['WARN']);
  assert.match(found[0]!.detail, /does not name other\.example/);
});
