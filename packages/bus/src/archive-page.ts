/*
 * One page of a XEP-0313 archive kept as a Redis stream (one entry per archived message,
 * stream ids increasing with the message time) with a hash archive id → stream id beside it:
 * how rooms (services/room-worker archive-store.ts) and accounts (@parley/accounts
 * archive-store.ts) read their archives. Decoding an entry and the `with` filter are the caller's.
 */
import { compareStreamIds } from './delivery-mark.js';

/** What a page read needs of a Redis client (ioredis's signatures). */
export interface ArchiveRedis {
  hmget(key: string, ...fields: string[]): Promise<(string | null)[]>;
  xrange(key: string, start: string, end: string, count: 'COUNT', n: number): Promise<[string, string[]][]>;
  xrevrange(key: string, end: string, start: string, count: 'COUNT', n: number): Promise<[string, string[]][]>;
  xlen(key: string): Promise<number>;
}

/** Which page of an archive to read (XEP-0313 §4.1 fields, XEP-0059 RSM). */
export interface ArchivePageRequest<E> {
  /** The archive stream and its id index. */
  stream: string;
  index: string;
  /** `start`/`end`: ms since epoch, inclusive. */
  start?: number | undefined;
  end?: number | undefined;
  /** RSM `<after/>` id; RSM `<before/>` id, or '' for the last page (§4.3.2). */
  after?: string | undefined;
  before?: string | undefined;
  /**
   * XEP-0313 §4.1.3 (`urn:xmpp:mam:2#extended`) `after-id` / `before-id`: exclusive bounds by
   * archive id that, unlike RSM `<before/>`, do not turn the page backwards.
   */
  afterId?: string | undefined;
  beforeId?: string | undefined;
  /**
   * XEP-0313 §4.1.3 `ids`: exactly these archive ids (at most `max` of them), oldest first,
   * within the other bounds and the filter; RSM paging does not apply.
   */
  ids?: readonly string[] | undefined;
  /** Results wanted (0: only the count). */
  max: number;
  /** Entries older than `now - maxAgeMs` are left out (0: no age bound). */
  now: number;
  maxAgeMs: number;
  /** Reads one stream entry; undefined: an unreadable entry, skipped. */
  decode(streamId: string, fields: string[]): E | undefined;
  /** A `with` filter (§4.1.1): entries it refuses are skipped; undefined: none (the page is read without scanning). */
  accept?: ((entry: E) => boolean) | undefined;
  /** Most entries read for one page when filtering. */
  maxScan: number;
}

/** A page: entries oldest first; `complete` when it reaches the archive's end in its direction; `count` only without start/end/filter/id bounds (for `ids`: the entries found). */
export interface ArchivePageResult<E> {
  entries: E[];
  complete: boolean;
  count?: number;
}

/** Entries read per round trip while a filter may skip some. */
const FILTER_CHUNK = 500;
/** Largest sequence part of a stream id (XRANGE end bound of a whole millisecond). */
const MAX_SEQ = '18446744073709551615';

const bare = (bound: string) => bound.replace('(', '');
/** The later of two XRANGE lower bounds (`-`, an id, or `(`id, exclusive). */
function later(a: string, b: string): string {
  if (a === '-') return b;
  if (b === '-') return a;
  return compareStreamIds(bare(a), bare(b)) >= 0 ? a : b;
}
/** The earlier of two XRANGE upper bounds (`+`, an id, or `(`id). */
function earlier(a: string, b: string): string {
  if (a === '+') return b;
  if (b === '+') return a;
  return compareStreamIds(bare(a), bare(b)) <= 0 ? a : b;
}

/**
 * Reads one page: one HMGET for the RSM ids, then XRANGE (or XREVRANGE for `before`) of
 * `max + 1` entries, or chunks of {@link FILTER_CHUNK} up to `maxScan` with a filter, plus an
 * XLEN for the count. Costs the same at any archive size without a filter. With `ids`: one
 * HMGET and one XRANGE per id.
 * @returns the page, or `item-not-found` when an RSM id, `after-id`, `before-id` or one of
 *   `ids` is not in the index (XEP-0313 §4.3.2, §4.1.3)
 */
export async function readArchivePageFrom<E>(redis: ArchiveRedis, req: ArchivePageRequest<E>): Promise<ArchivePageResult<E> | 'item-not-found'> {
  const wanted = [req.after, req.before, req.afterId, req.beforeId];
  const rsmIds = wanted.filter((v): v is string => v !== undefined && v !== '');
  const idList = req.ids ?? [];
  const found = rsmIds.length + idList.length ? await redis.hmget(req.index, ...rsmIds, ...idList) : [];
  if (found.some((v) => v === null)) return 'item-not-found';
  let lo = '-';
  let hi = '+';
  const minAt = Math.max(req.start ?? 0, req.maxAgeMs > 0 ? req.now - req.maxAgeMs : 0);
  if (minAt > 0) lo = `${minAt}-0`;
  if (req.end !== undefined) hi = `${Math.max(0, req.end)}-${MAX_SEQ}`;
  let k = 0;
  if (req.after !== undefined && req.after !== '') lo = later(lo, `(${found[k++]!}`);
  if (req.before !== undefined && req.before !== '') hi = earlier(hi, `(${found[k++]!}`);
  if (req.afterId !== undefined && req.afterId !== '') lo = later(lo, `(${found[k++]!}`);
  if (req.beforeId !== undefined && req.beforeId !== '') hi = earlier(hi, `(${found[k++]!}`);
  if (req.ids !== undefined) return readIds(redis, req, [...new Set(found.slice(k) as string[])], lo, hi);
  const backward = req.before !== undefined;
  const filtered = req.accept !== undefined;
  const need = req.max + 1;
  const collected: E[] = [];
  let scanned = 0;
  let exhausted = false;
  while (collected.length < need && scanned < req.maxScan) {
    const chunk = filtered ? Math.max(need, FILTER_CHUNK) : need - collected.length;
    const empty = lo !== '-' && hi !== '+' && compareStreamIds(bare(lo), bare(hi)) > 0;
    const reply = empty ? [] : backward ? await redis.xrevrange(req.stream, hi, lo, 'COUNT', chunk) : await redis.xrange(req.stream, lo, hi, 'COUNT', chunk);
    scanned += reply.length;
    for (const [streamId, fields] of reply) {
      const entry = req.decode(streamId, fields);
      if (entry !== undefined && (req.accept === undefined || req.accept(entry))) collected.push(entry);
      if (collected.length >= need) break;
    }
    if (reply.length < chunk) {
      exhausted = true;
      break;
    }
    const last = reply[reply.length - 1]![0];
    if (backward) hi = `(${last}`;
    else lo = `(${last}`;
  }
  const entries = collected.slice(0, req.max);
  if (backward) entries.reverse();
  const page: ArchivePageResult<E> = { entries, complete: exhausted && collected.length <= req.max };
  const idBounded = rsmIds.length > [req.after, req.before].filter((v) => v !== undefined && v !== '').length;
  if (req.start === undefined && req.end === undefined && !filtered && !idBounded) page.count = await redis.xlen(req.stream);
  return page;
}

/** Whether stream id `sid` lies within the XRANGE bounds `lo`..`hi` (`-`/`+`, ids, `(`exclusive ids). */
function within(sid: string, lo: string, hi: string): boolean {
  if (lo !== '-') {
    const c = compareStreamIds(sid, bare(lo));
    if (c < 0 || (c === 0 && lo.startsWith('('))) return false;
  }
  if (hi !== '+') {
    const c = compareStreamIds(sid, bare(hi));
    if (c > 0 || (c === 0 && hi.startsWith('('))) return false;
  }
  return true;
}

/** The `ids` page: the entries of `streamIds` (found in the index) within the bounds and the filter, oldest first, at most `max`. */
async function readIds<E>(redis: ArchiveRedis, req: ArchivePageRequest<E>, streamIds: string[], lo: string, hi: string): Promise<ArchivePageResult<E>> {
  streamIds.sort(compareStreamIds);
  const entries: E[] = [];
  for (const sid of streamIds) {
    if (entries.length >= req.max || !within(sid, lo, hi)) continue;
    const [hit] = await redis.xrange(req.stream, sid, sid, 'COUNT', 1);
    const entry = hit === undefined ? undefined : req.decode(hit[0], hit[1]);
    if (entry !== undefined && (req.accept === undefined || req.accept(entry))) entries.push(entry);
  }
  return { entries, complete: true, count: entries.length };
}
