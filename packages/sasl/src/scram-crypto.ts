// RFC 5802 §2.2 and §3: the SCRAM functions, over node:crypto.
//   SaltedPassword := Hi(Normalize(password), salt, i)   (Hi is PBKDF2 with HMAC-H)
//   ClientKey := HMAC(SaltedPassword, "Client Key");  StoredKey := H(ClientKey)
//   ServerKey := HMAC(SaltedPassword, "Server Key")
// RFC 7677 swaps SHA-1 for SHA-256.

import { createHash, createHmac, pbkdf2 } from 'node:crypto';

/** A SCRAM hash function: its mechanism name, node:crypto algorithm and output length. */
export interface ScramHash {
  readonly mechanism: 'SCRAM-SHA-1' | 'SCRAM-SHA-256';
  readonly algorithm: 'sha1' | 'sha256';
  /** Output length in octets. */
  readonly length: number;
}

export const SCRAM_SHA_1: ScramHash = { mechanism: 'SCRAM-SHA-1', algorithm: 'sha1', length: 20 };
export const SCRAM_SHA_256: ScramHash = { mechanism: 'SCRAM-SHA-256', algorithm: 'sha256', length: 32 };

/** Hi(str, salt, i): PBKDF2-HMAC-H with one block of output, on the thread pool. */
export function hi(hash: ScramHash, password: string, salt: Buffer, iterations: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    pbkdf2(Buffer.from(password, 'utf8'), salt, iterations, hash.length, hash.algorithm, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

export function hmac(hash: ScramHash, key: Buffer, data: string | Buffer): Buffer {
  return createHmac(hash.algorithm, key).update(data).digest();
}

export function h(hash: ScramHash, data: Buffer): Buffer {
  return createHash(hash.algorithm).update(data).digest();
}

export function xor(a: Buffer, b: Buffer): Buffer {
  const out = Buffer.alloc(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}

/** StoredKey and ServerKey from SaltedPassword (RFC 5802 §3). */
export function deriveKeys(hash: ScramHash, saltedPassword: Buffer): { storedKey: Buffer; serverKey: Buffer } {
  return {
    storedKey: h(hash, hmac(hash, saltedPassword, 'Client Key')),
    serverKey: hmac(hash, saltedPassword, 'Server Key'),
  };
}
