/*
 * XEP-0313 room archives in Redis: reading a page for an `archive-query` effect and adding
 * the answer to the turn's outputs. Writes happen in the turn's commit (commit-shard-n.lua,
 * `ArchiveChange` in shard-actor.ts). Per room, in the shard's hash slot: a stream
 * (`KeySpace.roomArchive`, one entry per message, entry id `<ms>-<seq>` increasing with the
 * message time, fields `s` = archive id and `e` = JSON `ArchiveEntry`) and a hash
 * (`KeySpace.roomArchiveIndex`, archive id → entry id) to find an RSM `<after/>`/`<before/>`
 * id without a scan. A query reads the archive as committed before its turn: a message
 * applied earlier in the same turn is not in its results (the querier receives that message
 * after the results, so what it sees stays consistent).
 *
 * XEP-0425 §4 tombstones: a third key per room (`KeySpace.roomArchiveTombstones`, archive id →
 * serialised `<retracted/>`), written by the commit for ids the index has and trimmed with
 * their entries. A stream entry cannot be rewritten (XADD only appends), so a page's entries
 * are looked up there (one HMGET per page) and a retracted one is returned with its payload
 * replaced (`applyTombstone`). Retractions that only the archive can confirm (the message
 * left the room's history) are resolved here too, inside the turn: {@link resolveArchiveRetractions}.
 */
import type { Logger } from 'pino';
import { compareStreamIds, type KeySpace } from '@parley/bus';
import { applyTombstone, archiveEntryFromJson, archiveItemNotFound, archiveResults, matchesWith, type ArchiveEntry, type ArchivePage, type ArchiveQuery, type RoomState } from '@parley/muc';
import type { ScriptedRedis } from '../redis-scripts.js';
import type { TurnOutput } from '../delivery/resolve-recipients.js';
import type { TurnResult } from './shard-actor.js';

/** Most stream entries one query reads (a `with` filter scans; the archive is bounded anyway). */
const MAX_SCAN = 10_000;
/** Stream entries read per round trip when a `with` filter may skip some. */
const FILTER_CHUNK = 500;
/** Largest sequence part of a stream id (XRANGE end bound of a whole millisecond). */
const MAX_SEQ = '18446744073709551615';

/** Bounds of the archive: `maxAgeMs` 0 = no age bound. */
export interface ArchiveReadLimits {
  now: number;
  maxAgeMs: number;
}

type StreamReply = [id: string, fields: string[]][];

/** One bound of an XRANGE: a stream id, `-`/`+`, or `(`id (exclusive). */
function later(a: string, b: string): string {
  if (a === '-') return b;
  if (b === '-') return a;
  return compareStreamIds(a.replace('(', ''), b.replace('(', '')) >= 0 ? a : b;
}
function earlier(a: string, b: string): string {
  if (a === '+') return b;
  if (b === '+') return a;
  return compareStreamIds(a.replace('(', ''), b.replace('(', '')) <= 0 ? a : b;
}

/**
 * Reads the page of `query` from the room's archive (shard `shard`): entries oldest first,
 * whether the page reaches the end in its direction, and the count (only for queries
 * without `start`/`end`/`with`: the archive's length). `item-not-found` when an RSM id is
 * not in the archive (XEP-0313 §4.3.2). Entries older than `limits.maxAgeMs` are left out.
 */
export async function readArchivePage(redis: ScriptedRedis, keys: KeySpace, shard: number, query: ArchiveQuery, limits: ArchiveReadLimits): Promise<ArchivePage | 'item-not-found'> {
  const stream = keys.roomArchive(shard, query.room);
  const index = keys.roomArchiveIndex(shard, query.room);
  const rsmIds = [query.after, query.before].filter((v): v is string => v !== undefined && v !== '');
  const found = rsmIds.length ? await redis.hmget(index, ...rsmIds) : [];
  if (found.some((v) => v === null)) return 'item-not-found';
  if (!query.enabled) return { entries: [], complete: true, count: 0 };
  let lo = '-';
  let hi = '+';
  const minAt = Math.max(query.start ?? 0, limits.maxAgeMs > 0 ? limits.now - limits.maxAgeMs : 0);
  if (minAt > 0) lo = `${minAt}-0`;
  if (query.end !== undefined) hi = `${Math.max(0, query.end)}-${MAX_SEQ}`;
  let k = 0;
  if (query.after !== undefined && query.after !== '') lo = later(lo, `(${found[k++]!}`);
  if (query.before !== undefined && query.before !== '') hi = earlier(hi, `(${found[k++]!}`);
  const backward = query.before !== undefined;
  const filtered = query.withNick !== undefined || query.withJid !== undefined;
  const need = query.max + 1;
  const collected: ArchiveEntry[] = [];
  let scanned = 0;
  let exhausted = false;
  while (collected.length < need && scanned < MAX_SCAN) {
    const chunk = filtered ? Math.max(need, FILTER_CHUNK) : need - collected.length;
    const emptyRange = lo !== '-' && hi !== '+' && compareStreamIds(lo.replace('(', ''), hi.replace('(', '')) > 0;
    const reply: StreamReply = emptyRange ? [] : backward ? await redis.xrevrange(stream, hi, lo, 'COUNT', chunk) : await redis.xrange(stream, lo, hi, 'COUNT', chunk);
    scanned += reply.length;
    for (const [, fields] of reply) {
      let json: string | undefined;
      for (let f = 0; f + 1 < fields.length; f += 2) if (fields[f] === 'e') json = fields[f + 1];
      const entry = json === undefined ? undefined : archiveEntryFromJson(json);
      if (entry !== undefined && matchesWith(query, entry)) collected.push(entry);
      if (collected.length >= need) break;
    }
    if (reply.length < chunk) {
      exhausted = true;
      break;
    }
    const lastId = reply[reply.length - 1]![0];
    if (backward) hi = `(${lastId}`;
    else lo = `(${lastId}`;
  }
  const complete = exhausted && collected.length <= query.max;
  let entries = collected.slice(0, query.max);
  if (backward) entries.reverse();
  if (entries.length > 0) {
    const tombstones = await redis.hmget(keys.roomArchiveTombstones(shard, query.room), ...entries.map((e) => e.id));
    entries = entries.map((e, k) => (tombstones[k] == null ? e : applyTombstone(e, tombstones[k]!, query.room)));
  }
  const page: ArchivePage = { entries, complete };
  if (query.start === undefined && query.end === undefined && !filtered) page.count = await redis.xlen(stream);
  return page;
}

/**
 * Answers the turn's archive queries (`result.archiveQueries`): reads each page and adds
 * the result messages and the `<fin/>` iq (or the item-not-found error) to
 * `result.outputs`, routed to the querier's session, with the query's entry and lane, after
 * the outputs of earlier entries (outputs stay in entry order). Throws on a Redis error (the
 * caller fails the shard's turn: it is applied again).
 */
export async function answerArchiveQueries(
  redis: ScriptedRedis,
  keys: KeySpace,
  shard: number,
  result: TurnResult,
  rooms: ReadonlyMap<string, RoomState>,
  limits: ArchiveReadLimits,
  log: Logger,
): Promise<void> {
  for (const { entry, lane, query } of result.archiveQueries ?? []) {
    const page = await readArchivePage(redis, keys, shard, query, limits);
    const stanzas = page === 'item-not-found' ? [archiveItemNotFound(query)] : archiveResults(query, page, rooms.get(query.room));
    const outs: TurnOutput[] = stanzas.map((stanza) => ({ entry, lane, out: { stanza, to: query.to, route: { ...query.route } } }));
    let at = result.outputs.findIndex((o) => compareStreamIds(o.entry, entry) > 0);
    if (at < 0) at = result.outputs.length;
    result.outputs.splice(at, 0, ...outs);
    log.debug({ room: query.room, results: stanzas.length - 1 }, 'archive query answered');
  }
}

/**
 * Resolves the turn's XEP-0425 retractions that only the archive can confirm
 * (`result.archiveRetractions`, features/moderate.ts): for each, whether the archive has the
 * id, as committed (the id index) or appended earlier in this turn. Found: the notice and the
 * iq result join the turn's outputs at the retraction's entry, the notice is appended to the
 * archive and the tombstone written, in the turn's commit. Not found: the item-not-found
 * error joins the outputs. Throws on a Redis error (the caller fails the shard's turn).
 */
export async function resolveArchiveRetractions(
  redis: ScriptedRedis,
  keys: KeySpace,
  shard: number,
  result: TurnResult,
  limits: { maxEntries: number; minAt: number },
  log: Logger,
): Promise<void> {
  for (const { entry, lane, retraction } of result.archiveRetractions ?? []) {
    const pending = retraction.pending!;
    const change = result.archive?.get(retraction.room);
    const appended = change?.append.some((e) => e.id === retraction.id) === true;
    const found = appended || (change?.reset !== true && (await redis.hexists(keys.roomArchiveIndex(shard, retraction.room), retraction.id)) === 1);
    const stanzas = found ? pending.success : [pending.failure];
    if (found) {
      const changes = (result.archive ??= new Map());
      let a = changes.get(retraction.room);
      if (a === undefined) changes.set(retraction.room, (a = { reset: false, append: [], retract: [], maxEntries: limits.maxEntries, minAt: limits.minAt }));
      if (pending.notice !== undefined) a.append.push(pending.notice);
      a.retract.push({ id: retraction.id, retracted: retraction.retracted });
    }
    let at = result.outputs.findIndex((o) => compareStreamIds(o.entry, entry) > 0);
    if (at < 0) at = result.outputs.length;
    result.outputs.splice(at, 0, ...stanzas.map((out) => ({ entry, lane, out })));
    log.debug({ room: retraction.room, found }, 'archive retraction resolved');
  }
}
