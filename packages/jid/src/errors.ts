// Error codes of @parley/jid. Every rejection is a `JidError`; the gateway answers
// with the RFC 6120 §8.3.3.8 stanza error `<jid-malformed/>`, carried in `condition`.

/** The three parts of a JID (RFC 7622 §3). */
export type JidPart = 'localpart' | 'domainpart' | 'resourcepart';

/**
 * Why a JID was rejected.
 * - `empty`: a part is zero octets long, e.g. `@example.com`, `juliet@`, `example.com/`.
 * - `too-long`: a part is longer than 1023 octets of UTF-8 after preparation
 *   (RFC 7622 §3.2, §3.3, §3.4), or a domain label longer than 63 octets as an A-label.
 * - `disallowed-character`: a code point the part's PRECIS profile does not allow, or one
 *   whose contextual rule (RFC 5892 Appendix A) is not satisfied.
 * - `invalid-domain`: the domainpart is neither an IP literal nor a valid
 *   internationalised domain name (IDNA2008 / UTS #46).
 */
export type JidErrorCode = 'empty' | 'too-long' | 'disallowed-character' | 'invalid-domain';

/** Thrown by `parseJid`, `jid`, `Jid#withResource` and the part normalisers. */
export class JidError extends Error {
  /** The RFC 6120 stanza error condition for this failure. */
  readonly condition = 'jid-malformed' as const;
  readonly code: JidErrorCode;
  /** The offending part; undefined when the input as a whole was rejected. */
  readonly part: JidPart | undefined;

  constructor(code: JidErrorCode, part: JidPart | undefined, message: string) {
    super(part === undefined ? message : `${part}: ${message}`);
    this.name = 'JidError';
    this.code = code;
    this.part = part;
  }
}

/** `U+00E9`-style name of the first code point of `ch`, for error messages. */
export function codePointName(ch: string): string {
  return `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}
