// XEP-0352 Client State Indication: what an inactive client's session holds back, and the
// bounded queue it is held in. Pure: no I/O.
import type { Element } from 'ltx';

/** The CSI namespace (XEP-0352 §3): the `<csi/>` stream feature and the `<active/>`/`<inactive/>` nonzas. */
export const CSI_NS = 'urn:xmpp:csi:0';

const PUBSUB_EVENT_NS = 'http://jabber.org/protocol/pubsub#event';
const CHATSTATES_NS = 'http://jabber.org/protocol/chatstates';

/**
 * How an inactive session treats one stanza (XEP-0352 §4 leaves the policy to the server):
 * - `{ hold: true, key }`: held; a later stanza with the same `key` replaces it (presence:
 *   only the latest per sender full JID matters);
 * - `{ hold: true }`: held, never replaced;
 * - `{ hold: false }`: urgent: the queue is flushed, then it is delivered (order kept).
 */
export type CsiVerdict = { hold: true; key?: string } | { hold: false };

/**
 * Classifies a stanza for an inactive session of `ownBare`:
 * - available and unavailable presence: held, keyed by its `from` (subscription requests
 *   and errors are urgent);
 * - a message without a body that is a PEP notification (XEP-0163, `pubsub#event`) from
 *   another entity, or only a chat state (XEP-0085): held;
 * - everything else (messages with a body, errors, the account's own PEP notifications,
 *   iq): urgent.
 */
export function csiVerdict(stanza: Element, ownBare: string): CsiVerdict {
  const type = stanza.attrs.type;
  if (stanza.name === 'presence') {
    if (type === undefined || type === 'unavailable') return { hold: true, key: `p ${String(stanza.attrs.from ?? '')}` };
    return { hold: false };
  }
  if (stanza.name !== 'message' || type === 'error' || stanza.getChild('body') !== undefined) return { hold: false };
  const children = stanza.children.filter((c): c is Element => typeof c !== 'string');
  if (stanza.getChild('event', PUBSUB_EVENT_NS)) {
    const from = String(stanza.attrs.from ?? '');
    const bare = from.includes('/') ? from.slice(0, from.indexOf('/')) : from;
    return bare === ownBare ? { hold: false } : { hold: true };
  }
  if (children.length > 0 && children.every((c) => c.attrs.xmlns === CHATSTATES_NS)) return { hold: true };
  return { hold: false };
}

/**
 * The queue of one inactive session: entries in arrival order, a keyed entry replacing the
 * earlier one with the same key (the new one takes the later place). At most `max` entries:
 * the entry that fills it makes {@link push} return everything for delivery.
 */
export class CsiQueue<T> {
  private readonly entries = new Map<string, T>();
  private seq = 0;

  constructor(private readonly max: number) {}

  get size(): number {
    return this.entries.size;
  }

  /**
   * Holds `item`.
   * @returns the queue's whole content (then emptied) when it reached `max`, else undefined
   */
  push(item: T, key?: string): T[] | undefined {
    const k = key === undefined ? `#${this.seq++}` : `k${key}`;
    this.entries.delete(k);
    this.entries.set(k, item);
    return this.entries.size >= this.max ? this.drain() : undefined;
  }

  /** Everything held, in order; the queue is empty afterwards. */
  drain(): T[] {
    const out = [...this.entries.values()];
    this.entries.clear();
    return out;
  }
}
