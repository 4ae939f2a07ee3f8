// RFC 6120 §8.3: stanza errors. §8.3.1: "The entity that returns an error stanza MUST NOT
// ... respond to a stanza of type "error" with another stanza of type "error"" (it would
// loop), and the error reply keeps the id and swaps to and from.
import { Element } from 'ltx';
import { NS } from '@parley/xml';
import { DEFAULT_ERROR_TYPE, type StanzaErrorCondition, type StanzaErrorType } from './errors.js';
import { isErrorType, replyAttrs } from './stanza.js';

/** Options of {@link stanzaError} and {@link errorReply}. */
export interface StanzaErrorOptions {
  /** Error type; defaults to {@link DEFAULT_ERROR_TYPE}[condition]. */
  type?: StanzaErrorType;
  /** Human-readable description, sent as `<text/>` (RFC 6120 §8.3.2). */
  text?: string;
  /** Language of `text`, sent as `xml:lang` on `<text/>`. */
  lang?: string;
  /** Entity that generated the error, sent as the `by` attribute (e.g. the room's JID). */
  by?: string;
  /** Alternate address (a URI) carried as character data of `<gone/>` or `<redirect/>` (RFC 6120 §8.3.3.5, §8.3.3.14). */
  uri?: string;
}

/**
 * Builds an `<error/>` child (RFC 6120 §8.3.2):
 * `<error type='cancel' [by='...']><condition xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>
 * [<text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas' [xml:lang='..']>...</text>]</error>`.
 */
export function stanzaError(condition: StanzaErrorCondition, opts: StanzaErrorOptions = {}): Element {
  const attrs: Record<string, string> = { type: opts.type ?? DEFAULT_ERROR_TYPE[condition] };
  if (opts.by !== undefined) attrs.by = opts.by;
  const error = new Element('error', attrs);
  const cond = error.c(condition, { xmlns: NS.STANZAS });
  if (opts.uri !== undefined) cond.t(opts.uri);
  if (opts.text !== undefined) {
    const textAttrs: Record<string, string> = { xmlns: NS.STANZAS };
    if (opts.lang !== undefined) textAttrs['xml:lang'] = opts.lang;
    error.c('text', textAttrs).t(opts.text);
  }
  return error;
}

/**
 * The error reply to `stanza` (RFC 6120 §8.3.1): same element name and `xmlns`, `from`
 * and `to` swapped (each only if present), same `id`, `type='error'`, and the
 * {@link stanzaError} as its only child. The original payload is not echoed, for iq as
 * for message and presence (the RFC allows but does not require it, and echoing would
 * amplify large stanzas).
 *
 * @returns `undefined` when `stanza` is itself of type `error`: no error is ever sent in
 *   reply to an error.
 */
export function errorReply(
  stanza: Element,
  condition: StanzaErrorCondition,
  opts: StanzaErrorOptions = {},
): Element | undefined {
  if (isErrorType(stanza)) return undefined;
  const reply = new Element(stanza.getName(), replyAttrs(stanza, 'error'));
  reply.cnode(stanzaError(condition, opts));
  return reply;
}
