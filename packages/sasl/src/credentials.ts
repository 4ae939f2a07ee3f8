// RFC 5802 §3 / RFC 5803: what a server stores instead of a password: salt, iteration
// count, StoredKey and ServerKey. They let the server verify a client and prove itself,
// but not impersonate the user to another server with a different salt.

import { SaslError } from './errors.js';
import type { ScramHash } from './scram-crypto.js';

/** One SCRAM credential; binary values are base64 (RFC 4648 §4, padded). */
export interface ScramCredential {
  /** Salt, base64. */
  salt: string;
  /** PBKDF2 iteration count (RFC 7677 §4: at least 4096). */
  iterations: number;
  /** H(ClientKey), base64: 20 octets for SHA-1, 32 for SHA-256. */
  storedKey: string;
  /** HMAC(SaltedPassword, "Server Key"), base64. */
  serverKey: string;
}

/** The credentials of one account, one per supported SCRAM hash, each with its own salt. */
export interface StoredCredentials {
  'SCRAM-SHA-1': ScramCredential;
  'SCRAM-SHA-256': ScramCredential;
}

/** A `ScramCredential` with its binary values decoded. */
export interface DecodedCredential {
  salt: Buffer;
  iterations: number;
  storedKey: Buffer;
  serverKey: Buffer;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Largest iteration count node:crypto's pbkdf2 accepts. */
export const MAX_ITERATIONS = 2 ** 31 - 1;

export function isIterationCount(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= MAX_ITERATIONS;
}

/** Strict base64 (padded, standard alphabet) to bytes, or undefined. */
export function decodeBase64(s: string): Buffer | undefined {
  return BASE64.test(s) ? Buffer.from(s, 'base64') : undefined;
}

/**
 * Decodes and checks a stored credential for `hash`.
 * @throws SaslError `invalid-credential` when it is not well formed.
 */
export function decodeCredential(cred: ScramCredential, hash: ScramHash): DecodedCredential {
  const salt = typeof cred.salt === 'string' ? decodeBase64(cred.salt) : undefined;
  const storedKey = typeof cred.storedKey === 'string' ? decodeBase64(cred.storedKey) : undefined;
  const serverKey = typeof cred.serverKey === 'string' ? decodeBase64(cred.serverKey) : undefined;
  if (
    salt === undefined ||
    salt.length === 0 ||
    storedKey?.length !== hash.length ||
    serverKey?.length !== hash.length ||
    !isIterationCount(cred.iterations)
  ) {
    throw new SaslError('invalid-credential', `stored ${hash.mechanism} credential is malformed`);
  }
  return { salt, iterations: cred.iterations, storedKey, serverKey };
}
