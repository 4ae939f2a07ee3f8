// Deep copies of ltx elements: an element can have only one parent, so a child taken from
// an incoming stanza is copied into the stanza the room sends. Outgoing stanzas are their
// own trees, except the heads of one broadcast (Turn.broadcast), which share their children
// and differ only in `to`; nobody modifies an outgoing stanza's children.
import { Element } from 'ltx';

/** A deep copy of `el` (attributes, child elements and text), detached from any parent. */
export function copyElement(el: Element): Element {
  const copy = new Element(el.name, { ...el.attrs });
  for (const child of el.children) {
    if (typeof child === 'string') copy.children.push(child);
    else copy.cnode(copyElement(child));
  }
  return copy;
}
