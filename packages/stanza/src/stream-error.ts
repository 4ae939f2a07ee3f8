// RFC 6120 §4.9: stream errors; RFC 7395 §3.6.1 (WebSocket: the same element, with the
// stream prefix declared on it since there is no <stream:stream> root).
import { Element } from 'ltx';
import { NS } from '@parley/xml';
import type { StreamErrorCondition } from './errors.js';

/** Options of {@link streamError}. */
export interface StreamErrorOptions {
  /** Declare `xmlns:stream` on the element (WebSocket, RFC 7395); on TCP the stream header binds it. */
  declarePrefix?: boolean;
  /** Language of the text, sent as `xml:lang` on `<text/>`. */
  lang?: string;
}

/**
 * Builds `<stream:error><condition xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>
 * [<text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>...</text>]</stream:error>`
 * (RFC 6120 §4.9.2). The element's name is `stream:error` so it serialises with the
 * stream prefix; with `declarePrefix` it also carries
 * `xmlns:stream='http://etherx.jabber.org/streams'`.
 */
export function streamError(
  condition: StreamErrorCondition,
  text?: string,
  opts: StreamErrorOptions = {},
): Element {
  const el = new Element('stream:error', opts.declarePrefix === true ? { 'xmlns:stream': NS.STREAM } : {});
  el.c(condition, { xmlns: NS.STREAMS });
  if (text !== undefined) {
    const textAttrs: Record<string, string> = { xmlns: NS.STREAMS };
    if (opts.lang !== undefined) textAttrs['xml:lang'] = opts.lang;
    el.c('text', textAttrs).t(text);
  }
  return el;
}
