// Deep copies of ltx elements: an element can have only one parent, and every outgoing
// stanza must be its own tree (the worker may rewrite `to` on each).
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
