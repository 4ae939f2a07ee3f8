// RFC 7622 §3.2, §3.3 and §3.4: each part of a JID is 1 to 1023 octets of UTF-8.

/** Longest allowed JID part, in octets of UTF-8 (RFC 7622 §3.2, §3.3, §3.4). */
export const MAX_PART_OCTETS = 1023;

/** Length of `s` encoded as UTF-8, in octets. */
export function utf8Length(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/**
 * Guard run before any Unicode processing, so that huge inputs are turned away without
 * being normalised: a part of more than 4 × 1023 UTF-16 code units is rejected as too
 * long. Preparation shrinks text by far less than that (NFC composes at most a few code
 * units into one), except where UTS #46 deletes ignorable code points from a domain
 * (e.g. U+00AD), so only pathological inputs are affected.
 */
export function exceedsUnitBudget(s: string): boolean {
  return s.length > 4 * MAX_PART_OCTETS;
}
