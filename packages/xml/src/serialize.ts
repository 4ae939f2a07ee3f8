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
 * Serialises an element (ltx's `toString` layout: double-quoted attributes in `attrs` order,
 * `null`/`undefined` attributes skipped, `<a/>` when there are no children). Escapes `&`,
 * `<`, `>`, `"`, `'` and also tab, LF and CR (`&#9;`, `&#10;`, `&#13;`) in attribute values,
 * and `&`, `<`, `>` and CR (`&#13;`) in text, so the recipient's parser gives back the same
 * values: written raw, XML 1.0 §3.3.3 attribute-value normalisation would turn tab/CR/LF
 * into spaces and §2.11 end-of-line handling a CR into a LF (ltx's own `toString` leaves
 * them raw; do not use it for stanzas). `el` is not modified. Recurses once per nesting
 * level, which is safe for elements whose depth the parser has capped.
 */
export function serialize(el: Element, opts: SerializeOptions = {}): string {
  return writeElement(el, opts.omitXmlnsOf);
}

function writeElement(el: Element, omitXmlnsOf: string | undefined): string {
  let out = `<${el.name}`;
  const attrs = el.attrs as Record<string, unknown>;
  for (const name in attrs) {
    const value = attrs[name];
    if (value === null || value === undefined) continue;
    if (name === 'xmlns' && value === omitXmlnsOf) continue;
    out += ` ${name}="${escapeAttrValue(typeof value === 'string' ? value : String(value))}"`;
  }
  const children = el.children as unknown[];
  if (children.length === 0) return `${out}/>`;
  out += '>';
  for (const child of children) {
    if (typeof child === 'string') out += escapeText(child);
    else if (child instanceof Element) out += writeElement(child, undefined);
    else if (child !== null && child !== undefined) out += escapeText(String(child));
  }
  return `${out}</${el.name}>`;
}

const ATTR_SPECIAL = /[&<>'"\t\n\r]/;
const ATTR_SPECIAL_ALL = /[&<>'"\t\n\r]/g;
const TEXT_SPECIAL = /[&<>\r]/;
const TEXT_SPECIAL_ALL = /[&<>\r]/g;

function escapeChar(c: string): string {
  switch (c) {
    case '&':
      return '&amp;';
    case '<':
      return '&lt;';
    case '>':
      return '&gt;';
    case "'":
      return '&apos;';
    case '"':
      return '&quot;';
    case '\t':
      return '&#9;';
    case '\n':
      return '&#10;';
    default:
      return '&#13;';
  }
}

/**
 * Escapes an attribute value for either quote character: `&`, `<`, `>`, `'`, `"` as
 * entities and tab, LF, CR as `&#9;`, `&#10;`, `&#13;` (XML 1.0 §3.3.3). Returns `value`
 * itself when nothing needs escaping.
 */
export function escapeAttrValue(value: string): string {
  return ATTR_SPECIAL.test(value) ? value.replace(ATTR_SPECIAL_ALL, escapeChar) : value;
}

/** Escapes character data: `&`, `<`, `>` as entities and CR as `&#13;` (XML 1.0 §2.11). */
function escapeText(text: string): string {
  return TEXT_SPECIAL.test(text) ? text.replace(TEXT_SPECIAL_ALL, escapeChar) : text;
}

/** An attribute name acceptable in a stream header (a QName: letters, digits, `_.-`, one `:`). */
const ATTR_NAME = /^[A-Za-z_][\w.-]*(?::[A-Za-z_][\w.-]*)?$/;

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
  let out = `<?xml version='1.0'?><stream:stream xmlns='${escapeAttrValue(attrs.xmlns ?? NS.CLIENT)}'`;
  out += ` xmlns:stream='${NS.STREAM}'`;
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || name === 'xmlns' || name === 'xmlns:stream') continue;
    if (!ATTR_NAME.test(name)) throw new TypeError(`invalid stream header attribute name: ${name}`);
    out += ` ${name}='${escapeAttrValue(value)}'`;
  }
  return `${out}>`;
}

/** The closing tag of a stream: `</stream:stream>` (RFC 6120 §4.4). */
export function streamFooter(): string {
  return '</stream:stream>';
}
