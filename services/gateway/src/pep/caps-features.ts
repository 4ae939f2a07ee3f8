// XEP-0115 entity capabilities of clients, as PEP needs them (XEP-0163 §4.4 "+notify"):
// reading a disco#info result and checking it against the caps hash. Pure: no I/O.
import { createHash, getHashes } from 'node:crypto';
import type { Element } from 'ltx';

const DISCO_INFO_NS = 'http://jabber.org/protocol/disco#info';
const DATA_FORMS_NS = 'jabber:x:data';
const NOTIFY_SUFFIX = '+notify';

/** The caps a client announced in a presence (`<c xmlns='http://jabber.org/protocol/caps'/>`, XEP-0115 §4). */
export interface AnnouncedCaps {
  /** `hash`: the algorithm name (IANA, e.g. `sha-1`); empty for legacy caps. */
  hash: string;
  node: string;
  ver: string;
}

/** Reads the `<c/>` of a presence; undefined when there is none or it lacks `node` or `ver`. */
export function announcedCaps(presence: Element): AnnouncedCaps | undefined {
  const c = presence.getChild('c', 'http://jabber.org/protocol/caps');
  const node = c?.attrs.node;
  const ver = c?.attrs.ver;
  if (typeof node !== 'string' || typeof ver !== 'string' || node === '' || ver === '') return undefined;
  return { hash: typeof c!.attrs.hash === 'string' ? c!.attrs.hash : '', node, ver };
}

/** Longest node name kept from a `+notify` feature (as PEP's own bound on node names); longer ones are ignored. */
export const MAX_NOTIFY_NODE_LENGTH = 1024;

/**
 * The nodes a disco#info `<query/>` asks notifications for: its `<node>+notify` features
 * (XEP-0163 §4.4), at most `max` (the first ones in document order), without duplicates,
 * each at most {@link MAX_NOTIFY_NODE_LENGTH} long.
 */
export function notifyNodes(query: Element, max: number): string[] {
  const nodes = new Set<string>();
  for (const f of query.getChildren('feature')) {
    const v = f.attrs.var;
    if (typeof v !== 'string' || !v.endsWith(NOTIFY_SUFFIX) || v.length === NOTIFY_SUFFIX.length) continue;
    if (v.length - NOTIFY_SUFFIX.length > MAX_NOTIFY_NODE_LENGTH) continue;
    nodes.add(v.slice(0, -NOTIFY_SUFFIX.length));
    if (nodes.size >= max) break;
  }
  return [...nodes];
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
/** IANA hash names (XEP-0115 §4 `hash`) → node:crypto names; a Map, so untrusted names index nothing. */
const HASHES: ReadonlyMap<string, string> = new Map([
  ['sha-1', 'sha1'],
  ['sha-224', 'sha224'],
  ['sha-256', 'sha256'],
  ['sha-384', 'sha384'],
  ['sha-512', 'sha512'],
]);

/**
 * XEP-0115 §5.1 and §5.4 verification string of a disco#info `<query/>`: identities
 * (`category/type/lang/name<`, sorted), features (sorted), then each extended data form
 * (sorted by FORM_TYPE: `FORM_TYPE<`, then its fields sorted by var, each `var<` and its
 * values sorted, each `value<`), hashed with `hash` and base64-encoded.
 * @returns undefined when §5.4 says not to trust the result: an unknown hash algorithm,
 *   duplicate identities or features, a form without FORM_TYPE or two with the same one
 */
export function verificationString(query: Element, hash: string): string | undefined {
  const algo = HASHES.get(hash);
  if (algo === undefined || !getHashes().includes(algo)) return undefined;
  const ids = query.getChildren('identity').map((i) => `${i.attrs.category ?? ''}/${i.attrs.type ?? ''}/${i.attrs['xml:lang'] ?? ''}/${i.attrs.name ?? ''}`);
  const features = query.getChildren('feature').map((f) => String(f.attrs.var ?? ''));
  if (new Set(ids).size !== ids.length || new Set(features).size !== features.length) return undefined;
  let s = '';
  for (const id of ids.sort(cmp)) s += `${id}<`;
  for (const f of features.sort(cmp)) s += `${f}<`;
  const forms: Array<{ type: string; fields: Array<{ name: string; values: string[] }> }> = [];
  for (const x of query.getChildren('x', DATA_FORMS_NS)) {
    let type: string | undefined;
    const fields: Array<{ name: string; values: string[] }> = [];
    for (const field of x.getChildren('field')) {
      const name = String(field.attrs.var ?? '');
      const values = field.getChildren('value').map((v) => v.getText());
      if (name === 'FORM_TYPE') type = values[0];
      else fields.push({ name, values });
    }
    if (type === undefined) return undefined;
    forms.push({ type, fields });
  }
  if (new Set(forms.map((f) => f.type)).size !== forms.length) return undefined;
  for (const form of forms.sort((a, b) => cmp(a.type, b.type))) {
    s += `${form.type}<`;
    for (const field of form.fields.sort((a, b) => cmp(a.name, b.name))) {
      s += `${field.name}<`;
      for (const v of field.values.sort(cmp)) s += `${v}<`;
    }
  }
  return createHash(algo).update(s, 'utf8').digest('base64');
}

/** Whether a disco#info result matches the caps it was asked for (XEP-0115 §5.4 step 3), so it may be cached by `ver`. */
export function capsVerified(caps: AnnouncedCaps, query: Element): boolean {
  return query.attrs.xmlns === DISCO_INFO_NS && verificationString(query, caps.hash) === caps.ver;
}

/**
 * A bounded map from verified caps (`hash ver`) to notify nodes, least recently used first
 * out. Only verified results enter it: an unverified disco#info (legacy caps, a wrong hash)
 * is used for its own session only, so a client cannot poison another's view.
 */
export class CapsCache {
  private readonly map = new Map<string, readonly string[]>();

  constructor(private readonly max: number) {}

  static key(caps: AnnouncedCaps): string {
    return `${caps.hash} ${caps.ver}`;
  }

  get(key: string): readonly string[] | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }

  set(key: string, nodes: readonly string[]): void {
    this.map.delete(key);
    this.map.set(key, nodes);
    while (this.map.size > this.max) this.map.delete(this.map.keys().next().value!);
  }

  get size(): number {
    return this.map.size;
  }
}
