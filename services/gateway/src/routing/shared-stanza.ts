// One stanza written to one or many local sessions that differ only in `to` (a room's
// fanout, XEP-0045 §7.4 "reflect the message out to the full JID of each occupant", or a
// joiner's view of the room): kept as text, and each recipient's copy is that text with its
// own `to` attribute spliced in. No element, no parse and no serialisation per recipient.
import { Element, unescapeXML } from 'ltx';
import { splitStartTag } from '@parley/bus';
import { NS, escapeAttrValue, parseOwnElement, serialize } from '@parley/xml';

/**
 * A stanza in `jabber:client` without `to`, ready to be written to many sessions.
 * The text for a recipient is byte for byte what serialising the element with `to` set
 * as its last attribute gives (on WebSocket with `xmlns` first, as RFC 7395 wants it).
 */
export class SharedStanza {
  /** The element name (`message`, `presence`, `iq`), for metrics. */
  readonly name: string;
  private readonly head: string;
  private readonly tail: string;
  private qualifiedHead: string | undefined;
  /** null: not read yet. */
  private fromAttr: string | undefined | null = null;

  private constructor(head: string, tail: string) {
    this.head = head;
    this.tail = tail;
    const m = /^<([^\s/>]+)/.exec(head);
    this.name = m ? m[1]! : '';
  }

  /**
   * From room stanza text (`@parley/bus` envelope.ts: no `to`, no `xmlns` on the root), as
   * room workers write it; anything else is parsed and normalised.
   * @throws XmlError when the text is not well-formed XML
   */
  static fromText(xml: string): SharedStanza {
    const split = splitStartTag(xml);
    if (split) return new SharedStanza(split[0], split[1]);
    const el = parseOwnElement(xml, NS.CLIENT);
    delete el.attrs.to;
    return SharedStanza.fromElement(el);
  }

  /** From an element in `jabber:client` (its `to`, if any, is left out); `el` is not modified. */
  static fromElement(el: Element): SharedStanza {
    const { to: _to, xmlns: _xmlns, ...attrs } = el.attrs;
    const shallow = new Element(el.name, attrs);
    shallow.children = el.children;
    const xml = serialize(shallow);
    const end = xml.indexOf('>');
    const at = xml[end - 1] === '/' ? end - 1 : end;
    return new SharedStanza(xml.slice(0, at), xml.slice(at));
  }

  /**
   * The stanza with `to` set.
   * @param omitClientNs - leave out `xmlns='jabber:client'` (TCP streams declare it in the
   *   stream header; RFC 7395 WebSocket frames carry it on every stanza)
   */
  text(to: string, omitClientNs: boolean): string {
    const head = omitClientNs ? this.head : (this.qualifiedHead ??= `<${this.name} xmlns="${NS.CLIENT}"${this.head.slice(this.name.length + 1)}`);
    return `${head} to="${escapeAttrValue(to)}"${this.tail}`;
  }

  /** The stanza's `from` attribute (unescaped), or undefined; read from the start tag at first use. */
  get from(): string | undefined {
    if (this.fromAttr === null) {
      this.fromAttr = undefined;
      // The start tag's attributes in order (name="value" or name='value'; values escaped).
      for (const m of this.head.matchAll(/\s([^\s=/>]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
        if (m[1] === 'from') {
          this.fromAttr = unescapeXML(m[2] ?? m[3] ?? '');
          break;
        }
      }
    }
    return this.fromAttr;
  }

  /** The stanza with `to` set, as an element (for the router's slow path, RFC 6121 §8.5.3). */
  element(to: string): Element {
    return parseOwnElement(this.text(to, false), NS.CLIENT);
  }
}
