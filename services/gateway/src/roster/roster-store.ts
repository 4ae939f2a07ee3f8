import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import type { KeySpace } from '@parley/bus';
import { decodeItem, encodeItem, sendsPresenceTo, type RosterItem, type Subscription } from '@parley/roster';

/** Why a roster change was not made. */
export class RosterFullError extends Error {
  constructor(readonly max: number) {
    super(`the roster holds ${max} items already`);
  }
}

/** One contact's roster state for an account: its item (if any) and the unanswered inbound request (if any). */
export interface ContactState {
  item: RosterItem | undefined;
  /** The stored subscription request from the contact, serialised ("Pending In", RFC 6121 §3.1.3). */
  pending: string | undefined;
}

/** What an update function decides: the new item (undefined removes it) and what to do with Pending In. */
export interface ContactChange {
  item: RosterItem | undefined;
  /** `keep`: unchanged; `clear`: removed; a string: the request to store. */
  pending: 'keep' | 'clear' | string;
}

/** Result of {@link RosterStore.update}: what was there, what is there now, and the roster version. */
export interface Updated {
  before: ContactState;
  after: ContactState;
  /** The roster version (RFC 6121 §2.6) after the change, decimal. */
  ver: string;
  /** Whether the visible item changed (so it is pushed, RFC 6121 §2.1.6). */
  itemChanged: boolean;
}

interface CasRedis extends Redis {
  rosterCas(
    roster: string, ver: string, pending: string,
    contact: string, oldItem: string, newItem: string, oldPending: string, newPending: string, max: number, bump: string,
  ): Promise<number>;
}

/**
 * Attempts of one optimistic update before giving up. Contention on one item is rare (the
 * user and one contact); after a conflict the next attempt waits a random 0–`attempt` ms
 * so that many writers at once spread out instead of colliding again.
 */
const MAX_ATTEMPTS = 64;

/**
 * Rosters in Redis (RFC 6121 §2): per account a hash contact → item, a version counter and
 * a hash of unanswered inbound subscription requests, all in the account's hash-tag slot
 * (`KeySpace.roster`, `rosterVersion`, `rosterPending`). Every change is a compare-and-set
 * (lua/roster-cas-3.lua) retried on conflict, so concurrent changes from several gateways
 * to one roster never lose an update. Holds no state of its own: any gateway can build one.
 */
export class RosterStore {
  private readonly redis: CasRedis;

  /**
   * @param redis - the gateway's command connection (the `rosterCas` script is defined on it)
   * @param maxItems - `limits.maxRosterItems`: adding past it throws {@link RosterFullError}
   */
  constructor(redis: Redis, private readonly keys: KeySpace, private readonly maxItems: number) {
    if (!(redis as unknown as Record<string, unknown>).rosterCas) {
      const lua = readFileSync(new URL('../../lua/roster-cas-3.lua', import.meta.url), 'utf8');
      redis.defineCommand('rosterCas', { numberOfKeys: 3, lua });
    }
    this.redis = redis as CasRedis;
  }

  /**
   * The subscription of `owner`'s roster item for `contact` (both bare JIDs, normalised);
   * `none` when there is no item (RFC 6121 §2.1.2.5). Pending flags are not reflected.
   */
  async subscriptionOf(owner: string, contact: string): Promise<Subscription> {
    return decodeItem(contact, await this.redis.hget(this.keys.roster(owner), contact))?.subscription ?? 'none';
  }

  /**
   * Whether `owner` shares its presence with `contact` (subscription `from` or `both`, RFC 6121
   * §3): who may read its last activity, discover it, and hear of a block.
   */
  async sendsPresenceTo(owner: string, contact: string): Promise<boolean> {
    return sendsPresenceTo(await this.subscriptionOf(owner, contact));
  }

  /** The whole roster of `owner` and its version (RFC 6121 §2.1.3, §2.6). */
  async roster(owner: string): Promise<{ items: RosterItem[]; ver: string }> {
    const [all, ver] = await Promise.all([this.redis.hgetall(this.keys.roster(owner)), this.redis.get(this.keys.rosterVersion(owner))]);
    const items: RosterItem[] = [];
    for (const [jid, raw] of Object.entries(all)) {
      const item = decodeItem(jid, raw);
      if (item) items.push(item);
    }
    items.sort((a, b) => (a.jid < b.jid ? -1 : a.jid > b.jid ? 1 : 0));
    return { items, ver: ver ?? '0' };
  }

  /** `owner`'s item for `contact` and the pending request from `contact`. */
  async contact(owner: string, contact: string): Promise<ContactState> {
    const [raw, pending] = await Promise.all([this.redis.hget(this.keys.roster(owner), contact), this.redis.hget(this.keys.rosterPending(owner), contact)]);
    return { item: decodeItem(contact, raw), pending: pending ?? undefined };
  }

  /** Every unanswered inbound subscription request of `owner` (serialised presence stanzas, RFC 6121 §3.1.3). */
  async pendingRequests(owner: string): Promise<string[]> {
    return Object.values(await this.redis.hgetall(this.keys.rosterPending(owner)));
  }

  /**
   * Changes one contact's item and Pending In atomically: reads, applies `change`, writes
   * with a compare-and-set, and starts again when another gateway changed it meanwhile.
   * `change` may run more than once, so it must be pure.
   * @throws RosterFullError when the change adds an item to a full roster (RFC 6121 §2.3.3)
   */
  async update(owner: string, contact: string, change: (current: ContactState) => ContactChange): Promise<Updated> {
    const rosterKey = this.keys.roster(owner);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const [raw, pending] = await Promise.all([this.redis.hget(rosterKey, contact), this.redis.hget(this.keys.rosterPending(owner), contact)]);
      const before: ContactState = { item: decodeItem(contact, raw), pending: pending ?? undefined };
      const next = change(before);
      const newRaw = next.item ? encodeItem({ ...next.item, jid: contact }) : '';
      const oldRaw = raw ?? '';
      const itemChanged = newRaw !== (before.item ? encodeItem(before.item) : '');
      const pendingArg = next.pending === 'keep' ? '=' : next.pending === 'clear' ? (pending === null ? '=' : '-') : next.pending;
      const r = await this.redis.rosterCas(
        rosterKey, this.keys.rosterVersion(owner), this.keys.rosterPending(owner),
        contact, oldRaw, newRaw, pending === null ? '0' : '1', pendingArg, this.maxItems, itemChanged ? '1' : '0',
      );
      if (r === -2) throw new RosterFullError(this.maxItems);
      if (r === -1) {
        await new Promise((resolve) => setTimeout(resolve, Math.random() * attempt));
        continue;
      }
      const after: ContactState = {
        item: next.item ? { ...next.item, jid: contact } : undefined,
        pending: next.pending === 'keep' ? before.pending : next.pending === 'clear' ? undefined : next.pending,
      };
      return { before, after, ver: String(r), itemChanged };
    }
    throw new Error(`roster item ${contact} of ${owner} kept changing; gave up after ${MAX_ATTEMPTS} attempts`);
  }

  /** Deletes an account's roster, version and pending requests (account deletion). */
  async deleteAll(owner: string): Promise<void> {
    await this.redis.del(this.keys.roster(owner), this.keys.rosterVersion(owner), this.keys.rosterPending(owner), this.keys.lastUnavailable(owner));
  }
}
