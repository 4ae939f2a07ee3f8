// RFC 7622 §3.3: a localpart is 1 to 1023 octets of UTF-8 (counted after preparation) and
// an instance of the UsernameCaseMapped profile of the PRECIS IdentifierClass (RFC 8265
// §3.3); §3.3.1 further excludes the characters " & ' / : < > @.
//
// UsernameCaseMapped, in order (RFC 8265 §3.3.1, §3.3.2):
//   1. width mapping: fullwidth and halfwidth code points to their decompositions;
//   2. the string must consist of IdentifierClass code points (RFC 8264 §4.2);
//   3. case mapping: Unicode Default Case Folding (`foldCase`);
//   4. normalisation: NFC;
//   5. directionality: the Bidi Rule of RFC 5893 — NOT implemented, because the
//      JavaScript engine exposes no Bidi_Class data. Right-to-left localparts are accepted
//      without that check.
// Contextual rules are checked on the result of step 4, so that `L·L` (Catalan) folds to
// `l·l` before RFC 5892 A.3 looks at it.

import { foldCase } from './case-fold.js';
import { codePointName, JidError } from './errors.js';
import { exceedsUnitBudget, MAX_PART_OCTETS, utf8Length } from './part-length.js';
import { findDisallowed } from './precis-class.js';

/** ASCII7 (U+0021..U+007E) without the eight characters excluded by RFC 7622 §3.3.1. */
const PLAIN_ASCII = /^[!#-%(-.0-9;=?A-~]+$/;
const EXCLUDED = /["&'/:<>@]/;
/** Code points with a <wide> or <narrow> decomposition (UAX #11), plus unassigned gaps. */
const WIDE_OR_NARROW = /[\u3000\uFF01-\uFFEE]/g;

function fail(code: 'empty' | 'too-long' | 'disallowed-character', message: string): never {
  throw new JidError(code, 'localpart', message);
}

function rejectIfAny(ch: string | undefined): void {
  if (ch !== undefined) fail('disallowed-character', `${codePointName(ch)} is not allowed`);
}

/**
 * Prepares and enforces a localpart (RFC 7622 §3.3, UsernameCaseMapped of RFC 8265 §3.3),
 * returning its canonical form: case-folded and in NFC. This is also how a SASL username
 * becomes the localpart of the account's JID.
 *
 * @param input - the localpart as received, without the `@` separator.
 * @returns the normalised localpart, 1..1023 octets of UTF-8.
 * @throws JidError (`part: 'localpart'`) with code `empty`, `too-long` (over 1023 octets
 *   after preparation) or `disallowed-character` (outside IdentifierClass, an unmet
 *   contextual rule, or one of `" & ' / : < > @`).
 */
export function normalizeLocalpart(input: string): string {
  if (input.length === 0) fail('empty', 'must not be empty');
  if (exceedsUnitBudget(input)) fail('too-long', `must not exceed ${MAX_PART_OCTETS} octets`);
  let out: string;
  if (PLAIN_ASCII.test(input)) {
    out = input.toLowerCase();
  } else {
    const widthMapped = input.replace(WIDE_OR_NARROW, (ch) => ch.normalize('NFKD'));
    rejectIfAny(findDisallowed(widthMapped, 'identifier', false));
    out = foldCase(widthMapped).normalize('NFC');
    rejectIfAny(findDisallowed(out, 'identifier', true));
    rejectIfAny(EXCLUDED.exec(out)?.[0]);
  }
  if (utf8Length(out) > MAX_PART_OCTETS) fail('too-long', `must not exceed ${MAX_PART_OCTETS} octets`);
  return out;
}
