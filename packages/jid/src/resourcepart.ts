// RFC 7622 §3.4: a resourcepart is 1 to 1023 octets of UTF-8 (counted after preparation)
// and an instance of the OpaqueString profile of the PRECIS FreeformClass (RFC 8265 §4.2):
// any Unicode text, case preserved, with
//   1. no width mapping;
//   2. additional mapping: non-ASCII spaces (Zs) to U+0020;
//   3. no case mapping;
//   4. normalisation: NFC;
//   5. no directionality rule;
// and every code point in FreeformClass (RFC 8264 §4.3): no controls, unassigned,
// surrogates, private use, ignorables (e.g. U+00AD, U+200B) or old Hangul jamo.
// Separators are ordinary characters here: `/` and `@` may appear (RFC 7622 §3.1).

import { codePointName, JidError } from './errors.js';
import { exceedsUnitBudget, MAX_PART_OCTETS, utf8Length } from './part-length.js';
import { findDisallowed } from './precis-class.js';

const PLAIN_ASCII = /^[\x20-\x7E]+$/;
const NON_ASCII_SPACE = /(?! )\p{Zs}/gu;

function fail(code: 'empty' | 'too-long' | 'disallowed-character', message: string): never {
  throw new JidError(code, 'resourcepart', message);
}

function rejectIfAny(ch: string | undefined): void {
  if (ch !== undefined) fail('disallowed-character', `${codePointName(ch)} is not allowed`);
}

/**
 * Prepares and enforces a resourcepart (RFC 7622 §3.4, OpaqueString of RFC 8265 §4.2),
 * returning its canonical form: non-ASCII spaces mapped to U+0020, NFC, case preserved.
 *
 * @param input - the resourcepart as received, without the leading `/`.
 * @returns the normalised resourcepart, 1..1023 octets of UTF-8.
 * @throws JidError (`part: 'resourcepart'`) with code `empty`, `too-long` (over 1023
 *   octets after preparation) or `disallowed-character` (outside FreeformClass or an unmet
 *   contextual rule).
 */
export function normalizeResourcepart(input: string): string {
  if (input.length === 0) fail('empty', 'must not be empty');
  if (exceedsUnitBudget(input)) fail('too-long', `must not exceed ${MAX_PART_OCTETS} octets`);
  let out = input;
  if (!PLAIN_ASCII.test(input)) {
    rejectIfAny(findDisallowed(input, 'freeform', false));
    out = input.replace(NON_ASCII_SPACE, ' ').normalize('NFC');
    rejectIfAny(findDisallowed(out, 'freeform', true));
  }
  if (utf8Length(out) > MAX_PART_OCTETS) fail('too-long', `must not exceed ${MAX_PART_OCTETS} octets`);
  return out;
}
