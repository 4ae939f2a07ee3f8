// One stanza written to many local sessions that differ only in `to` (a room's fanout
// envelope, XEP-0045 §7.4 "reflect the message out to the full JID of each occupant"):
// serialised once per wire format, then each recipient's copy is that text with its own
// `to` attribute spliced in. No element copy and no serialisation per recipient.
import { Element, escapeXML } from 'ltx';
import { NS, serialize } from '@parley/xml';

/**
 * A stanza without `to`, ready to be written to many sessions.
 * The text for a recipient is byte for byte what serialising the element with `to` set
 * as its last attribute gives (ltx writes attributes in insertion order, escapes `>` in
 * attribute values, so the first `>` of the text ends the start tag).
 */
export class SharedStanza {
  private plain: [string, string] | undefined;
  private qualified: [string, string] | undefined;

  /** @param element - the stanza, in `jabber:client`, without a `to` attribute; not modified afterwards */
  constructor(readonly element: Element) {}

  /** The element name (`message`, `presence`, `iq`), for metrics. */
  get name(): string {
    return this.element.name;
  }

  /**
   * The stanza with `to` set.
   * @param omitClientNs - leave out `xmlns='jabber:client'` (TCP streams declare it in the
   *   stream header; RFC 7395 WebSocket frames carry it on every stanza)
   */
  text(to: string, omitClientNs: boolean): string {
    const [head, tail] = omitClientNs ? (this.plain ??= split(serialize(this.element, { omitXmlnsOf: NS.CLIENT }))) : (this.qualified ??= split(this.qualifiedText()));
    return `${head} to="${escapeXML(to)}"${tail}`;
  }

  private qualifiedText(): string {
    if (this.element.attrs.xmlns !== undefined) return serialize(this.element);
    const copy = new Element(this.element.name, { xmlns: NS.CLIENT, ...this.element.attrs });
    copy.children = this.element.children;
    return serialize(copy);
  }
}

/** Splits serialised XML where a last attribute of the root element goes: before `>` or `/>`. */
function split(xml: string): [string, string] {
  const end = xml.indexOf('>');
  const at = xml[end - 1] === '/' ? end - 1 : end;
  return [xml.slice(0, at), xml.slice(at)];
}
