import type { Redis } from 'ioredis';
import type { Element } from 'ltx';
import { parseSessionRecord, type KeySpace } from '@parley/bus';
import { decodeItem, departureStanzas, type RosterItem } from '@parley/roster';
import { deriveCredentials, type StoredCredentials } from '@parley/sasl';

/**
 * Accounts in Redis: one hash per bare JID holding the SCRAM credentials (salted and
 * hashed, RFC 5802 §3; never the password) and the creation time, plus an index set.
 * Bare JIDs given here must already be normalised (RFC 7622).
 */
export class AccountStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: KeySpace,
    private readonly iterations: number,
  ) {}

  /** The stored credentials of an account, or undefined when there is no such account. */
  async getCredentials(bareJid: string): Promise<StoredCredentials | undefined> {
    const raw = await this.redis.hget(this.keys.account(bareJid), 'credentials');
    if (!raw) return undefined;
    try {
      return JSON.parse(raw) as StoredCredentials;
    } catch {
      return undefined;
    }
  }

  async exists(bareJid: string): Promise<boolean> {
    return (await this.redis.exists(this.keys.account(bareJid))) === 1;
  }

  /**
   * Creates an account. Resolves false (and changes nothing) when it exists already.
   * @param now - creation time, ms since epoch
   */
  async create(bareJid: string, password: string, now = Date.now()): Promise<boolean> {
    const creds = await deriveCredentials(password, { iterations: this.iterations });
    const created = await this.redis.hsetnx(this.keys.account(bareJid), 'credentials', JSON.stringify(creds));
    if (created === 0) return false;
    await this.redis.multi().hset(this.keys.account(bareJid), 'created', String(now)).sadd(this.keys.accountIndex(), bareJid).exec();
    return true;
  }

  /** Replaces the password of an existing account; resolves false when there is none. */
  async setPassword(bareJid: string, password: string): Promise<boolean> {
    if (!(await this.exists(bareJid))) return false;
    const creds = await deriveCredentials(password, { iterations: this.iterations });
    await this.redis.hset(this.keys.account(bareJid), 'credentials', JSON.stringify(creds));
    return true;
  }

  /**
   * The stanzas that cancel the presence subscriptions of an account about to be removed
   * (XEP-0077 §3.2; see `departureStanzas` in @parley/roster), from its roster, its
   * unanswered requests and its available resources, read in one transaction. Both account
   * removals (in-band on a gateway, the admin API's delete-user job) route them before
   * {@link delete}, so each contact's server updates the contact's roster with a push.
   * Also empties the account's blocklist (XEP-0191), so that these stanzas reach contacts it
   * had blocked too. Resolves [] when there is nothing to cancel.
   */
  async departure(bareJid: string): Promise<Element[]> {
    const replies = (await this.redis
      .multi()
      .hgetall(this.keys.roster(bareJid))
      .hkeys(this.keys.rosterPending(bareJid))
      .hgetall(this.keys.userSessions(bareJid))
      .del(this.keys.blocklist(bareJid))
      .exec()) ?? [];
    for (const [err] of replies) if (err) throw err;
    const roster = (replies[0]?.[1] ?? {}) as Record<string, string>;
    const pendingFrom = (replies[1]?.[1] ?? []) as string[];
    const sessions = (replies[2]?.[1] ?? {}) as Record<string, string>;
    const items: RosterItem[] = [];
    for (const [jid, raw] of Object.entries(roster)) {
      const item = decodeItem(jid, raw);
      if (item) items.push(item);
    }
    const availableResources = Object.entries(sessions)
      .filter(([, raw]) => parseSessionRecord(raw)?.available === true)
      .map(([resource]) => resource);
    return departureStanzas(bareJid, { items, pendingFrom, availableResources });
  }

  /**
   * Deletes an account and what is stored with it in its slot: offline messages, roster,
   * blocklist, vCard, private XML, last activity, PEP nodes, message archive; resolves false when there was none.
   */
  async delete(bareJid: string): Promise<boolean> {
    // XEP-0163 PEP: the node hash, the byte count and each node's items and order.
    const pepNodes = await this.redis.hkeys(this.keys.pepNodes(bareJid));
    const pepKeys = [this.keys.pepNodes(bareJid), this.keys.pepMeta(bareJid)];
    for (const node of pepNodes) pepKeys.push(this.keys.pepItems(bareJid, node), this.keys.pepOrder(bareJid, node));
    const [[, removed] = [null, 0]] = (await this.redis
      .multi()
      .del(this.keys.account(bareJid))
      .del(this.keys.offline(bareJid), this.keys.offlineQuota(bareJid))
      // Its roster (RFC 6121 §2), version, pending requests and last unavailable presence.
      .del(this.keys.roster(bareJid), this.keys.rosterVersion(bareJid), this.keys.rosterPending(bareJid), this.keys.lastUnavailable(bareJid))
      // XEP-0191 blocklist, XEP-0054 vCard, XEP-0049 private XML, XEP-0012 last activity.
      .del(this.keys.blocklist(bareJid), this.keys.vcard(bareJid), this.keys.privateXml(bareJid), this.keys.lastActivity(bareJid))
      .del(...pepKeys)
      // XEP-0313 message archive, its id index and archiving preferences.
      .del(this.keys.mamArchive(bareJid), this.keys.mamArchiveIndex(bareJid), this.keys.mamPrefs(bareJid))
      .srem(this.keys.accountIndex(), bareJid)
      .exec()) ?? [];
    return removed === 1;
  }

  /**
   * Records that an account was deleted (Prosody's mod_tombstones idea): for `ttlMs` the
   * name is remembered, so that callers can refuse a new account of the same name until the
   * old one's room privileges are surely gone.
   * @param now - deletion time, ms since epoch
   */
  async markDeleted(bareJid: string, ttlMs: number, now = Date.now()): Promise<void> {
    await this.redis.set(this.keys.tombstone(bareJid), String(now), 'PX', Math.max(1, Math.round(ttlMs)));
  }

  /** When the account of that name was deleted (ms since epoch), while its tombstone lasts. */
  async deletedAt(bareJid: string): Promise<number | undefined> {
    const raw = await this.redis.get(this.keys.tombstone(bareJid));
    return raw === null ? undefined : Number(raw);
  }

  /** Forgets a tombstone (an administrator re-creating the name on purpose). */
  async clearTombstone(bareJid: string): Promise<void> {
    await this.redis.del(this.keys.tombstone(bareJid));
  }

  /** Every account's bare JID, sorted. */
  async list(): Promise<string[]> {
    return (await this.redis.smembers(this.keys.accountIndex())).sort();
  }
}
