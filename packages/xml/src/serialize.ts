// Output side of RFC 6120 §4.7 (stream headers) and §4.8 (namespaces): element and
// stream header serialisation.
import { Element } from 'ltx';
import { NS } from './namespaces.js';

/** Options of {@link serialize}. */
export interface SerializeOptions {
  /**
   * Omit the top-level `xmlns` attribute when it equals this namespace: pass the stream's
   * default namespace (`jabber:client`) so stanzas go out as `<message ...>`.
   */
  omitXmlnsOf?: string;
}

/**
 * Serialises an element with ltx (double-quoted attributes; `&`, `<`, `>`, `"`, `'`
 * escaped in attributes, `&`, `<`, `>` in text). `el` is not modified. ltx recurses once
 * per nesting level, which is safe for elements whose depth the parser has capped.
 */
export function serialize(el: Element, opts: SerializeOptions = {}): string {
  if (opts.omitXmlnsOf === undefined || el.attrs.xmlns !== opts.omitXmlnsOf) return el.toString();
  const { xmlns: _omitted, ...attrs } = el.attrs;
  const shallow = new Element(el.name, attrs);
  shallow.children = el.children;
  return shallow.toString();
}

/** An attribute name acceptable in a stream header (a QName: letters, digits, `_.-`, one `:`). */
const ATTR_NAME = /^[A-Za-z_][\w.-]*(?::[A-Za-z_][\w.-]*)?$/;

const ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  "'": '&apos;',
  '"': '&quot;',
  '\t': '&#9;',
  '\n': '&#10;',
  '\r': '&#13;',
};

function escapeAttr(value: string): string {
  return value.replace(/[&<>'"\t\n\r]/g, (c) => ESCAPES[c] ?? c);
}

/**
 * The opening of a server stream (RFC 6120 §4.7):
 * `<?xml version='1.0'?><stream:stream xmlns='jabber:client'
 * xmlns:stream='http://etherx.jabber.org/streams' from='...' ...>`.
 *
 * `attrs` are written in order after the two namespace declarations, values escaped,
 * `undefined` values skipped. `attrs.xmlns` replaces the default `jabber:client`;
 * `xmlns:stream` cannot be changed.
 *
 * @throws TypeError if an attribute name is not a QName.
 */
export function streamHeader(attrs: Readonly<Record<string, string | undefined>>): string {
  let out = `<?xml version='1.0'?><stream:stream xmlns='${escapeAttr(attrs.xmlns ?? NS.CLIENT)}'`;
  out += ` xmlns:stream='${NS.STREAM}'`;
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || name === 'xmlns' || name === 'xmlns:stream') continue;
    if (!ATTR_NAME.test(name)) throw new TypeError(`invalid stream header attribute name: ${name}`);
    out += ` ${name}='${escapeAttr(value)}'`;
  }
  return `${out}>`;
}

/** The closing tag of a stream: `</stream:stream>` (RFC 6120 §4.4). */
export function streamFooter(): string {
  return '</stream:stream>';
}
