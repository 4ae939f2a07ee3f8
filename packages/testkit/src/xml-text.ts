import { escapeXml } from '@parley/client';

/*
 * Matching XMPP on raw text. Regular expressions on purpose: the raw client's job is to show
 * the server's exact bytes, not a parser's opinion of them.
 */

/** Matches a complete `<stream:features>` element (empty or not). */
export const FEATURES_RE = /<(?:stream:)?features\b[^>]*?(?:\/>|>[\s\S]*?<\/(?:stream:)?features>)/;

/** The opening stream header a client sends (RFC 6120 §4.2), and text escaping: @parley/client's. */
export { streamHeader, escapeXml } from '@parley/client';

/**
 * Matches the complete element `<name ...>...</name>` or `<name .../>` whose attributes
 * include `attrs` (either quote style, any order). Elements of the same name nested inside
 * it are not supported.
 */
export function elementRe(name: string, attrs: Record<string, string> = {}): RegExp {
  const lookaheads = Object.entries(attrs)
    .map(([k, v], i) => `(?=[^>]*\\s${escapeRe(k)}=(['"])${escapeRe(escapeXml(v))}\\${i + 1})`)
    .join('');
  return new RegExp(`<${escapeRe(name)}\\b${lookaheads}[^>]*?(?:/>|>[\\s\\S]*?</${escapeRe(name)}>)`);
}


/** Reverses {@link escapeXml} (the five predefined entities only). */
export function unescapeXml(s: string): string {
  return s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&apos;/g, "'").replace(/&quot;/g, '"').replace(/&amp;/g, '&');
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
