// RFC 7395 §3.3.3 (each WebSocket message is one complete XML element) and stanzas read
// back from storage: parse one standalone element with the restrictions of RFC 6120 §11.
import type { Element } from 'ltx';
import { SaxesParser } from 'saxes';
import { ElementBuilder } from './element-builder.js';
import { MarkupGuard } from './markup-guard.js';
import { saxesErrorCondition } from './saxes-errors.js';
import { XmlError } from './xml-error.js';

/** Options of {@link parseElement}. */
export interface ParseElementOptions {
  /** Namespace of unprefixed elements when the document declares no default namespace (e.g. `jabber:client`). */
  defaultNs?: string;
  /** Maximum element nesting, the root counting as 1. Default 32. */
  maxDepth?: number;
  /** Maximum UTF-8 size of `xml` in bytes. Default 262144 (256 KiB). */
  maxBytes?: number;
}

const DEFAULT_MAX_DEPTH = 32;
const DEFAULT_MAX_BYTES = 256 * 1024;

/**
 * Parses a document holding exactly one element (an optional XML declaration and
 * surrounding whitespace allowed) into a normalised ltx Element: unprefixed names,
 * `xmlns` on the root (unless it is in no namespace) and on each descendant whose
 * namespace differs from its parent's; other attributes and text as written.
 *
 * @throws XmlError `policy-violation` if `xml` is over `maxBytes` or nested deeper than
 *   `maxDepth`; `restricted-xml` for DOCTYPE, comments, processing instructions and
 *   entities other than the five predefined ones (RFC 6120 §11.1); `not-well-formed` for
 *   anything else saxes rejects (including no root or more than one).
 */
export function parseElement(xml: string, opts: ParseElementOptions = {}): Element {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const maxDepth = opts.maxDepth ?? DEFAULT_MAX_DEPTH;
  // A UTF-16 unit never takes less than one byte in UTF-8, so the cheap test goes first.
  if (xml.length > maxBytes || Buffer.byteLength(xml, 'utf8') > maxBytes) {
    throw new XmlError('policy-violation', `document larger than ${maxBytes} bytes`);
  }
  const text = xml.startsWith('\uFEFF') ? xml.slice(1) : xml;

  const sax = new SaxesParser({
    xmlns: true,
    ...(opts.defaultNs === undefined ? {} : { additionalNamespaces: { '': opts.defaultNs } }),
  });
  const builder = new ElementBuilder();
  let error: XmlError | undefined;
  let root: Element | undefined;
  const fail = (err: XmlError): void => {
    error ??= err;
  };

  sax.on('error', (err) => fail(new XmlError(saxesErrorCondition(err), err.message)));
  sax.on('doctype', () => fail(new XmlError('restricted-xml', 'DOCTYPE is not allowed')));
  sax.on('comment', () => fail(new XmlError('restricted-xml', 'comment is not allowed')));
  sax.on('processinginstruction', () => {
    fail(new XmlError('restricted-xml', 'processing instruction is not allowed'));
  });
  sax.on('opentagstart', () => {
    if (builder.depth >= maxDepth) {
      fail(new XmlError('policy-violation', `elements nested deeper than ${maxDepth}`));
    }
  });
  sax.on('opentag', (tag) => {
    if (error === undefined) builder.open(tag);
  });
  sax.on('closetag', () => {
    if (error !== undefined) return;
    const el = builder.close();
    if (el !== undefined) root = el;
  });
  const onText = (chars: string): void => {
    if (error === undefined) builder.text(chars);
  };
  sax.on('text', onText);
  sax.on('cdata', onText);

  const restricted = new MarkupGuard().scan(text);
  sax.write(restricted === undefined ? text : text.slice(0, restricted.index));
  if (error === undefined && restricted !== undefined) {
    fail(new XmlError('restricted-xml', `${restricted.what} is not allowed`));
  }
  if (error === undefined) sax.close();
  if (error !== undefined) throw error;
  if (root === undefined) throw new XmlError('not-well-formed', 'no root element');
  return root;
}
