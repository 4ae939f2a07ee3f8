// Stanzas this cluster serialised itself (bus payloads: a gateway's stanza on a shard
// stream, a room's stored presence) read back with ltx's own parser, which is several times
// faster than the strict path (parse-element.ts builds a saxes parser per call).
import { Element, parse } from 'ltx';

/**
 * Parses text that ltx serialised from a normalised element (one `parseElement` or the
 * `StreamParser` produced, or one built in code): one root, no prolog, namespaces as
 * `xmlns` attributes, no prefixes. Gives the same element as `parseElement` would for such
 * text. Never use it for client input: it enforces none of RFC 6120 §11's restrictions and
 * no size or depth limit.
 *
 * @param defaultNs - set as the root's `xmlns` (first attribute) when the text has none
 *   (room stanza text, `@parley/bus` envelope.ts)
 * @throws Error (ltx's) when the text is not well-formed
 */
export function parseOwnElement(xml: string, defaultNs?: string): Element {
  const el = parse(xml) as Element | null;
  if (!el) throw new Error('no root element');
  if (defaultNs !== undefined && el.attrs.xmlns === undefined) el.attrs = { xmlns: defaultNs, ...el.attrs };
  return el;
}
