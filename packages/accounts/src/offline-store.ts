// Offline message storage (RFC 6121 §8.5.2.2, XEP-0160), shared by the gateways (messages
// routed to an account with no available resource) and the admin API (`POST /v1/messages`
// to an account with no online session), so both write the same list with the same quotas.
import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import { clone, type Element } from 'ltx';
import type { KeySpace } from '@parley/bus';
import { tryParseJid } from '@parley/jid';
import { NS, parseOwnElement, serialize } from '@parley/xml';

/** Byte and per-sender quotas of a user's offline store (`offline.*` in the configuration). */
export interface OfflineQuota {
  /** Serialised bytes stored per user. */
  maxBytes: number;
  /** Messages stored per user from one sender (bare JID of `from`). */
  maxMessagesPerSender: number;
  /** Serialised bytes stored per user from one sender. */
  maxBytesPerSender: number;
}

/** The outcome of {@link OfflineStore.store}: stored, or which quota refused it. */
export type OfflinePushResult = 'stored' | 'user-messages' | 'user-bytes' | 'sender-messages' | 'sender-bytes';

const REFUSALS: ReadonlyMap<number, OfflinePushResult> = new Map([
  [0, 'user-messages'],
  [-1, 'user-bytes'],
  [-2, 'sender-messages'],
  [-3, 'sender-bytes'],
]);

/** Unbounded quotas, for callers that give only a message count. */
const NO_BYTE_QUOTA: OfflineQuota = { maxBytes: Number.MAX_SAFE_INTEGER, maxMessagesPerSender: Number.MAX_SAFE_INTEGER, maxBytesPerSender: Number.MAX_SAFE_INTEGER };

/** The store's atomic operations (lua/<name>-<numberOfKeys>.lua of this package). */
interface OfflineScripts {
  offlinePush(key: string, quotaKey: string, max: number, xml: string, sender: string, maxBytes: number, maxPerSender: number, maxBytesPerSender: number): Promise<number>;
  offlinePop(key: string, quotaKey: string): Promise<string[]>;
}

/** Defines offline-push-2.lua and offline-pop-2.lua on `redis` once (EVALSHA with EVAL fallback). */
function withScripts(redis: Redis): Redis & OfflineScripts {
  for (const [command, file] of [['offlinePush', 'offline-push-2'], ['offlinePop', 'offline-pop-2']] as const) {
    if ((redis as unknown as Record<string, unknown>)[command]) continue;
    redis.defineCommand(command, { numberOfKeys: 2, lua: readFileSync(new URL(`../lua/${file}.lua`, import.meta.url), 'utf8') });
  }
  return redis as Redis & OfflineScripts;
}

/**
 * Offline message storage (RFC 6121 §8.5.2.2, XEP-0160): messages to a user with no
 * available resource are kept in a Redis list (`keys.offline`, in the account's slot),
 * stamped with a XEP-0203 `<delay/>`, and handed over on the user's next initial presence.
 */
export class OfflineStore {
  private readonly redis: Redis & OfflineScripts;

  constructor(
    redis: Redis,
    private readonly keys: KeySpace,
    private readonly maxMessages: number,
    private readonly quota: OfflineQuota = NO_BYTE_QUOTA,
  ) {
    this.redis = withScripts(redis);
  }

  /**
   * Stores a message for later delivery.
   * @param server - the domain that stamps the delay (`from` of `<delay/>`)
   * @param now - storage time, ms since epoch (XEP-0082 DateTime in the stamp)
   * @returns false when a quota refuses it (the caller bounces `service-unavailable`, as
   *   RFC 6121 §8.5.2.1.1 allows when storage is not possible): see {@link store}
   */
  async push(bareJid: string, message: Element, server: string, now: number): Promise<boolean> {
    return (await this.store(bareJid, message, server, now)) === 'stored';
  }

  /**
   * Stores a message unless it would exceed one of the user's quotas: `maxMessages`
   * messages and `quota.maxBytes` bytes in all, `quota.maxMessagesPerSender` messages and
   * `quota.maxBytesPerSender` bytes from the sender (the bare JID of `from`; so one sender
   * cannot fill another user's store). Atomic (offline-push-2.lua).
   * @returns `stored`, or the quota that refused it (nothing is stored then)
   */
  async store(bareJid: string, message: Element, server: string, now: number): Promise<OfflinePushResult> {
    const copy = clone(message);
    copy.children = copy.children.filter((c) => !(typeof c !== 'string' && c.name === 'delay' && c.attrs.xmlns === NS.DELAY));
    copy.c('delay', { xmlns: NS.DELAY, from: server, stamp: new Date(now).toISOString() }).up();
    const from = typeof message.attrs.from === 'string' ? tryParseJid(message.attrs.from) : undefined;
    const sender = from ? from.bare().toString() : '';
    const q = this.quota;
    const xml = serialize(copy);
    const n = await this.redis.offlinePush(
      this.keys.offline(bareJid),
      this.keys.offlineQuota(bareJid),
      this.maxMessages,
      xml,
      sender,
      q.maxBytes,
      q.maxMessagesPerSender,
      q.maxBytesPerSender,
    );
    return n > 0 ? 'stored' : (REFUSALS.get(n) ?? 'user-messages');
  }

  /** Takes every stored message, oldest first; entries that no longer parse are skipped. */
  async popAll(bareJid: string): Promise<Element[]> {
    const raw = await this.redis.offlinePop(this.keys.offline(bareJid), this.keys.offlineQuota(bareJid));
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
