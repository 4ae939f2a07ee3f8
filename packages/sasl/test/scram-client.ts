// Test helper, not a test: a minimal SCRAM client written straight from RFC 5802 §3 on
// node:crypto, independent of the package's own code, to drive the server mechanisms.
import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';

export type Hash = 'sha1' | 'sha256';

export interface ClientFinal {
  /** client-final-message */
  message: string;
  /** The server-final-message the client expects on success. */
  expectedServerFinal: string;
}

/** Escapes ',' and '=' in a username (RFC 5802 §5.1). */
export function saslname(name: string): string {
  return name.replace(/=/g, '=3D').replace(/,/g, '=2C');
}

/** Builds client-final-message from client-first-message and server-first-message. */
export function clientFinal(
  hash: Hash,
  password: string,
  clientFirst: string,
  serverFirst: string,
  opts: { channelBinding?: string; nonce?: string; extensions?: string } = {},
): ClientFinal {
  const attrs = Object.fromEntries(serverFirst.split(',').map((a) => [a[0], a.slice(2)]));
  const gs2Header = clientFirst.slice(0, clientFirst.indexOf(',', clientFirst.indexOf(',') + 1) + 1);
  const bare = clientFirst.slice(gs2Header.length);
  const salted = pbkdf2Sync(password, Buffer.from(attrs.s!, 'base64'), Number(attrs.i), hash === 'sha1' ? 20 : 32, hash);
  const hmac = (key: Buffer, data: string): Buffer => createHmac(hash, key).update(data).digest();
  const clientKey = hmac(salted, 'Client Key');
  const storedKey = createHash(hash).update(clientKey).digest();
  const cb = opts.channelBinding ?? Buffer.from(gs2Header).toString('base64');
  const withoutProof = `c=${cb},r=${opts.nonce ?? attrs.r}${opts.extensions ?? ''}`;
  const authMessage = `${bare},${serverFirst},${withoutProof}`;
  const signature = hmac(storedKey, authMessage);
  const proof = Buffer.from(clientKey.map((b, i) => b ^ signature[i]!));
  const serverSignature = hmac(hmac(salted, 'Server Key'), authMessage);
  return {
    message: `${withoutProof},p=${proof.toString('base64')}`,
    expectedServerFinal: `v=${serverSignature.toString('base64')}`,
  };
}
