// RFC 6120 §8: the three stanza kinds and the iq request/response rules (§8.2.3).
import { Element } from 'ltx';
import { NS } from '@parley/xml';

/** The three stanza kinds of RFC 6120 §8. */
export type StanzaKind = 'message' | 'presence' | 'iq';

/** The kind of a stanza in `jabber:client`; `undefined` for any other element or namespace. */
export function stanzaKind(el: Element): StanzaKind | undefined {
  if (el.getNS() !== NS.CLIENT) return undefined;
  const name = el.getName();
  return name === 'message' || name === 'presence' || name === 'iq' ? name : undefined;
}

/** Whether the element has `type='error'` (RFC 6120 §8.3). */
export function isErrorType(el: Element): boolean {
  return el.attrs.type === 'error';
}

/**
 * The payload of an iq: its only child element, or `undefined` when it has none or more
 * than one (RFC 6120 §8.2.3: a get or set "MUST contain exactly one child element").
 * Text children (whitespace) are ignored.
 */
export function iqPayload(iq: Element): Element | undefined {
  const children = iq.getChildElements();
  return children.length === 1 ? children[0] : undefined;
}

/**
 * The `type='result'` response to an iq get or set (RFC 6120 §8.2.3): same `xmlns`,
 * `from` and `to` swapped (each only if present), same `id`, and `payload` as its only
 * child if given (adopted, not copied: its `parent` becomes the result).
 *
 * @throws TypeError if `iq` is not an iq of type `get` or `set` (results and errors are
 *   never answered).
 */
export function iqResult(iq: Element, payload?: Element): Element {
  const type: unknown = iq.attrs.type;
  if (iq.getName() !== 'iq' || (type !== 'get' && type !== 'set')) {
    throw new TypeError(`iqResult needs an iq get or set, got <${iq.name} type='${String(type)}'>`);
  }
  const result = new Element('iq', replyAttrs(iq, 'result'));
  if (payload !== undefined) result.cnode(payload);
  return result;
}

/**
 * Attributes of a reply to `stanza` (RFC 6120 §8.2.3, §8.3.1): its `xmlns`, `from` and
 * `to` swapped, its `id` (each only if present), then `type`. Internal to the package.
 */
export function replyAttrs(stanza: Element, type: string): Record<string, string> {
  const { xmlns, from, to, id } = stanza.attrs as Record<string, unknown>;
  const attrs: Record<string, string> = {};
  if (typeof xmlns === 'string') attrs.xmlns = xmlns;
  if (typeof to === 'string') attrs.from = to;
  if (typeof from === 'string') attrs.to = from;
  if (typeof id === 'string') attrs.id = id;
  attrs.type = type;
  return attrs;
}
