import { X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
// `selfsigned` (npm, maintained, on @peculiar/x509 and WebCrypto) rather than the openssl CLI:
// it works wherever Node does (slim containers have no openssl), needs no child process and
// makes P-256 keys in milliseconds.
import { generate } from 'selfsigned';

/** The certificate and key files of one host. */
export interface HostCertificate {
  host: string;
  certFile: string;
  keyFile: string;
  /** True when it was made by this call (first start), false when an existing one is reused. */
  created: boolean;
  /** SHA-256 fingerprint of the certificate (colon-separated hex), for clients to pin. */
  fingerprint256: string;
  /** End of validity (the certificate's notAfter). */
  validTo: string;
}

/** A host name safe as a file name (domainparts are validated by the configuration already). */
function fileSafe(host: string): string {
  if (!/^[A-Za-z0-9.-]{1,253}$/.test(host)) throw new Error(`cannot make a certificate file name for host ${JSON.stringify(host)}`);
  return host.toLowerCase();
}

/**
 * For each host, `<dir>/<host>.crt` and `<dir>/<host>.key` (PEM): reused when both exist,
 * otherwise a new self-signed certificate is made (P-256 key, SHA-256 signature, subject CN
 * and DNS subjectAltName `<host>` and `*.<host>`, valid `days` days). `dir` is created mode
 * 0700; both files are written mode 0600, like every file of the launcher's data directory
 * (to a temporary name, then renamed, so a crash never leaves half a key).
 * @throws Error when the directory or files cannot be written, or an existing certificate cannot be parsed
 */
export async function ensureSelfSignedCertificates(dir: string, hosts: readonly string[], days = 825): Promise<HostCertificate[]> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const out: HostCertificate[] = [];
  for (const host of hosts) {
    const name = fileSafe(host);
    const certFile = join(dir, `${name}.crt`);
    const keyFile = join(dir, `${name}.key`);
    let created = false;
    if (!existsSync(certFile) || !existsSync(keyFile)) {
      const notBeforeDate = new Date(Date.now() - 60_000);
      const pems = await generate([{ name: 'commonName', value: host }], {
        keyType: 'ec',
        curve: 'P-256',
        algorithm: 'sha256',
        notBeforeDate,
        notAfterDate: new Date(notBeforeDate.getTime() + days * 86_400_000),
        extensions: [
          { name: 'basicConstraints', cA: false },
          { name: 'keyUsage', digitalSignature: true },
          { name: 'extKeyUsage', serverAuth: true },
          { name: 'subjectAltName', altNames: [{ type: 2, value: host }, { type: 2, value: `*.${host}` }] },
        ],
      });
      writeFileSync(`${keyFile}.tmp`, pems.private, { mode: 0o600 });
      renameSync(`${keyFile}.tmp`, keyFile);
      writeFileSync(`${certFile}.tmp`, pems.cert, { mode: 0o600 });
      renameSync(`${certFile}.tmp`, certFile);
      created = true;
    }
    chmodSync(keyFile, 0o600);
    chmodSync(certFile, 0o600); // public, but the data directory keeps every file 0600
    const x509 = new X509Certificate(readFileSync(certFile));
    out.push({ host, certFile, keyFile, created, fingerprint256: x509.fingerprint256, validTo: x509.validTo });
  }
  return out;
}
