/*
 * `xmppctl backup` and `xmppctl restore` (issue #14 item 4); the format is in backup-format.ts.
 *
 * Backup streams: accounts are read from the account index with SSCAN, rooms from every
 * shard's rooms hash with SCAN + HSCAN, and each value in chunks (HSCAN, ZSCAN, LRANGE,
 * XRANGE with COUNT), written with backpressure; only the JIDs already written are held (so
 * that a JID SCAN repeats is written once). Restore reads one line at a time (bounded) and
 * writes each record with one pipeline.
 */
import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import type { Redis } from 'ioredis';
import { escapeGlob, escapeRegExp, shardForRoom, type KeySpace } from '@parley/bus';
import type { Config } from '@parley/config';
import { tryParseJid } from '@parley/jid';
import { DATA_SCHEMA_VERSION } from '@parley/service-runtime';
import { BACKUP_FORMAT, BACKUP_FORMAT_VERSION, CHUNK, MAX_LINE_BYTES, ROOM_DATA, USER_DATA, type ValueType } from './backup-format.js';
import { assertClusterStopped, RefusedError, scanKeys, shardKeyPattern } from './offline-check.js';

/** Writes `line` + newline to `out`, waiting for `drain` when its buffer is full. */
async function writeLine(out: Writable, record: unknown): Promise<void> {
  if (!out.write(`${JSON.stringify(record)}\n`)) await once(out, 'drain');
}

/** The value of `key` (of Redis type `type`) in chunks of at most {@link CHUNK} elements; nothing when absent. */
async function* readChunks(redis: Redis, key: string, type: ValueType): AsyncGenerator<unknown> {
  switch (type) {
    case 'string': {
      const v = await redis.get(key);
      if (v !== null) yield v;
      return;
    }
    case 'hash': {
      let cursor = '0';
      do {
        const [next, flat] = await redis.hscan(key, cursor, 'COUNT', CHUNK);
        cursor = next;
        if (flat.length) {
          const obj: Record<string, string> = Object.create(null) as Record<string, string>;
          for (let i = 0; i < flat.length; i += 2) obj[flat[i]!] = flat[i + 1]!;
          yield obj;
        }
      } while (cursor !== '0');
      return;
    }
    case 'zset': {
      let cursor = '0';
      do {
        const [next, flat] = await redis.zscan(key, cursor, 'COUNT', CHUNK);
        cursor = next;
        if (flat.length) yield Array.from({ length: flat.length / 2 }, (_, i) => [flat[2 * i]!, flat[2 * i + 1]!]);
      } while (cursor !== '0');
      return;
    }
    case 'list': {
      for (let start = 0; ; start += CHUNK) {
        const items = await redis.lrange(key, start, start + CHUNK - 1);
        if (items.length) yield items;
        if (items.length < CHUNK) return;
      }
    }
    case 'stream': {
      let from = '-';
      for (;;) {
        const entries = await redis.xrange(key, from, '+', 'COUNT', CHUNK);
        if (entries.length) yield entries;
        if (entries.length < CHUNK) return;
        from = `(${entries[entries.length - 1]![0]}`;
      }
    }
  }
}

/** What {@link backup} wrote. */
export interface BackupResult {
  accounts: number;
  rooms: number;
  records: number;
}

/**
 * Writes the whole data set to `out` as JSON lines (backup-format.ts). Consistent only when
 * nothing writes meanwhile (cluster stopped); on a live cluster each key is read at a
 * different moment (see docs/operations.md).
 */
export async function backup(redis: Redis, keys: KeySpace, config: Config, out: Writable): Promise<BackupResult> {
  const result: BackupResult = { accounts: 0, rooms: 0, records: 0 };
  const put = async (record: unknown) => {
    await writeLine(out, record);
    result.records++;
  };
  await put({
    kind: 'header',
    format: BACKUP_FORMAT,
    formatVersion: BACKUP_FORMAT_VERSION,
    schemaVersion: Number((await redis.get(keys.schemaVersion())) ?? DATA_SCHEMA_VERSION),
    time: new Date().toISOString(),
    hosts: config.hosts,
    mucDomain: config.mucDomain,
    shards: Number((await redis.get(keys.mucShards())) ?? config.muc.shards),
  });

  const accounts = new Set<string>();
  let cursor = '0';
  do {
    const [next, jids] = await redis.sscan(keys.accountIndex(), cursor, 'COUNT', CHUNK);
    cursor = next;
    for (const jid of jids) {
      if (accounts.has(jid)) continue;
      accounts.add(jid);
      const fields = await redis.hgetall(keys.account(jid));
      if (!Object.keys(fields).length) continue; // indexed but gone (deleted meanwhile)
      await put({ kind: 'account', jid, fields });
      result.accounts++;
      for (const [data, kind] of USER_DATA) {
        if (kind.perNode) continue;
        for await (const value of readChunks(redis, kind.key(keys, jid, ''), kind.type)) await put({ kind: 'user', jid, data, type: kind.type, value });
      }
      for await (const chunk of readChunks(redis, keys.pepNodes(jid), 'hash')) {
        for (const node of Object.keys(chunk as Record<string, string>)) {
          for (const [data, kind] of USER_DATA) {
            if (!kind.perNode) continue;
            for await (const value of readChunks(redis, kind.key(keys, jid, node), kind.type)) await put({ kind: 'user', jid, data, node, type: kind.type, value });
          }
        }
      }
    }
  } while (cursor !== '0');
  accounts.clear();

  const roomsOf = new RegExp(`^${escapeRegExp(keys.prefix)}muc:\\{s:(\\d{1,5})\\}:rooms$`);
  const rooms = new Set<string>();
  for await (const batch of scanKeys(redis, shardKeyPattern(keys, 'rooms'))) {
    for (const key of batch) {
      const m = roomsOf.exec(key);
      if (!m) continue;
      const shard = Number(m[1]);
      for await (const chunk of readChunks(redis, key, 'hash')) {
        for (const [jid, state] of Object.entries(chunk as Record<string, string>)) {
          if (rooms.has(jid)) continue;
          rooms.add(jid);
          await put({ kind: 'room', jid, state, directory: await redis.hget(keys.roomDirectory(), jid) });
          result.rooms++;
          for (const [data, kind] of ROOM_DATA) {
            for await (const value of readChunks(redis, kind.key(keys, shard, jid), kind.type)) await put({ kind: 'room-data', jid, data, type: kind.type, value });
          }
        }
      }
    }
  }
  await writeLine(out, { kind: 'end', records: result.records });
  return result;
}

/** A backup line restore cannot apply: the message names the line. */
export class BadBackupError extends Error {
  constructor(line: number, message: string) {
    super(`backup line ${line}: ${message}`);
    this.name = 'BadBackupError';
  }
}

/** The lines of `input`, each at most {@link MAX_LINE_BYTES} bytes (else BadBackupError). */
async function* lines(input: Readable): AsyncGenerator<string> {
  let pending: Buffer[] = [];
  let size = 0;
  let n = 0;
  for await (const chunk of input) {
    let buf = chunk as Buffer;
    for (let nl = buf.indexOf(10); nl >= 0; nl = buf.indexOf(10)) {
      pending.push(buf.subarray(0, nl));
      n++;
      if (size + nl > MAX_LINE_BYTES) throw new BadBackupError(n, `longer than ${MAX_LINE_BYTES} bytes`);
      yield Buffer.concat(pending).toString('utf8');
      pending = [];
      size = 0;
      buf = buf.subarray(nl + 1);
    }
    if (buf.length) {
      pending.push(buf);
      size += buf.length;
      if (size > MAX_LINE_BYTES) throw new BadBackupError(n + 1, `longer than ${MAX_LINE_BYTES} bytes`);
    }
  }
  if (size) yield Buffer.concat(pending).toString('utf8');
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The record's `jid` as a normalised bare JID with a local part (an account or a room), else BadBackupError. */
function bareJid(n: number, rec: Record<string, unknown>): string {
  const raw = rec.jid;
  const jid = isString(raw) ? tryParseJid(raw) : undefined;
  if (!jid || jid.local === undefined || jid.resource !== undefined || jid.toString() !== raw) throw new BadBackupError(n, `not a normalised bare JID: ${JSON.stringify(raw)?.slice(0, 200)}`);
  return raw as string;
}

/** Queues on `p` the writes that append `value` (of `type`, validated) to `key`. */
function appendValue(n: number, p: ReturnType<Redis['pipeline']>, key: string, type: ValueType, value: unknown): void {
  const bad = () => new BadBackupError(n, `value is not a ${type}`);
  switch (type) {
    case 'string':
      if (!isString(value)) throw bad();
      p.set(key, value);
      return;
    case 'hash': {
      if (!isObject(value)) throw bad();
      const flat: string[] = [];
      for (const [f, v] of Object.entries(value)) {
        if (!isString(v)) throw bad();
        flat.push(f, v);
      }
      if (flat.length) p.hset(key, ...flat);
      return;
    }
    case 'zset': {
      if (!Array.isArray(value)) throw bad();
      const flat: string[] = [];
      for (const e of value) {
        if (!Array.isArray(e) || e.length !== 2 || !isString(e[0]) || !isString(e[1]) || Number.isNaN(Number(e[1]))) throw bad();
        flat.push(e[1], e[0]);
      }
      if (flat.length) p.zadd(key, ...flat);
      return;
    }
    case 'list':
      if (!Array.isArray(value) || !value.every(isString)) throw bad();
      if (value.length) p.rpush(key, ...value);
      return;
    case 'stream':
      if (!Array.isArray(value)) throw bad();
      for (const e of value) {
        if (!Array.isArray(e) || e.length !== 2 || !isString(e[0]) || !/^\d{1,20}-\d{1,20}$/.test(e[0]) || !Array.isArray(e[1]) || e[1].length % 2 !== 0 || e[1].length === 0 || !e[1].every(isString)) throw bad();
        p.xadd(key, e[0], ...(e[1] as string[]));
      }
      return;
  }
}

/**
 * Refuses (RefusedError) unless the key prefix holds no data: no account, no per-account data
 * and no room (keys written by a cluster that started and stopped without data are fine).
 */
async function assertEmpty(redis: Redis, keys: KeySpace): Promise<void> {
  const p = escapeRegExp(keys.prefix);
  const userKinds = ['account', 'tombstone', ...USER_DATA.keys()].map(escapeRegExp).join('|');
  const data = new RegExp(`^${p}(?:accounts$|muc:directory$|(?:${userKinds}):\\{u:|muc:\\{s:\\d{1,5}\\}:(?:rooms$|occupants:|history:|archive))`);
  for await (const batch of scanKeys(redis, `${escapeGlob(keys.prefix)}*`)) {
    const found = batch.find((k) => data.test(k));
    if (found) throw new RefusedError(`restore needs an empty data set, but key prefix ${JSON.stringify(keys.prefix)} holds data (e.g. ${found.slice(0, 200)}); restore into a fresh Redis or another redis.keyPrefix (after a failed restore, delete the prefix's keys and run it again)`);
  }
}

/** What {@link restore} wrote. */
export interface RestoreResult {
  accounts: number;
  rooms: number;
  records: number;
}

/**
 * Restores a backup (backup-format.ts) from `input` into an empty data set: refuses
 * (RefusedError) while the cluster runs or when the prefix holds data; BadBackupError on a
 * line it cannot apply (unknown format or record, bad JID or value, a header of another
 * format version or of a schema version other than this code's, a missing `end` record).
 * Rooms are placed on shards with `config.muc.shards`, which is stored as the shard count.
 * A failed restore leaves what it wrote so far.
 */
export async function restore(redis: Redis, keys: KeySpace, config: Config, input: Readable, log: (line: string) => void): Promise<RestoreResult> {
  await assertClusterStopped(redis, keys, config, 'restore');
  await assertEmpty(redis, keys);
  const shards = config.muc.shards;
  const result: RestoreResult = { accounts: 0, rooms: 0, records: 0 };
  let n = 0;
  let headerSeen = false;
  let ended = false;
  // room JID → its shard here; only rooms seen in this file may get room-data (bounded by the file).
  const roomShard = new Map<string, number>();
  for await (const text of lines(input)) {
    n++;
    if (!text.trim()) continue;
    if (ended) throw new BadBackupError(n, 'record after the end record');
    let rec: unknown;
    try {
      rec = JSON.parse(text);
    } catch {
      throw new BadBackupError(n, 'not JSON');
    }
    if (!isObject(rec) || !isString(rec.kind)) throw new BadBackupError(n, 'not a backup record');
    if (!headerSeen) {
      headerSeen = true;
      if (rec.kind !== 'header' || rec.format !== BACKUP_FORMAT) throw new BadBackupError(n, `not a ${BACKUP_FORMAT} header`);
      if (rec.formatVersion !== BACKUP_FORMAT_VERSION) throw new BadBackupError(n, `format version ${String(rec.formatVersion)}; this xmppctl reads ${BACKUP_FORMAT_VERSION}`);
      if (rec.schemaVersion !== DATA_SCHEMA_VERSION) throw new BadBackupError(n, `schema version ${String(rec.schemaVersion)}; this parley writes ${DATA_SCHEMA_VERSION} (restore with the parley release that made the backup)`);
      const hosts = Array.isArray(rec.hosts) ? rec.hosts.filter(isString) : [];
      const missing = hosts.filter((h) => !config.hosts.includes(h));
      if (missing.length) log(`warning: the backup serves hosts this configuration does not: ${missing.join(', ')}`);
      await redis.set(keys.schemaVersion(), String(DATA_SCHEMA_VERSION));
      result.records++;
      continue;
    }
    const p = redis.pipeline();
    switch (rec.kind) {
      case 'account': {
        const jid = bareJid(n, rec);
        if (!isObject(rec.fields) || !isString(rec.fields.credentials)) throw new BadBackupError(n, 'account without credentials');
        appendValue(n, p, keys.account(jid), 'hash', rec.fields);
        p.sadd(keys.accountIndex(), jid);
        result.accounts++;
        break;
      }
      case 'user': {
        const jid = bareJid(n, rec);
        const kind = isString(rec.data) ? USER_DATA.get(rec.data) : undefined;
        if (!kind || rec.type !== kind.type) throw new BadBackupError(n, `unknown account data ${JSON.stringify(rec.data)?.slice(0, 100)} of type ${JSON.stringify(rec.type)?.slice(0, 20)}`);
        if (kind.perNode && (!isString(rec.node) || rec.node.length === 0 || rec.node.length > 1024)) throw new BadBackupError(n, 'PEP data without a node');
        appendValue(n, p, kind.key(keys, jid, kind.perNode ? (rec.node as string) : ''), kind.type, rec.value);
        break;
      }
      case 'room': {
        const jid = bareJid(n, rec);
        if (!isString(rec.state)) throw new BadBackupError(n, 'room without state');
        try {
          if (!isObject(JSON.parse(rec.state))) throw new Error();
        } catch {
          throw new BadBackupError(n, 'room state is not a JSON object');
        }
        const shard = shardForRoom(jid, shards);
        roomShard.set(jid, shard);
        p.hset(keys.shardRooms(shard), jid, rec.state);
        if (isString(rec.directory)) p.hset(keys.roomDirectory(), jid, rec.directory);
        result.rooms++;
        break;
      }
      case 'room-data': {
        const jid = bareJid(n, rec);
        const shard = roomShard.get(jid);
        if (shard === undefined) throw new BadBackupError(n, `data of room ${jid} before its room record`);
        const kind = isString(rec.data) ? ROOM_DATA.get(rec.data) : undefined;
        if (!kind || rec.type !== kind.type) throw new BadBackupError(n, `unknown room data ${JSON.stringify(rec.data)?.slice(0, 100)}`);
        appendValue(n, p, kind.key(keys, shard, jid), kind.type, rec.value);
        break;
      }
      case 'end':
        if (rec.records !== result.records) throw new BadBackupError(n, `the end record counts ${String(rec.records)} records, read ${result.records}`);
        ended = true;
        continue;
      case 'header':
        throw new BadBackupError(n, 'a second header');
      default:
        throw new BadBackupError(n, `unknown record kind ${JSON.stringify(rec.kind).slice(0, 100)}`);
    }
    for (const [err] of (await p.exec()) ?? []) if (err) throw new BadBackupError(n, `Redis refused it: ${err.message}`);
    result.records++;
    if (result.records % 10_000 === 0) log(`restored ${result.records} records`);
  }
  if (!headerSeen) throw new BadBackupError(1, 'empty input');
  if (!ended) throw new BadBackupError(n, 'no end record: the backup is truncated; what was read is restored (delete it before trying again)');
  await redis.set(keys.mucShards(), String(shards));
  return result;
}
