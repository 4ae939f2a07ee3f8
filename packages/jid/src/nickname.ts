// RFC 8266: the Nickname profile of the PRECIS FreeformClass, used for XEP-0045 room
// nicks. Enforcement (RFC 8266 §2.3), in order:
//   1. no width mapping rule (NFKC below does it);
//   2. additional mapping: (a) non-ASCII spaces (Zs) to U+0020, (b) leading and trailing
//      U+0020 removed, (c) interior runs of U+0020 collapsed to one;
//   3. no case mapping (it is part of comparison only);
//   4. normalisation: NFKC;
//   5. no directionality rule;
// every code point in FreeformClass (RFC 8264 §4.3), and the result not empty. Comparison
// (RFC 8266 §2.4) applies the same rules with the case mapping of Unicode toLowerCase
// before normalisation, so `Alice`, `alice` and `ａｌｉｃｅ` (fullwidth) compare equal.
// RFC 8264 §7: the rules are applied until the result no longer changes (NFKC can produce
// spaces, e.g. U+00A8 DIAERESIS becomes U+0020 U+0308); a string a third application still
// changes is rejected.
// A room nick is also the resourcepart of an occupant JID (RFC 7622 §3.4), so the enforced
// form is limited to 1023 octets of UTF-8.

import { codePointName, JidError } from './errors.js';
import { exceedsUnitBudget, MAX_PART_OCTETS, utf8Length } from './part-length.js';
import { findDisallowed } from './precis-class.js';

/** Printable ASCII words separated by single spaces: already enforced, nothing to map. */
const PLAIN_ASCII = /^[\x21-\x7E]+(?: [\x21-\x7E]+)*$/;
const NON_ASCII_SPACE = /(?! )\p{Zs}/gu;
const SPACE_RUNS = / {2,}/g;

function fail(code: 'empty' | 'too-long' | 'disallowed-character', message: string): never {
  throw new JidError(code, 'resourcepart', `nickname ${message}`);
}

function mapOnce(s: string, lower: boolean): string {
  let out = s.replace(NON_ASCII_SPACE, ' ').trim().replace(SPACE_RUNS, ' ');
  if (lower) out = out.toLowerCase();
  return out.normalize('NFKC');
}

function prepare(input: string, lower: boolean): string {
  if (input.length === 0) fail('empty', 'must not be empty');
  if (exceedsUnitBudget(input)) fail('too-long', `must not exceed ${MAX_PART_OCTETS} octets`);
  if (PLAIN_ASCII.test(input)) {
    if (input.length > MAX_PART_OCTETS) fail('too-long', `must not exceed ${MAX_PART_OCTETS} octets`);
    return lower ? input.toLowerCase() : input;
  }
  // RFC 8266 §2.2 (preparation): FreeformClass code points only, checked before mapping.
  const bad = findDisallowed(input, 'freeform', false);
  if (bad !== undefined) fail('disallowed-character', `${codePointName(bad)} is not allowed`);
  let out = input;
  for (let i = 0; ; i++) {
    const next = mapOnce(out, lower);
    if (next === out) break;
    // A third application that still changes the string: rejected (RFC 8264 §7).
    if (i === 2) fail('disallowed-character', 'is not stable under the rules of RFC 8266 (RFC 8264 §7)');
    out = next;
  }
  if (out.length === 0) fail('empty', 'must not be empty or consist only of spaces');
  const after = findDisallowed(out, 'freeform', true);
  if (after !== undefined) fail('disallowed-character', `${codePointName(after)} is not allowed`);
  if (utf8Length(out) > MAX_PART_OCTETS) fail('too-long', `must not exceed ${MAX_PART_OCTETS} octets`);
  return out;
}

/**
 * Enforces the RFC 8266 Nickname profile (§2.3): non-ASCII spaces mapped to U+0020,
 * leading and trailing spaces removed, interior runs of spaces collapsed, NFKC. Case is
 * kept: this is the form to display (e.g. in an occupant JID).
 *
 * @param input - the nickname as received (e.g. the resourcepart of an occupant JID).
 * @returns the enforced nickname, 1..1023 octets of UTF-8.
 * @throws JidError (`part: 'resourcepart'`, condition `jid-malformed`) with code `empty`
 *   (nothing left, e.g. only spaces), `too-long` or `disallowed-character` (outside
 *   FreeformClass, an unmet contextual rule, or unstable under the rules).
 */
export function enforceNickname(input: string): string {
  return prepare(input, false);
}

/**
 * The comparison form of a nickname (RFC 8266 §2.4): the enforcement rules with Unicode
 * toLowerCase applied before NFKC. Two nicknames are the same nick exactly when their
 * comparison forms are equal (`Alice`, `alice`, `ａｌｉｃｅ` all give `alice`).
 *
 * @throws JidError as {@link enforceNickname}.
 */
export function nicknameKey(input: string): string {
  return prepare(input, true);
}

/** {@link enforceNickname} and {@link nicknameKey} together; undefined when the nickname is not acceptable. */
export function tryNickname(input: string): { nick: string; key: string } | undefined {
  try {
    const nick = prepare(input, false);
    return { nick, key: prepare(nick, true) };
  } catch (err) {
    if (err instanceof JidError) return undefined;
    throw err;
  }
}
