/*
 * The little XML a client writes and reads by itself: the stream header (RFC 6120 §4.2,
 * §4.7), the RFC 7395 §3.3.2 `<open/>`, escaping, and turning the text of one top-level
 * element into an ltx Element.
 */
import { Element, parse as ltxParse } from 'ltx';

/** Namespaces of the stream layer and of what a client negotiates (RFC 6120 §4.8, §6, §7; RFC 3921 §3; RFC 7395 §3.3). */
export const CLIENT_NS = {
  client: 'jabber:client',
  stream: 'http://etherx.jabber.org/streams',
  streams: 'urn:ietf:params:xml:ns:xmpp-streams',
  stanzas: 'urn:ietf:params:xml:ns:xmpp-stanzas',
  sasl: 'urn:ietf:params:xml:ns:xmpp-sasl',
  bind: 'urn:ietf:params:xml:ns:xmpp-bind',
  session: 'urn:ietf:params:xml:ns:xmpp-session',
  framing: 'urn:ietf:params:xml:ns:xmpp-framing',
} as const;

/** Escapes text for XML content or a quoted attribute value (either quote style). */
export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/'/g, '&apos;').replace(/"/g, '&quot;');
}

/** The opening stream header a client sends over TCP, with the XML declaration (RFC 6120 §4.2, §4.7). */
export function streamHeader(domain: string): string {
  return `<?xml version='1.0'?><stream:stream to='${escapeXml(domain)}' xmlns='${CLIENT_NS.client}' xmlns:stream='${CLIENT_NS.stream}' version='1.0'>`;
}

/** The RFC 7395 §3.3.2 `<open/>` that opens (or, §3.3.3, restarts) a stream over WebSocket. */
export function wsOpen(domain: string): string {
  return `<open xmlns='${CLIENT_NS.framing}' to='${escapeXml(domain)}' version='1.0'/>`;
}

/** The RFC 7395 §3.3.3 `<close/>`. */
export const WS_CLOSE = `<close xmlns='${CLIENT_NS.framing}'/>`;

/**
 * Parses the text of one top-level element of a client stream with ltx and normalises its
 * name and namespace the way the stream declares them (RFC 6120 §4.8): a `stream:` prefix
 * (declared on the stream header as `http://etherx.jabber.org/streams`) is dropped and that
 * namespace set as `xmlns`; an element without `xmlns` gets `jabber:client`, the stream's
 * default namespace. Descendants are kept as written. Entities and character references
 * are decoded by ltx.
 * @throws Error when `xml` is not one well-formed element (ltx's message)
 */
export function parseTopLevel(xml: string): Element {
  const el = ltxParse(xml) as Element;
  if (el.name.startsWith('stream:')) {
    el.name = el.name.slice('stream:'.length);
    if (el.attrs.xmlns === undefined) el.attrs.xmlns = CLIENT_NS.stream;
  }
  if (el.attrs.xmlns === undefined) el.attrs.xmlns = CLIENT_NS.client;
  return el;
}

/** Whether `el` (normalised by {@link parseTopLevel}) is a stream error (RFC 6120 §4.9). */
export function isStreamError(el: Element): boolean {
  return el.name === 'error' && el.attrs.xmlns === CLIENT_NS.stream;
}

/** The defined condition of a stream error (RFC 6120 §4.9.3), or `undefined-condition`. */
export function streamCondition(el: Element): string {
  return definedCondition(el, CLIENT_NS.streams) ?? 'undefined-condition';
}

/** The defined condition of a SASL `<failure/>` (RFC 6120 §6.5), or what arrived instead. */
export function saslCondition(el: Element): string {
  if (el.name === 'failure') return el.getChildElements().find((c) => c.name !== 'text')?.name ?? 'failure';
  return `unexpected <${el.name}>`;
}

/** The defined condition of a stanza error (RFC 6120 §8.3.3), e.g. `item-not-found`; for a non-error, what arrived instead. */
export function stanzaCondition(el: Element): string {
  const error = el.getChild('error');
  const cond = error === undefined ? undefined : definedCondition(error, CLIENT_NS.stanzas);
  return cond ?? (el.attrs.type === 'error' ? 'undefined-condition' : `unexpected <${el.name} type='${String(el.attrs.type ?? '')}'>`);
}

function definedCondition(el: Element, ns: string): string | undefined {
  return el.getChildElements().find((c) => c.attrs.xmlns === ns && c.name !== 'text')?.name;
}
