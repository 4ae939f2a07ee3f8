// XEP-0115 entity capabilities of the server: the verification string and the stream feature.
import { createHash } from 'node:crypto';
import { Element } from 'ltx';

/** The caps namespace (XEP-0115 §4). */
export const CAPS_NS = 'http://jabber.org/protocol/caps';

/** XEP-0115 §4 `node`: a URI naming this software (made up, there is no project site). */
export const CAPS_NODE = 'urn:x-parley:caps';

/**
 * XEP-0115 §5.1 verification string, SHA-1: identities sorted by category, type, xml:lang
 * and name, each `category/type/lang/name<`; then the features sorted, each `feature<`
 * (no extended forms: the server publishes none); SHA-1 over the UTF-8 bytes, base64. Pure.
 */
export function capsVer(identities: ReadonlyArray<Readonly<Record<string, string>>>, features: readonly string[]): string {
  const ids = identities.map((i) => `${i.category ?? ''}/${i.type ?? ''}/${i['xml:lang'] ?? ''}/${i.name ?? ''}`);
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  let s = '';
  for (const id of ids.sort(cmp)) s += `${id}<`;
  for (const f of [...features].sort(cmp)) s += `${f}<`;
  return createHash('sha1').update(s, 'utf8').digest('base64');
}

/** The `<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node=… ver=…/>` element (XEP-0115 §4, §6.3 stream feature). */
export function capsElement(ver: string): Element {
  return new Element('c', { xmlns: CAPS_NS, hash: 'sha-1', node: CAPS_NODE, ver });
}
