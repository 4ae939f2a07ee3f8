import type { Jid } from '@parley/jid';
import type { BlocklistStore } from './blocklist-store.js';
import { blockKeys } from './jid-match.js';

/** Default bound on cached blocklists per gateway (accounts; the longest loaded go first). */
export const DEFAULT_BLOCKLIST_CACHE_ENTRIES = 10_000;

/**
 * The XEP-0191 blocklists of the accounts with sessions on this gateway, kept in memory so
 * that filtering what rooms deliver (§3.3: stanzas from a blocked JID are not delivered)
 * costs no Redis round trip per stanza. A list is loaded at first need (one ZRANGE, shared
 * by concurrent callers) and forgotten when it changes (`invalidate`: the blocking module
 * here, or a `blocklist` envelope from the gateway that changed it) or when the account's
 * last session on this gateway ends (`forget`), so a list is never kept for an account
 * whose changes would not be announced here. At most `maxEntries` lists are kept (the
 * longest loaded evicted first: no bookkeeping per check; an evicted list of an active account
 * costs one reload); each list is bounded by `limits.maxBlocklistItems`.
 */
export class BlocklistCache {
  /** owner bare JID → its blocked JIDs; Map order is load order. */
  private readonly lists = new Map<string, ReadonlySet<string>>();
  /** Loads in flight; an invalidation removes its entry, so the stale result is not kept. */
  private readonly loading = new Map<string, Promise<ReadonlySet<string>>>();

  constructor(
    private readonly store: Pick<BlocklistStore, 'list'>,
    private readonly maxEntries = DEFAULT_BLOCKLIST_CACHE_ENTRIES,
  ) {}

  /** How many lists are cached (for tests and metrics). */
  get size(): number {
    return this.lists.size;
  }

  /** The cached list of `owner`, or undefined when it is not loaded. */
  peek(owner: string): ReadonlySet<string> | undefined {
    return this.lists.get(owner);
  }

  /** The list of `owner`, loaded when not cached. @throws what Redis throws */
  async get(owner: string): Promise<ReadonlySet<string>> {
    const cached = this.peek(owner);
    if (cached) return cached;
    const inFlight = this.loading.get(owner);
    if (inFlight) return inFlight;
    const load = this.store.list(owner).then((jids) => {
      const set: ReadonlySet<string> = new Set(jids);
      if (this.loading.get(owner) === load) {
        this.loading.delete(owner);
        this.lists.set(owner, set);
        while (this.lists.size > this.maxEntries) this.lists.delete(this.lists.keys().next().value!);
      }
      return set;
    });
    this.loading.set(owner, load);
    load.catch(() => {
      if (this.loading.get(owner) === load) this.loading.delete(owner);
    });
    return load;
  }

  /**
   * Whether `owner`'s cached blocklist has an entry matching the sender whose
   * {@link blockKeys} are `fromKeys` (XEP-0191 §6; computed once per stanza by the caller);
   * undefined when not cached. Synchronous.
   */
  check(owner: string, fromKeys: readonly string[]): boolean | undefined {
    const list = this.lists.get(owner);
    return list === undefined ? undefined : matches(list, fromKeys);
  }

  /** Whether `owner`'s blocklist has an entry matching `from` (XEP-0191 §6), loading it when needed. @throws what Redis throws */
  async blocks(owner: string, from: Jid): Promise<boolean> {
    const keys = blockKeys(from);
    return this.check(owner, keys) ?? matches(await this.get(owner), keys);
  }

  /** `owner`'s list changed: the cached copy (and any load in flight) is dropped. */
  invalidate(owner: string): void {
    this.lists.delete(owner);
    this.loading.delete(owner);
  }

  /** The account has no session here any more: its list is dropped (same as {@link invalidate}). */
  forget(owner: string): void {
    this.invalidate(owner);
  }
}

function matches(list: ReadonlySet<string>, keys: readonly string[]): boolean {
  if (list.size === 0) return false;
  for (const k of keys) if (list.has(k)) return true;
  return false;
}
