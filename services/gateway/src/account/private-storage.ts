// XEP-0049 private XML storage, next to the account in Redis.
import type { Redis } from 'ioredis';
import { Element } from 'ltx';
import type { KeySpace } from '@parley/bus';
import { parseOwnElement, serialize } from '@parley/xml';
import type { IqAnswer, IqHandler, IqHandlers } from '../server/iq-handlers.js';

/** The jabber:iq:private namespace (XEP-0049 §2). */
export const PRIVATE_NS = 'jabber:iq:private';

/** Limits of one account's private storage (`limits.maxPrivateBytes`, `limits.maxPrivateItems`). */
export interface PrivateLimits {
  maxBytes: number;
  maxItems: number;
}

/** The storage field of an element: its namespace and name (as Prosody keys them). Pure. */
export function privateField(el: Element): string {
  return `${el.getNS() ?? ''} ${el.name}`;
}

/**
 * The XEP-0402 §5.3 compatibility of XEP-0048 bookmarks in private storage with the PEP
 * bookmarks node (implemented by the PEP service): a get of `<storage xmlns='storage:bookmarks'/>`
 * reads the PEP node, a set also publishes its rooms there.
 */
export interface BookmarksBridge {
  /** The account's bookmarks as a legacy `<storage/>`, or undefined to answer from private storage. */
  legacyBookmarks(owner: string, stored: Element | undefined): Promise<Element | undefined>;
  /** Checks a legacy `<storage/>` before anything is stored: a refusal text, or undefined. */
  refuseLegacy(storage: Element): string | undefined;
  /** Publishes the rooms of a legacy `<storage/>` to the PEP node (and retracts the others). */
  syncLegacy(owner: string, storage: Element): Promise<void>;
}

/** XEP-0048 §3: the legacy bookmarks namespace. */
export const LEGACY_BOOKMARKS_NS = 'storage:bookmarks';

/** Outcome of {@link PrivateStore.set}. */
export type PrivateSetResult = 'stored' | 'too-large' | 'too-many';

/**
 * One hash per account ({@link KeySpace.privateXml}, the account's slot): field
 * `<namespace> <name>` → the serialised element. A set replaces the elements it names and
 * checks the bounds over the result atomically (a Lua script), so concurrent sets from two
 * resources cannot together pass them.
 */
export class PrivateStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: KeySpace,
    private readonly limits: PrivateLimits,
  ) {}

  /** The stored element for `field`, or undefined. */
  async get(bareJid: string, field: string): Promise<Element | undefined> {
    const xml = await this.redis.hget(this.keys.privateXml(bareJid), field);
    return xml === null ? undefined : parseOwnElement(xml);
  }

  /**
   * Stores each element under its field (replacing what was there), all or nothing.
   * @returns 'too-large' / 'too-many' (nothing stored) when the account's storage would
   *   exceed `maxBytes` (sum of the serialised elements) or `maxItems` (fields)
   */
  async set(bareJid: string, elements: readonly Element[]): Promise<PrivateSetResult> {
    const args: string[] = [String(this.limits.maxBytes), String(this.limits.maxItems)];
    for (const el of elements) {
      const copy = new Element(el.name, { ...el.attrs, xmlns: el.getNS() });
      copy.children = el.children;
      args.push(privateField(el), serialize(copy));
    }
    const result = (await this.redis.eval(SET_SCRIPT, 1, this.keys.privateXml(bareJid), ...args)) as string;
    return result as PrivateSetResult;
  }

  /** Forgets everything stored by a deleted account. */
  async delete(bareJid: string): Promise<void> {
    await this.redis.del(this.keys.privateXml(bareJid));
  }
}

// KEYS[1] the hash; ARGV[1] max bytes, ARGV[2] max fields, then field/value pairs.
// Sums the sizes of the values the hash would hold after the set (HSTRLEN per field).
const SET_SCRIPT = `
local maxBytes, maxItems = tonumber(ARGV[1]), tonumber(ARGV[2])
local new = {}
for i = 3, #ARGV, 2 do new[ARGV[i]] = ARGV[i + 1] end
local fields = redis.call('HKEYS', KEYS[1])
local bytes, count = 0, 0
for _, f in ipairs(fields) do
  if new[f] == nil then
    bytes = bytes + redis.call('HSTRLEN', KEYS[1], f)
    count = count + 1
  end
end
for f, v in pairs(new) do
  bytes = bytes + #v
  count = count + 1
end
if bytes > maxBytes then return 'too-large' end
if count > maxItems then return 'too-many' end
for f, v in pairs(new) do redis.call('HSET', KEYS[1], f, v) end
return 'stored'
`;

/**
 * Registers XEP-0049 get and set on accounts' bare JIDs (the account itself only) and the
 * `jabber:iq:private` feature on accounts and the server (where clients look for it).
 *
 * - Another entity, for get or set: `service-unavailable` (XEP-0049 §2.3 allows it or
 *   `forbidden`; Prosody 0.12 answers it, and it says no more than for an unknown account).
 * - get: exactly one child element (§2.3: "MUST NOT query for more than one namespace");
 *   set: one or more (§2.3: "an IQ set ... MAY contain multiple elements"). None, or more
 *   than one in a get: `not-acceptable` (§2.3 "otherwise the server MUST respond with a
 *   Not Acceptable error"; Prosody answers `bad-format`, which RFC 6120 §8.3.3 does not define).
 * - A child in the jabber:iq:private namespace itself (including one without its own
 *   `xmlns`): `not-acceptable` (§2.3: the fragment "is scoped by its own namespace").
 *   Other reserved namespaces (`jabber:client`, ...) are stored, as Prosody does (refusing
 *   them is OPTIONAL in §2.3).
 * - get of nothing stored: the element asked for, empty (§2.3, as Prosody).
 * - Past `limits.maxPrivateBytes` / `maxPrivateItems`: `not-acceptable` with a text; nothing stored.
 */
export function registerPrivateStorage(table: IqHandlers, store: PrivateStore, bookmarks: () => BookmarksBridge | undefined = () => undefined): void {
  const children = (query: Element) => query.children.filter((c): c is Element => typeof c !== 'string');
  const refusal = (els: Element[], get: boolean) => {
    if (els.length === 0) return 'the query must hold the element to store or retrieve';
    if (get && els.length > 1) return 'one element per get';
    if (els.some((el) => (el.getNS() ?? PRIVATE_NS) === PRIVATE_NS)) return 'the element needs its own namespace';
    return undefined;
  };
  const get: IqHandler = async (query, ctx): Promise<IqAnswer> => {
    if (!ctx.self) return { error: 'service-unavailable' };
    const els = children(query);
    const refused = refusal(els, true);
    if (refused) return { error: 'not-acceptable', text: refused };
    const asked = els[0]!;
    let stored = await store.get(ctx.to.toString(), privateField(asked));
    // XEP-0402 §5.3: legacy bookmarks come from the PEP node when it has any.
    const bridge = asked.name === 'storage' && asked.getNS() === LEGACY_BOOKMARKS_NS ? bookmarks() : undefined;
    if (bridge) stored = (await bridge.legacyBookmarks(ctx.to.toString(), stored)) ?? stored;
    const reply = new Element('query', { xmlns: PRIVATE_NS });
    reply.cnode(stored ?? new Element(asked.name, { xmlns: asked.getNS() }));
    return { payload: reply };
  };
  const set: IqHandler = async (query, ctx): Promise<IqAnswer> => {
    if (!ctx.self) return { error: 'service-unavailable' };
    const els = children(query);
    const refused = refusal(els, false);
    if (refused) return { error: 'not-acceptable', text: refused };
    const legacy = els.find((el) => el.name === 'storage' && el.getNS() === LEGACY_BOOKMARKS_NS);
    const bridge = legacy ? bookmarks() : undefined;
    const bridgeRefusal = bridge?.refuseLegacy(legacy!);
    if (bridgeRefusal) return { error: 'not-acceptable', text: bridgeRefusal };
    const result = await store.set(ctx.to.toString(), els);
    if (result === 'too-large') return { error: 'not-acceptable', text: 'private storage is full' };
    if (result === 'too-many') return { error: 'not-acceptable', text: 'too many elements in private storage' };
    // XEP-0402 §5.3: the rooms go to the PEP bookmarks node too (its notifications follow the result).
    if (bridge) return { afterReply: () => bridge.syncLegacy(ctx.to.toString(), legacy!) };
    return {};
  };
  table.on('get', PRIVATE_NS, 'query', ['account'], get).on('set', PRIVATE_NS, 'query', ['account'], set).feature(PRIVATE_NS, ['server', 'account']);
}
