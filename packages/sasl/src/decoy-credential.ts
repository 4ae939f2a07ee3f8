// RFC 5802 §7 lets a server hide why authentication failed ("In order to prevent
// information disclosure, the server may substitute the real reason with 'other-error'");
// we go further and do not let an unknown username show at all: for one, the SCRAM
// mechanism answers with a decoy credential and fails at the last step, like a wrong
// password. Its salt is derived from the username with a secret key, so asking twice
// shows the same salt, as it would for a real account.

import { createHmac, randomBytes } from 'node:crypto';
import { isIterationCount, type DecodedCredential } from './credentials.js';
import { DEFAULT_ITERATIONS, SALT_OCTETS } from './derive-credentials.js';
import { SaslError } from './errors.js';
import type { ScramHash } from './scram-crypto.js';

let processSecret: Buffer | undefined;

/**
 * A credential no password matches, stable for (`secret`, `hash`, `username`).
 * @param secret - key for the salt; share one across gateway instances so that they all
 *   show the same decoy salt. Defaults to a random key made once per process.
 * @param iterations - should equal the count real accounts use (default 4096).
 * @throws SaslError `invalid-options` when `iterations` is not a valid count.
 */
export function decoyCredential(
  hash: ScramHash,
  username: string,
  secret: Buffer | undefined,
  iterations = DEFAULT_ITERATIONS,
): DecodedCredential {
  if (!isIterationCount(iterations)) throw new SaslError('invalid-options', 'decoyIterations is not a valid count');
  const key = secret ?? (processSecret ??= randomBytes(32));
  const salt = createHmac('sha256', key).update(`${hash.mechanism}\0${username}`).digest().subarray(0, SALT_OCTETS);
  return { salt, iterations, storedKey: randomBytes(hash.length), serverKey: randomBytes(hash.length) };
}
