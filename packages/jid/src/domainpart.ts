// RFC 7622 §3.2: the domainpart, the only required part of a JID, is an IP-literal
// (RFC 3986 §3.2.2; IPv6 here), an IPv4address, or a domain name, 1 to 1023 octets long.
// A final label separator (dot) must be stripped before the JID is used: one dot only.
// §3.2.1: a domain name may hold only what NR-LDH labels and U-labels allow, with A-labels
// converted to U-labels; §3.2.2: enforcement applies the normalisation, case-mapping and
// width-mapping rules of RFC 5892.
//
// Domain names go through Node's built-in IDNA (`url.domainToASCII`, UTS #46
// non-transitional processing, which maps case, width and compatibility forms and checks
// the IDNA2008 validity criteria), then back with `url.domainToUnicode`, so the canonical
// form is lowercase U-labels: `EXAMPLE.com` → `example.com`, `xn--bcher-kva.de` →
// `bücher.de`. (Names of plain ASCII letters, digits, dots and hyphens without A-labels,
// which IDNA would only lowercase, skip the round trip.) Node's URL host parser is lenient about ASCII, so this file adds the LDH
// rule itself: ASCII letters, digits and hyphens, no hyphen at either end of a label
// (labels with `--` in positions 3–4 other than A-labels are tolerated), labels of at most
// 63 octets as A-labels, and no all-numeric last label (that is what an IPv4 address in
// short or hexadecimal form looks like to the URL parser).

import { domainToASCII, domainToUnicode } from 'node:url';
import { codePointName, JidError } from './errors.js';
import { exceedsUnitBudget, MAX_PART_OCTETS, utf8Length } from './part-length.js';

const DEC_OCTET = '(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])';
/** IPv4address of RFC 3986 §3.2.2: four decimal octets, no leading zeros. */
const IPV4 = new RegExp(`^${DEC_OCTET}(?:\\.${DEC_OCTET}){3}$`);
const IPV6_TEXT = /^[0-9A-Fa-f:.]+$/;
/** ASCII other than letters, digits, `-` and `.`. */
const NOT_LDH = /[\x00-\x2C\x2F\x3A-\x40\x5B-\x60\x7B-\x7F]/;
const LDH_LABEL = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;
const NUMERIC = /^[0-9]+$/;
const LDH_TEXT = /^[A-Za-z0-9.-]+$/;
const A_LABEL = /(?:^|\.)xn--/i;
const MAX_LABEL_OCTETS = 63;

function fail(code: 'empty' | 'too-long' | 'invalid-domain', message: string): never {
  throw new JidError(code, 'domainpart', message);
}

/** `[IPv6address]`, returned in the RFC 5952 text form (lowercase, zeros compressed). */
function ipv6Literal(input: string): string {
  if (!input.endsWith(']')) fail('invalid-domain', 'unterminated IP literal');
  const address = input.slice(1, -1);
  // Also turns away IPvFuture (`[v1.…]`) and zone identifiers (`%eth0`).
  if (!IPV6_TEXT.test(address)) fail('invalid-domain', 'not an IPv6 literal');
  try {
    return new URL(`http://[${address}]/`).hostname;
  } catch {
    return fail('invalid-domain', 'not an IPv6 literal');
  }
}

function domainName(input: string): string {
  // Already LDH and without A-labels: IDNA would only lowercase it, so skip node:url.
  const plain = LDH_TEXT.test(input) && !A_LABEL.test(input);
  if (!plain) {
    const bad = NOT_LDH.exec(input);
    if (bad) fail('invalid-domain', `${codePointName(bad[0])} is not allowed`);
  }
  let ascii = plain ? input.toLowerCase() : domainToASCII(input);
  if (ascii === '') fail('invalid-domain', 'not a valid domain name (IDNA2008 / UTS #46)');
  if (ascii.endsWith('.')) ascii = ascii.slice(0, -1);
  if (ascii === '') fail('empty', 'must not be empty');
  const labels = ascii.split('.');
  for (const label of labels) {
    if (label.length > MAX_LABEL_OCTETS) fail('too-long', `label exceeds ${MAX_LABEL_OCTETS} octets`);
    if (!LDH_LABEL.test(label)) fail('invalid-domain', label === '' ? 'empty label' : `invalid label "${label}"`);
  }
  if (NUMERIC.test(labels[labels.length - 1]!)) fail('invalid-domain', 'numeric top-level label');
  return plain ? ascii : domainToUnicode(ascii);
}

/**
 * Prepares and enforces a domainpart (RFC 7622 §3.2), returning its canonical form: a
 * dotted-quad IPv4 address as given, an IPv6 literal in brackets in RFC 5952 form, or a
 * domain name in lowercase U-labels without a trailing dot.
 *
 * @param input - the domainpart as received, between `@` and `/`.
 * @returns the normalised domainpart, 1..1023 octets of UTF-8.
 * @throws JidError (`part: 'domainpart'`) with code `empty`, `too-long` (over 1023 octets,
 *   or a label over 63 octets as an A-label) or `invalid-domain`.
 */
export function normalizeDomainpart(input: string): string {
  if (input.length === 0) fail('empty', 'must not be empty');
  if (exceedsUnitBudget(input)) fail('too-long', `must not exceed ${MAX_PART_OCTETS} octets`);
  if (input.startsWith('[')) return ipv6Literal(input);
  const withoutDot = input.endsWith('.') ? input.slice(0, -1) : input;
  if (IPV4.test(withoutDot)) return withoutDot;
  const out = domainName(input);
  if (utf8Length(out) > MAX_PART_OCTETS) fail('too-long', `must not exceed ${MAX_PART_OCTETS} octets`);
  return out;
}
