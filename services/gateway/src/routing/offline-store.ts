import { clone, type Element } from 'ltx';
import type { KeySpace } from '@parley/bus';
import { NS, parseOwnElement, serialize } from '@parley/xml';
import type { ScriptedRedis } from './scripts.js';

/**
 * Offline message storage (RFC 6121 §8.5.2.1.1, XEP-0160): messages to a user with no
 * available resource are kept in a Redis list, stamped with a XEP-0203 `<delay/>`, and
 * handed over on the user's next initial presence.
 */
export class OfflineStore {
  constructor(
    private readonly redis: ScriptedRedis,
    private readonly keys: KeySpace,
    private readonly maxMessages: number,
  ) {}

  /**
   * Stores a message for later delivery.
   * @param server - the domain that stamps the delay (`from` of `<delay/>`)
   * @param now - storage time, ms since epoch (XEP-0082 DateTime in the stamp)
   * @returns false when the user's queue is full (the caller bounces `service-unavailable`)
   */
  async push(bareJid: string, message: Element, server: string, now: number): Promise<boolean> {
    const copy = clone(message);
    copy.children = copy.children.filter((c) => !(typeof c !== 'string' && c.name === 'delay' && c.attrs.xmlns === NS.DELAY));
    copy.c('delay', { xmlns: NS.DELAY, from: server, stamp: new Date(now).toISOString() }).up();
    return (await this.redis.offlinePush(this.keys.offline(bareJid), this.maxMessages, serialize(copy))) > 0;
  }

  /** Takes every stored message, oldest first; entries that no longer parse are skipped. */
  async popAll(bareJid: string): Promise<Element[]> {
    const raw = await this.redis.offlinePop(this.keys.offline(bareJid));
    const out: Element[] = [];
    for (const xml of raw) {
      try {
        out.push(parseOwnElement(xml, NS.CLIENT));
      } catch {
        // Written by us; a parse failure means a corrupted entry, dropping it is all we can do.
      }
    }
    return out;
  }
}
