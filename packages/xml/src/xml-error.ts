// RFC 6120 §4.9.3: the stream error conditions an XML parsing failure maps to.
// RFC 6120 §11.1: restricted XML (no comments, PIs, DTDs, non-predefined entities).

/**
 * Why the XML was refused, named by the RFC 6120 §4.9.3 stream error condition
 * the gateway sends back before closing the stream.
 *
 * - `not-well-formed` (§4.9.3.13): not well-formed XML, invalid UTF-8, bad namespace prefix.
 * - `restricted-xml` (§4.9.3.18, §11.1): comment, processing instruction, DOCTYPE, or an
 *   entity reference other than the five predefined ones.
 * - `policy-violation` (§4.9.3.14): a size or depth limit was exceeded.
 * - `invalid-namespace` (§4.9.3.10): the root is not `stream` in `http://etherx.jabber.org/streams`.
 * - `bad-format` (§4.9.3.1): character data directly inside the stream root.
 */
export type XmlErrorCondition =
  | 'not-well-formed'
  | 'restricted-xml'
  | 'policy-violation'
  | 'invalid-namespace'
  | 'bad-format';

/**
 * A refusal of the XML input. `condition` is the stream error condition to send;
 * `message` is for logs (it may quote a few characters of the input).
 */
export class XmlError extends Error {
  readonly condition: XmlErrorCondition;

  constructor(condition: XmlErrorCondition, message: string) {
    super(`${condition}: ${message}`);
    this.name = 'XmlError';
    this.condition = condition;
  }
}
