import type { Redis } from 'ioredis';
import type { KeySpace } from '@parley/bus';
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

  /** Deletes an account, its offline messages and its roster; resolves false when there was none. */
  async delete(bareJid: string): Promise<boolean> {
    const [[, removed] = [null, 0]] = (await this.redis
      .multi()
      .del(this.keys.account(bareJid))
      .del(this.keys.offline(bareJid))
      // Its roster (RFC 6121 §2), version, pending requests and last unavailable presence.
      .del(this.keys.roster(bareJid), this.keys.rosterVersion(bareJid), this.keys.rosterPending(bareJid), this.keys.lastUnavailable(bareJid))
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
