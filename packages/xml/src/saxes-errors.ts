// Maps saxes error messages to RFC 6120 §4.9.3 stream error conditions.
import type { XmlErrorCondition } from './xml-error.js';

/**
 * saxes messages that mean restricted XML (RFC 6120 §11.1) rather than malformed XML.
 * saxes reports them as `"<line>:<column>: <message>"`, so they are matched at the end.
 * saxes never expands entities: an undefined one is reported and left as text.
 */
const RESTRICTED = [
  'undefined entity.',
  'inappropriately located doctype declaration.',
  'processing instructions are not allowed before root.',
];

/** The stream error condition for a saxes error; `not-well-formed` unless listed above. */
export function saxesErrorCondition(err: Error): XmlErrorCondition {
  return RESTRICTED.some((m) => err.message.endsWith(m)) ? 'restricted-xml' : 'not-well-formed';
}

/** saxes reports a close tag not matching the innermost open element with this message, right after the `closetag` event of the element it popped. */
export function isMismatchedCloseTag(err: Error): boolean {
  return err.message.endsWith('unexpected close tag.');
}
