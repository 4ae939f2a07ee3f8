import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';

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
