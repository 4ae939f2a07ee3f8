// fast-check generators for XMPP streams (issue #10 item 9): a small XML grammar whose
// every value knows both the text to send and the element a conforming parser must produce
// from it, plus generators of chunkings and of the constructs a parser must refuse.
// Shared by the parser fuzzer (packages/xml/test/fuzz-stream-parser.test.ts), the gateway
// session fuzzer (test/integration/fuzz-gateway.test.ts) and bench/fuzz.ts.
import fc from 'fast-check';
import { Element } from 'ltx';
import type { XmlErrorCondition } from '@parley/xml';

export const CLIENT_NS = 'jabber:client';

/** One generated element: its children's text already escaped in `xml`. */
export interface GenElement {
  name: string;
  /** A namespace declared with `xmlns` on this element, if any. */
  ns: string | undefined;
  /** Attributes in written order, values unescaped. */
  attrs: Array<[string, string]>;
  children: Array<GenElement | GenText>;
}

/** Character data, written as `text` (escaped, maybe with character references or CDATA) and read as `value`. */
export interface GenText {
  value: string;
  text: string;
}

const NAME_START = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_éüßж中'.split('');
const NAME_REST = [...NAME_START, ...'0123456789-.·'.split('')];

/** An XML name without a colon (NCName), some with non-ASCII letters. */
export const ncName: fc.Arbitrary<string> = fc
  .tuple(fc.constantFrom(...NAME_START), fc.array(fc.constantFrom(...NAME_REST), { maxLength: 10 }))
  .map(([first, rest]) => first + rest.join(''))
  .filter((n) => n !== 'xmlns' && !n.toLowerCase().startsWith('xml'));

/** Characters XML 1.0 forbids even as character references (§2.2), and lone surrogates. */
const NOT_XML_CHAR = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Any string made of XML 1.0 characters (all Unicode planes, line breaks, tabs). */
export const xmlChars: fc.Arbitrary<string> = fc
  .oneof(
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.string({ unit: 'grapheme', maxLength: 40 }),
    fc.string({ unit: fc.constantFrom('a', ' ', '\n', '\t', '\r', '&', '<', '>', "'", '"', ']', '𝄞', 'é'), maxLength: 30 }),
  )
  .map((s) => s.replace(NOT_XML_CHAR, '?'));

function charRef(cp: number, hex: boolean): string {
  return hex ? `&#x${cp.toString(16)};` : `&#${cp};`;
}

/**
 * Escapes `value` for element content. `\r` always goes as a character reference (a literal
 * one is normalised to `\n`, XML §2.11); with `refs`, every non-ASCII character does too.
 */
export function escapeText(value: string, refs: boolean, hex = true): string {
  let out = '';
  for (const ch of value) {
    const cp = ch.codePointAt(0)!;
    if (ch === '&') out += '&amp;';
    else if (ch === '<') out += '&lt;';
    else if (ch === '>') out += '&gt;';
    else if (ch === '\r') out += charRef(cp, hex);
    else if (refs && cp > 0x7e) out += charRef(cp, hex);
    else out += ch;
  }
  return out;
}

/** Escapes `value` for an attribute quoted with `quote`; tabs and line breaks as references (XML §3.3.3 would turn them into spaces). */
export function escapeAttr(value: string, quote: "'" | '"'): string {
  let out = '';
  for (const ch of value) {
    if (ch === '&') out += '&amp;';
    else if (ch === '<') out += '&lt;';
    else if (ch === quote) out += quote === "'" ? '&apos;' : '&quot;';
    else if (ch === '\t' || ch === '\n' || ch === '\r') out += charRef(ch.codePointAt(0)!, false);
    else out += ch;
  }
  return out;
}

/** Character data in one of three spellings: escaped, with character references, or CDATA. */
export const genText: fc.Arbitrary<GenText> = fc
  .tuple(xmlChars, fc.constantFrom('plain', 'refs', 'cdata' as const), fc.boolean())
  .map(([value, style, hex]) => {
    if (style === 'cdata' && !value.includes(']]>') && !value.includes('\r')) return { value, text: `<![CDATA[${value}]]>` };
    return { value, text: escapeText(value, style === 'refs', hex) };
  });

const NAMESPACES = ['urn:xmpp:fuzz:0', 'urn:xmpp:fuzz:1', 'http://jabber.org/protocol/muc', CLIENT_NS, 'jabber:iq:version', ''];

const attrList: fc.Arbitrary<Array<[string, string]>> = fc
  .uniqueArray(fc.tuple(fc.oneof(ncName, fc.constant('xml:lang')), xmlChars), { maxLength: 4, selector: ([k]) => k })
  .map((list) => list as Array<[string, string]>);

/** An element tree at most `depth` levels deep (the element itself counting as one). */
export function genElement(depth: number, names: fc.Arbitrary<string> = ncName): fc.Arbitrary<GenElement> {
  const leafChildren = fc.array(genText, { maxLength: 2 });
  const children: fc.Arbitrary<Array<GenElement | GenText>> =
    depth <= 1 ? leafChildren : fc.array(fc.oneof({ weight: 2, arbitrary: genText }, { weight: 1, arbitrary: genElement(depth - 1) }), { maxLength: 4 });
  return fc.record({
    name: names,
    ns: fc.option(fc.constantFrom(...NAMESPACES), { nil: undefined, freq: 3 }),
    attrs: attrList,
    children,
  });
}

/** A stanza-shaped top-level element: message, presence or iq with random attributes and payload. */
export const genStanza: fc.Arbitrary<GenElement> = fc
  .record({
    name: fc.constantFrom('message', 'presence', 'iq'),
    attrs: attrList,
    children: fc.array(fc.oneof({ weight: 1, arbitrary: genText }, { weight: 3, arbitrary: genElement(4) }), { maxLength: 4 }),
  })
  .map((s) => ({ ...s, ns: undefined }));

/** A top-level element: a stanza or any element. */
export const genTopLevel: fc.Arbitrary<GenElement> = fc.oneof(genStanza, genElement(5));

/** How one element is written: quote character and whitespace inside tags (picked per element from a seed). */
export interface Style {
  quote: "'" | '"';
  space: string;
  selfClose: boolean;
}

export const genStyle: fc.Arbitrary<Style> = fc.record({
  quote: fc.constantFrom("'" as const, '"' as const),
  space: fc.constantFrom(' ', '\n', '\t', '  ', ' \r\n '),
  selfClose: fc.boolean(),
});

/** The start tag of `el` without its closing `>` or `/>`. */
function startTag(el: GenElement, style: Style): string {
  const q = style.quote;
  let open = `<${el.name}`;
  if (el.ns !== undefined) open += `${style.space}xmlns=${q}${escapeAttr(el.ns, q)}${q}`;
  for (const [k, v] of el.attrs) open += `${style.space}${k}=${q}${escapeAttr(v, q)}${q}`;
  return open;
}

function content(el: GenElement, style: Style): string {
  return el.children.map((c) => ('value' in c ? c.text : writeElement(c, style))).join('');
}

/** The XML text of `el`. */
export function writeElement(el: GenElement, style: Style = { quote: "'", space: ' ', selfClose: true }): string {
  const open = startTag(el, style);
  if (el.children.length === 0 && style.selfClose) return `${open}${style.space === ' ' ? '' : style.space}/>`;
  return `${open}>${content(el, style)}</${el.name}>`;
}

/** `el` written as [start tag, content and end tag], so that something can go right after the start tag. */
export function splitAfterStartTag(el: GenElement, style: Style): [string, string] {
  return [`${startTag(el, style)}>`, `${content(el, style)}</${el.name}>`];
}

/**
 * The element a conforming parser produces from {@link writeElement}'s text: unprefixed
 * names, `xmlns` on the top-level element (its namespace, `parentNs` when it declares none)
 * and on descendants whose namespace differs from their parent's, adjacent text merged.
 */
export function expectedElement(el: GenElement, parentNs: string | undefined = CLIENT_NS, top = true): Element {
  const ns = el.ns ?? parentNs ?? '';
  const attrs: Record<string, string> = Object.create(null) as Record<string, string>;
  if (top ? ns !== '' : ns !== (parentNs ?? '')) attrs.xmlns = ns;
  for (const [k, v] of el.attrs) attrs[k] = v;
  const out = new Element(el.name, { ...attrs });
  let text = '';
  for (const c of el.children) {
    if ('value' in c) {
      text += c.value;
      continue;
    }
    if (text !== '') out.children.push(text);
    text = '';
    out.cnode(expectedElement(c, ns, false));
  }
  if (text !== '') out.children.push(text);
  return out;
}

/** A canonical form of an ltx element (attributes sorted) for comparisons. */
export function canon(el: Element): string {
  const attrs = Object.keys(el.attrs)
    .filter((k) => el.attrs[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}=${JSON.stringify(String(el.attrs[k]))}`)
    .join(' ');
  const kids = el.children.map((c) => (typeof c === 'string' ? JSON.stringify(c) : canon(c as Element))).join(',');
  return `<${el.name} ${attrs}>[${kids}]`;
}

/** A stream header as a client writes it, with or without the XML declaration. */
export const genHeader: fc.Arbitrary<string> = fc
  .tuple(fc.boolean(), fc.constantFrom("'", '"'), fc.constantFrom(' ', '\n'))
  .map(([decl, q, sp]) => {
    const d = decl ? `<?xml version=${q}1.0${q}?>` : '';
    return `${d}<stream:stream${sp}xmlns=${q}jabber:client${q}${sp}xmlns:stream=${q}http://etherx.jabber.org/streams${q}${sp}to=${q}localhost${q}${sp}version=${q}1.0${q}>`;
  });

/** Whitespace between top-level elements (keepalives, RFC 6120 §4.6.1). */
export const genGap: fc.Arbitrary<string> = fc.constantFrom('', '', ' ', '\n', '\r\n', '\t ', ' '.repeat(40));

/** A well-formed stream: header, elements (each with its writing style and the gap before it), footer or not. */
export interface GenStream {
  header: string;
  items: Array<{ el: GenElement; style: Style; gap: string }>;
  footer: boolean;
}

export const genStream: fc.Arbitrary<GenStream> = fc.record({
  header: genHeader,
  items: fc.array(fc.record({ el: genTopLevel, style: genStyle, gap: genGap }), { maxLength: 6 }),
  footer: fc.boolean(),
});

/** The stream's text, elements written in order. */
export function writeStream(s: GenStream): string {
  return s.header + s.items.map((i) => i.gap + writeElement(i.el, i.style)).join('') + (s.footer ? '</stream:stream>' : '');
}

/** Cut points: the input is split into chunks of these sizes (repeated), 1 byte upwards. */
export const genChunking: fc.Arbitrary<number[]> = fc.array(fc.oneof(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 5000 })), { minLength: 1, maxLength: 12 });

/** `bytes` cut into chunks of the sizes in `sizes`, cycled (UTF-8 sequences may be split). */
export function chunk(bytes: Buffer, sizes: readonly number[]): Buffer[] {
  const out: Buffer[] = [];
  let i = 0;
  let k = 0;
  while (i < bytes.length) {
    const n = sizes[k++ % sizes.length]!;
    out.push(bytes.subarray(i, i + n));
    i += n;
  }
  return out;
}

/** A construct RFC 6120 §11.1 restricts, with where it may go and the condition it must get. */
export interface BadConstruct {
  text: string | Buffer;
  /** Where the construct is placed: between top-level elements or right after a start tag. */
  where: 'between' | 'inside';
  condition: XmlErrorCondition;
  what: string;
}

/** Inputs that must be refused, with the stream error condition each must get. */
export const BAD_CONSTRUCTS: readonly BadConstruct[] = [
  { what: 'comment', text: '<!-- hi -->', where: 'between', condition: 'restricted-xml' },
  { what: 'comment in a stanza', text: '<!-- hi -->', where: 'inside', condition: 'restricted-xml' },
  { what: 'processing instruction', text: '<?pi data?>', where: 'between', condition: 'restricted-xml' },
  { what: 'processing instruction in a stanza', text: '<?pi?>', where: 'inside', condition: 'restricted-xml' },
  { what: 'DOCTYPE', text: '<!DOCTYPE x [<!ENTITY a "aaaa">]>', where: 'between', condition: 'restricted-xml' },
  { what: 'entity declaration in a stanza', text: '<!ENTITY lol "lol">', where: 'inside', condition: 'not-well-formed' },
  { what: 'undefined entity', text: '&lol;', where: 'inside', condition: 'restricted-xml' },
  { what: 'external entity reference', text: '&xxe;', where: 'inside', condition: 'restricted-xml' },
  { what: 'text between stanzas', text: 'hello', where: 'between', condition: 'bad-format' },
  { what: 'mismatched end tag', text: '<a></b>', where: 'inside', condition: 'not-well-formed' },
  { what: 'stray end tag', text: '</nope>', where: 'inside', condition: 'not-well-formed' },
  { what: 'duplicate attribute', text: "<a x='1' x='2'/>", where: 'inside', condition: 'not-well-formed' },
  { what: 'unbound prefix', text: '<p:a/>', where: 'inside', condition: 'not-well-formed' },
  { what: "raw '<' in an attribute", text: "<a x='<'/>", where: 'inside', condition: 'not-well-formed' },
  { what: 'reference to U+0000', text: '&#0;', where: 'inside', condition: 'not-well-formed' },
  { what: 'reference to a surrogate', text: '&#xD800;', where: 'inside', condition: 'not-well-formed' },
  { what: 'control character', text: '\u0001', where: 'inside', condition: 'not-well-formed' },
  { what: 'invalid UTF-8 (0xFF)', text: Buffer.from([0xff]), where: 'inside', condition: 'not-well-formed' },
  { what: 'overlong UTF-8', text: Buffer.from([0xc0, 0xbc]), where: 'inside', condition: 'not-well-formed' },
  { what: 'lone continuation byte', text: Buffer.from([0x80]), where: 'between', condition: 'not-well-formed' },
  { what: 'second stream header', text: "<stream:stream xmlns:stream='http://etherx.jabber.org/streams'>", where: 'inside', condition: 'not-well-formed' },
];

/** Fragments a mutator splices into a valid stream: markup pieces, references, bytes. */
export const NASTY_FRAGMENTS: readonly (string | Buffer)[] = [
  '<', '>', '/>', '</', '&', ';', '&amp;', '&#x1F600;', '&#1114112;', '&lt', "'", '"', '=', ':', 'xmlns:', "xmlns=''",
  '<![CDATA[', ']]>', '<!', '<!-', '<?', '?>', '<!DOCTYPE', '<!ENTITY', '<a>', '</a>', '<a/>', '<stream:stream>',
  '</stream:stream>', '<stream:features/>', '\u0000', '\uFFFE', '\uD83D', ' ', '\r', 'é', '𝄞',
  Buffer.from([0xff]), Buffer.from([0xc3]), Buffer.from([0xe2, 0x82]), Buffer.from([0xf4, 0x90, 0x80, 0x80]), Buffer.from([0xed, 0xa0, 0x80]),
];

/** One edit of a byte string. */
export type Mutation =
  | { op: 'insert'; at: number; fragment: number }
  | { op: 'delete'; at: number; length: number }
  | { op: 'flip'; at: number; byte: number }
  | { op: 'duplicate'; at: number; length: number };

export const genMutations: fc.Arbitrary<Mutation[]> = fc.array(
  fc.oneof(
    fc.record({ op: fc.constant('insert' as const), at: fc.nat(), fragment: fc.nat({ max: NASTY_FRAGMENTS.length - 1 }) }),
    fc.record({ op: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 20 }) }),
    fc.record({ op: fc.constant('flip' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ op: fc.constant('duplicate' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 200 }) }),
  ),
  { minLength: 1, maxLength: 6 },
);

/** Applies `mutations` to `bytes` (positions taken modulo the current length). */
export function mutate(bytes: Buffer, mutations: readonly Mutation[]): Buffer {
  let b = bytes;
  for (const m of mutations) {
    const at = b.length === 0 ? 0 : m.at % (b.length + 1);
    switch (m.op) {
      case 'insert': {
        const f = NASTY_FRAGMENTS[m.fragment]!;
        b = Buffer.concat([b.subarray(0, at), typeof f === 'string' ? Buffer.from(f, 'utf8') : f, b.subarray(at)]);
        break;
      }
      case 'delete':
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + m.length)]);
        break;
      case 'flip':
        if (at < b.length) {
          b = Buffer.from(b);
          b[at] = m.byte;
        }
        break;
      case 'duplicate':
        b = Buffer.concat([b.subarray(0, at + m.length), b.subarray(at, at + m.length), b.subarray(at + m.length)]);
        break;
    }
  }
  return b;
}
