// RFC 5802 §2.2: "Normalize(str): Apply the SASLprep profile [RFC4013] ... When applying
// SASLprep, "str" is treated as a "stored strings", which means that unassigned Unicode
// codepoints are prohibited". SASLprep itself comes from @mongodb-js/saslprep.

import saslprep from '@mongodb-js/saslprep';
import { SaslError } from './errors.js';

/**
 * SASLprep of a password as a stored string (RFC 4013, unassigned code points prohibited):
 * e.g. U+00AD SOFT HYPHEN is removed and U+00A0 NO-BREAK SPACE becomes U+0020.
 * @throws SaslError `password-unusable` when SASLprep fails or the result is empty.
 */
export function preparePassword(password: string): string {
  let prepared: string;
  try {
    prepared = saslprep(password);
  } catch {
    throw new SaslError('password-unusable', 'password is not allowed by SASLprep (RFC 4013)');
  }
  if (prepared === '') throw new SaslError('password-unusable', 'password is empty after SASLprep (RFC 4013)');
  return prepared;
}
