/*
 * XEP-0313 account archives in Redis, in the account's slot (keys.ts `mamArchive`,
 * `mamArchiveIndex`, `mamPrefs`), shared by the gateways and the admin API: a stream with one
 * entry per archived message (entry id `<ms>-<seq>` by the Redis clock = the archive time;
 * fields `s` archive id, `w` the other party's JID, `x` the message) and a hash archive id →
 * entry id, so that an RSM `<after/>`/`<before/>` id is found without a scan. Appends trim the
 * oldest entries past `mam.maxMessagesPerAccount` and those older than `mam.maxAgeDays`
 * together with their index fields, atomically (lua/mam-append-2.lua of this package); reads
 * leave out entries past the age bound too.
 */
import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import { readArchivePageFrom, type KeySpace } from '@parley/bus';
import { matchesWithFilter, prefsFromJson, type AccountArchiveEntry, type AccountArchivePage, type MamPrefs } from './archive.js';

/** The archive's atomic append (lua/mam-append-2.lua of this package). */
interface ArchiveScripts {
  /** The new entry's stream id, or null when the archive id exists. */
  mamAppend(stream: string, index: string, id: string, withJid: string, xml: string, maxEntries: number, maxAgeMs: number, maxTrim: number): Promise<string | null>;
}

/** Defines mam-append-2.lua on `redis` once (EVALSHA with EVAL fallback). */
function withScripts(redis: Redis): Redis & ArchiveScripts {
  if (!(redis as unknown as Record<string, unknown>).mamAppend) {
    redis.defineCommand('mamAppend', { numberOfKeys: 2, lua: readFileSync(new URL('../lua/mam-append-2.lua', import.meta.url), 'utf8') });
  }
  return redis as Redis & ArchiveScripts;
}

/** Most stream entries one query reads (a `with` filter scans). */
const MAX_SCAN = 20_000;
/** Most old entries one append trims (the rest at the next appends; reads skip them anyway). */
const MAX_TRIM_PER_APPEND = 100;

/** Bounds of every account archive (`mam.*` in the configuration). */
export interface MamLimits {
  /** Most entries per account. */
  maxEntries: number;
  /** Greatest age of an entry, ms; 0: no age bound. */
  maxAgeMs: number;
}

/** A validated query on one account's archive (XEP-0313 §4). */
export interface AccountArchiveQuery {
  /** §4.1.2 `start`/`end`, ms since epoch, inclusive. */
  start?: number;
  end?: number;
  /** §4.1.1 `with`, normalised (bare or full JID). */
  with?: string;
  /** RSM `<after/>`: an archive id (results strictly after it). */
  after?: string;
  /** RSM `<before/>`: an archive id, or '' for the last page. */
  before?: string;
  /** Results wanted (0: only the count). */
  max: number;
  /** #extended §4.1.3 `after-id` / `before-id`: exclusive bounds by archive id (the direction stays forward unless RSM `before`). */
  afterId?: string;
  beforeId?: string;
  /** #extended §4.1.3 `ids`: exactly these archive ids. */
  ids?: readonly string[];
}

/** XEP-0313 §5 archive metadata: the first and the last message kept (archive id, ms since epoch); none when empty. */
export interface ArchiveMetadata {
  start?: { id: string; at: number };
  end?: { id: string; at: number };
}


/** Reads one stream entry's fields into an archive entry; undefined when one is missing. */
function toEntry(streamId: string, fields: string[]): AccountArchiveEntry | undefined {
  let id: string | undefined;
  let w: string | undefined;
  let x: string | undefined;
  for (let f = 0; f + 1 < fields.length; f += 2) {
    if (fields[f] === 's') id = fields[f + 1];
    else if (fields[f] === 'w') w = fields[f + 1];
    else if (fields[f] === 'x') x = fields[f + 1];
  }
  if (id === undefined || w === undefined || x === undefined) return undefined;
  return { id, at: Number(streamId.split('-')[0]), with: w, xml: x };
}

/** The account archives and archiving preferences. */
export class MamStore {
  private readonly redis: Redis & ArchiveScripts;

  constructor(
    redis: Redis,
    private readonly keys: KeySpace,
    private readonly limits: MamLimits,
  ) {
    this.redis = withScripts(redis);
  }

  /**
   * Appends one message to `owner`'s archive under archive id `id` and trims the archive
   * (atomic). Resolves with the archive time (ms since epoch, Redis clock), or undefined when
   * the archive already holds `id` (nothing written).
   * @param withJid - the other party's JID as addressed
   * @param xml - the serialised message (without the archive's own stanza-id)
   */
  async append(owner: string, id: string, withJid: string, xml: string): Promise<number | undefined> {
    const sid = await this.redis.mamAppend(this.keys.mamArchive(owner), this.keys.mamArchiveIndex(owner), id, withJid, xml, this.limits.maxEntries, this.limits.maxAgeMs, MAX_TRIM_PER_APPEND);
    return sid === null ? undefined : Number(sid.split('-')[0]);
  }

  /**
   * Reads the page of `query` from `owner`'s archive: entries oldest first, whether the page
   * reaches the end in its direction (§4.3.2), and the count (queries without
   * `start`/`end`/`with`: the archive's length). `item-not-found` when an RSM id is not in
   * the archive (XEP-0313 §4.3.2). Entries older than the age bound are left out.
   * @param now - ms since epoch (the age bound's reference)
   */
  async readPage(owner: string, query: AccountArchiveQuery, now: number): Promise<AccountArchivePage | 'item-not-found'> {
    return readArchivePageFrom<AccountArchiveEntry>(this.redis, {
      stream: this.keys.mamArchive(owner),
      index: this.keys.mamArchiveIndex(owner),
      start: query.start,
      end: query.end,
      after: query.after,
      before: query.before,
      afterId: query.afterId,
      beforeId: query.beforeId,
      ids: query.ids,
      max: query.max,
      now,
      maxAgeMs: this.limits.maxAgeMs,
      maxScan: MAX_SCAN,
      decode: toEntry,
      accept: query.with === undefined ? undefined : (entry) => matchesWithFilter(query.with, entry),
    });
  }

  /**
   * XEP-0313 §5 archive metadata of `owner`'s archive: its oldest entry within the age bound
   * and its newest (two stream reads).
   * @param now - ms since epoch (the age bound's reference)
   */
  async metadata(owner: string, now: number): Promise<ArchiveMetadata> {
    const stream = this.keys.mamArchive(owner);
    const lo = this.limits.maxAgeMs > 0 ? `${Math.max(0, now - this.limits.maxAgeMs)}-0` : '-';
    const [first] = await this.redis.xrange(stream, lo, '+', 'COUNT', 1);
    const [last] = await this.redis.xrevrange(stream, '+', lo, 'COUNT', 1);
    const a = first === undefined ? undefined : toEntry(first[0], first[1]);
    const b = last === undefined ? undefined : toEntry(last[0], last[1]);
    return a === undefined || b === undefined ? {} : { start: { id: a.id, at: a.at }, end: { id: b.id, at: b.at } };
  }

  /** The account's archiving preferences (the default ones when it set none). */
  async prefs(owner: string): Promise<MamPrefs> {
    return prefsFromJson(await this.redis.get(this.keys.mamPrefs(owner)));
  }

  /** Replaces the account's archiving preferences. */
  async setPrefs(owner: string, prefs: MamPrefs): Promise<void> {
    await this.redis.set(this.keys.mamPrefs(owner), JSON.stringify(prefs));
  }

  /** Whether `contact` (a bare JID) is an item of `owner`'s roster, whatever its subscription (RFC 6121 §2.1). */
  async inRoster(owner: string, contact: string): Promise<boolean> {
    return (await this.redis.hexists(this.keys.roster(owner), contact)) === 1;
  }
}
