import { parse, type Element } from 'ltx';
import { NS } from './names.js';

/**
 * Parses what a server wrote on a raw socket into the stream's child elements: the XML
 * declaration and every stream header (one per restart) are dropped, a trailing partial
 * element is ignored, and the rest is parsed inside a root that declares the `stream`
 * prefix, so `getNS()` works on `<stream:error>`.
 */
export function streamChildren(text: string): Element[] {
  let body = text
    .replace(/<\?xml[^>]*\?>/g, '')
    .replace(/<stream:stream\b[^>]*>/g, '')
    .replace(/<\/stream:stream>/g, '');
  // Drop a trailing incomplete element by cutting at the last point where depth returns to 0.
  body = body.slice(0, completePrefixLength(body));
  const root = parse(`<root xmlns='${NS.client}' xmlns:stream='${NS.stream}'>${body}</root>`);
  return root.getChildElements();
}

/** The `<stream:error>` a server sent, with its defined condition (RFC 6120 §4.9.3), if any. */
export function streamError(text: string): { condition: string | undefined; element: Element } | undefined {
  const element = streamChildren(text).find((el) => el.name === 'stream:error');
  if (!element) return undefined;
  const condition = element.getChildElements().find((c) => c.attrs['xmlns'] === NS.streams && c.name !== 'text')?.name;
  return { condition, element };
}

function completePrefixLength(body: string): number {
  let depth = 0;
  let complete = 0;
  const tag = /<(\/?)([^\s/>]+)[^>]*?(\/?)>/g;
  for (let m = tag.exec(body); m !== null; m = tag.exec(body)) {
    if (m[1] === '/') depth--;
    else if (m[3] !== '/') depth++;
    if (depth === 0) complete = m.index + m[0].length;
  }
  return complete;
}
