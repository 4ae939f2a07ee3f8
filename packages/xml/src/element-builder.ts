// Builds ltx elements from saxes (xmlns: true) tags, normalising namespaces so that
// each emitted top-level element stands alone (W3C Namespaces in XML §6): names lose
// their prefixes and an `xmlns` attribute carries each element's namespace where it
// differs from its parent's.
import { Element } from 'ltx';
import type { SaxesTagNS } from 'saxes';

/**
 * Tree builder for one top-level element at a time.
 *
 * - Element names are local names; the top-level element gets `xmlns` set to its
 *   namespace (omitted only when it is in no namespace), a descendant gets `xmlns`
 *   when its namespace differs from its parent's (`xmlns=''` for no namespace).
 * - Other attributes are kept as written, `xml:lang` and `xmlns:p` declarations
 *   included. A prefix used by an attribute but declared outside the subtree (e.g. on
 *   the stream header) is declared again on the top-level element.
 * - Text and CDATA are appended as text children (adjacent text is merged).
 */
export class ElementBuilder {
  private top: Element | undefined;
  private current: Element | undefined;
  /** Namespace of each open element, outermost first. */
  private readonly uris: string[] = [];

  /** Number of open elements (0 between top-level elements). */
  get depth(): number {
    return this.uris.length;
  }

  /** Opens an element. */
  open(tag: SaxesTagNS): void {
    const uri = tag.uri;
    const parentUri = this.uris[this.uris.length - 1];
    const attrs: Record<string, string> = {};
    if (parentUri === undefined ? uri !== '' : uri !== parentUri) attrs.xmlns = uri;
    const prefixed: { prefix: string; uri: string }[] = [];
    for (const attr of Object.values(tag.attributes)) {
      if (attr.name === 'xmlns') continue;
      attrs[attr.name] = attr.value;
      if (attr.prefix !== '' && attr.prefix !== 'xml' && attr.prefix !== 'xmlns') {
        prefixed.push({ prefix: attr.prefix, uri: attr.uri });
      }
    }
    const el = new Element(tag.local, attrs);
    if (this.current === undefined) this.top = el;
    else this.current.cnode(el);
    this.current = el;
    this.uris.push(uri);
    for (const { prefix, uri: attrUri } of prefixed) {
      if (el.findNS(prefix) === undefined && this.top !== undefined) {
        this.top.attrs[`xmlns:${prefix}`] = attrUri;
      }
    }
  }

  /** Appends character data to the open element (ignored when none is open). */
  text(text: string): void {
    const el = this.current;
    if (el === undefined || text === '') return;
    const last = el.children.length - 1;
    const prev = el.children[last];
    if (typeof prev === 'string') el.children[last] = prev + text;
    else el.children.push(text);
  }

  /** Closes the innermost element; returns the top-level element when it is the one closed. */
  close(): Element | undefined {
    const el = this.current;
    if (el === undefined) return undefined;
    this.uris.pop();
    if (this.uris.length > 0) {
      this.current = el.parent ?? undefined;
      return undefined;
    }
    this.current = undefined;
    this.top = undefined;
    return el;
  }
}
