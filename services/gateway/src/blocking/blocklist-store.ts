import type { Redis } from 'ioredis';
import type { KeySpace } from '@parley/bus';
import type { Jid } from '@parley/jid';
import { blockKeys } from './jid-match.js';

/**
 * Adds members to a blocklist sorted set unless the set would grow past a bound; scores
 * keep insertion order. KEYS[1] the set; ARGV[1] the bound; ARGV[2..] the JIDs.
 * Returns the JIDs that were not there before (added now), or -1 (nothing added) past the bound.
 */
const ADD_BOUNDED = `
local key = KEYS[1]
local max = tonumber(ARGV[1])
local fresh = {}
for i = 2, #ARGV do
  if not redis.call('ZSCORE', key, ARGV[i]) then fresh[#fresh + 1] = ARGV[i] end
end
if redis.call('ZCARD', key) + #fresh > max then return -1 end
local last = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
local score = 0
if last[2] then score = tonumber(last[2]) end
for _, jid in ipairs(fresh) do
  score = score + 1
  redis.call('ZADD', key, score, jid)
end
return fresh
`;

interface BlocklistRedis extends Redis {
  blocklistAdd(key: string, max: string, ...jids: string[]): Promise<string[] | number>;
}

/**
 * One account's XEP-0191 blocklist in Redis (`KeySpace.blocklist`, a sorted set in the
 * account's hash-tag slot): normalised JID strings in the order they were blocked. Holds no
 * state of its own, so every gateway reads the same list; the block lasts across sessions
 * and restarts (XEP-0191 §3.3).
 */
export class BlocklistStore {
  private readonly redis: BlocklistRedis;

  /** @param maxItems - `limits.maxBlocklistItems`: {@link add} refuses to grow the list past it */
  constructor(redis: Redis, private readonly keys: KeySpace, readonly maxItems: number) {
    if (!(redis as unknown as Record<string, unknown>).blocklistAdd) redis.defineCommand('blocklistAdd', { numberOfKeys: 1, lua: ADD_BOUNDED });
    this.redis = redis as BlocklistRedis;
  }

  /** Every blocked JID of `owner` (bare JID), oldest first (XEP-0191 §3.2). */
  async list(owner: string): Promise<string[]> {
    return this.redis.zrange(this.keys.blocklist(owner), '0', '-1');
  }

  /**
   * Blocks `jids` (normalised JID strings) atomically.
   * @returns the JIDs newly blocked (already blocked ones are left out), or `'full'` when the
   *   list would hold more than `maxItems` (then nothing changed)
   */
  async add(owner: string, jids: readonly string[]): Promise<string[] | 'full'> {
    if (jids.length === 0) return [];
    const fresh = await this.redis.blocklistAdd(this.keys.blocklist(owner), String(this.maxItems), ...jids);
    return typeof fresh === 'number' ? 'full' : fresh;
  }

  /** Unblocks `jids`; returns those that were blocked. */
  async remove(owner: string, jids: readonly string[]): Promise<string[]> {
    if (jids.length === 0) return [];
    const key = this.keys.blocklist(owner);
    const replies = (await this.redis.multi().zmscore(key, ...jids).zrem(key, ...jids).exec()) ?? [];
    const [err, scores] = replies[0] ?? [new Error('no reply'), null];
    if (err) throw err;
    return jids.filter((_, i) => (scores as Array<string | null>)[i] !== null);
  }

  /** Empties the blocklist (XEP-0191 §3.5) atomically; returns what it held. */
  async clear(owner: string): Promise<string[]> {
    const key = this.keys.blocklist(owner);
    const replies = (await this.redis.multi().zrange(key, '0', '-1').del(key).exec()) ?? [];
    const [err, members] = replies[0] ?? [new Error('no reply'), null];
    if (err) throw err;
    return members as string[];
  }

  /** True when `owner`'s blocklist has an entry matching `jid` (XEP-0191 §6): one round trip. */
  async blocks(owner: string, jid: Jid): Promise<boolean> {
    const scores = await this.redis.zmscore(this.keys.blocklist(owner), ...blockKeys(jid));
    return scores.some((s) => s !== null);
  }
}
