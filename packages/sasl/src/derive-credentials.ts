// RFC 5802 §3 and §5.1, RFC 7677 §3: deriving stored credentials from a password, with a
// fresh random salt per hash.

import { randomBytes } from 'node:crypto';
import { isIterationCount, MAX_ITERATIONS, type ScramCredential, type StoredCredentials } from './credentials.js';
import { SaslError } from './errors.js';
import { preparePassword } from './saslprep.js';
import { deriveKeys, hi, SCRAM_SHA_1, SCRAM_SHA_256, type ScramHash } from './scram-crypto.js';

/** Iterations used when none are given; RFC 7677 §4 asks for at least 4096. */
export const DEFAULT_ITERATIONS = 4096;
/** Length of a generated salt, in octets. */
export const SALT_OCTETS = 16;

async function derive(hash: ScramHash, password: string, salt: Buffer, iterations: number): Promise<ScramCredential> {
  const { storedKey, serverKey } = deriveKeys(hash, await hi(hash, password, salt, iterations));
  return {
    salt: salt.toString('base64'),
    iterations,
    storedKey: storedKey.toString('base64'),
    serverKey: serverKey.toString('base64'),
  };
}

/**
 * Derives the SCRAM-SHA-1 and SCRAM-SHA-256 credentials to store for a password. PBKDF2
 * runs on the libuv thread pool, so the event loop is not blocked.
 *
 * @param password - the password as typed; SASLprep (RFC 4013) is applied here.
 * @param opts.iterations - PBKDF2 iteration count, 1..2^31-1 (default 4096).
 * @param opts.salt - a fixed, non-empty salt used for both hashes (for test vectors);
 *   by default each hash gets its own 16 random octets.
 * @throws SaslError `password-unusable` when SASLprep rejects the password or leaves it
 *   empty; `invalid-options` for a bad iteration count or an empty salt.
 */
export async function deriveCredentials(
  password: string,
  opts: { iterations?: number; salt?: Buffer } = {},
): Promise<StoredCredentials> {
  const iterations = opts.iterations ?? DEFAULT_ITERATIONS;
  if (!isIterationCount(iterations)) {
    throw new SaslError('invalid-options', `iterations must be an integer from 1 to ${MAX_ITERATIONS}`);
  }
  if (opts.salt !== undefined && opts.salt.length === 0) throw new SaslError('invalid-options', 'salt must not be empty');
  const prepared = preparePassword(password);
  const [sha1, sha256] = await Promise.all([
    derive(SCRAM_SHA_1, prepared, opts.salt ?? randomBytes(SALT_OCTETS), iterations),
    derive(SCRAM_SHA_256, prepared, opts.salt ?? randomBytes(SALT_OCTETS), iterations),
  ]);
  return { 'SCRAM-SHA-1': sha1, 'SCRAM-SHA-256': sha256 };
}
