// How PLAIN (RFC 4616) is checked when only SCRAM credentials are stored: recompute
// StoredKey = H(HMAC(Hi(SASLprep(password), salt, i), "Client Key")) (RFC 5802 §3) and
// compare it with the stored one in constant time.

import { timingSafeEqual } from 'node:crypto';
import { decodeCredential, type StoredCredentials } from './credentials.js';
import { SaslError } from './errors.js';
import { preparePassword } from './saslprep.js';
import { deriveKeys, hi, SCRAM_SHA_256 } from './scram-crypto.js';

/**
 * Whether `password` matches the stored SCRAM-SHA-256 credential.
 *
 * @param password - as the client sent it; SASLprep (RFC 4013) is applied here, and a
 *   password SASLprep rejects simply does not match.
 * @throws SaslError `invalid-credential` when the stored credential is malformed.
 */
export async function verifyPassword(creds: StoredCredentials, password: string): Promise<boolean> {
  const cred = decodeCredential(creds['SCRAM-SHA-256'], SCRAM_SHA_256);
  let prepared: string;
  try {
    prepared = preparePassword(password);
  } catch (err) {
    if (err instanceof SaslError) return false;
    throw err;
  }
  const { storedKey } = deriveKeys(SCRAM_SHA_256, await hi(SCRAM_SHA_256, prepared, cred.salt, cred.iterations));
  return timingSafeEqual(storedKey, cred.storedKey);
}
