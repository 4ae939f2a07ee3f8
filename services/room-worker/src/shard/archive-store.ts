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
import { compareStreamIds, readArchivePageFrom, type KeySpace } from '@parley/bus';
import { applyTombstone, archiveEntryFromJson, archiveItemNotFound, archiveResults, matchesWith, type ArchiveEntry, type ArchivePage, type ArchiveQuery, type RoomState } from '@parley/muc';
import type { ScriptedRedis } from '../redis-scripts.js';
import type { TurnOutput } from '../delivery/resolve-recipients.js';
import type { TurnResult } from './shard-actor.js';

/** Most stream entries one query reads (a `with` filter scans; the archive is bounded anyway). */
const MAX_SCAN = 10_000;

/** Bounds of the archive: `maxAgeMs` 0 = no age bound. */
export interface ArchiveReadLimits {
  now: number;
  maxAgeMs: number;
}

/**
 * Reads the page of `query` from the room's archive (shard `shard`): entries oldest first,
 * whether the page reaches the end in its direction, and the count (only for queries
 * without `start`/`end`/`with`: the archive's length). `item-not-found` when an RSM id is
 * not in the archive (XEP-0313 §4.3.2). Entries older than `limits.maxAgeMs` are left out.
 */
export async function readArchivePage(redis: ScriptedRedis, keys: KeySpace, shard: number, query: ArchiveQuery, limits: ArchiveReadLimits): Promise<ArchivePage | 'item-not-found'> {
  if (!query.enabled) {
    // Still item-not-found for an unknown RSM id (§4.3.2), as before archiving was turned off.
    const rsmIds = [query.after, query.before].filter((v): v is string => v !== undefined && v !== '');
    const found = rsmIds.length ? await redis.hmget(keys.roomArchiveIndex(shard, query.room), ...rsmIds) : [];
    if (found.some((v) => v === null)) return 'item-not-found';
    return { entries: [], complete: true, count: 0 };
  }
  const filtered = query.withNick !== undefined || query.withJid !== undefined;
  const page = await readArchivePageFrom<ArchiveEntry>(redis, {
    stream: keys.roomArchive(shard, query.room),
    index: keys.roomArchiveIndex(shard, query.room),
    start: query.start,
    end: query.end,
    after: query.after,
    before: query.before,
    max: query.max,
    now: limits.now,
    maxAgeMs: limits.maxAgeMs,
    maxScan: MAX_SCAN,
    decode: (_id, fields) => {
      for (let f = 0; f + 1 < fields.length; f += 2) if (fields[f] === 'e') return archiveEntryFromJson(fields[f + 1]!);
      return undefined;
    },
    accept: filtered ? (entry) => matchesWith(query, entry) : undefined,
  });
  if (page === 'item-not-found' || page.entries.length === 0) return page;
  // XEP-0425 §4: a retracted message is read as its tombstone.
  const tombstones = await redis.hmget(keys.roomArchiveTombstones(shard, query.room), ...page.entries.map((e) => e.id));
  return { ...page, entries: page.entries.map((e, k) => (tombstones[k] == null ? e : applyTombstone(e, tombstones[k]!, query.room))) };
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
