/*
 * The backup format of `xmppctl backup` / `xmppctl restore` (issue #14 item 4): JSON lines,
 * one record per line, in this order:
 *
 *   {"kind":"header","format":"parley-backup","formatVersion":1,"schemaVersion":1,
 *    "time":"<ISO 8601>","hosts":[...],"mucDomain":"...","shards":N}
 *   {"kind":"account","jid":"<bare JID>","fields":{"credentials":"<JSON as stored>","created":"<ms>"}}
 *   {"kind":"user","jid":"<bare JID>","data":"<data kind>","node"?:"<PEP node>","type":"<type>","value":...}
 *   {"kind":"room","jid":"<room bare JID>","state":"<room JSON as stored>","directory":"<JSON>"|null}
 *   {"kind":"room-data","jid":"<room bare JID>","data":"<data kind>","type":"<type>","value":...}
 *   {"kind":"end","records":<records before this one, header included>}
 *
 * `value` by `type`: string → a string; hash → an object (field → value); zset → an array of
 * [member, score]; list → an array of items (in order); stream → an array of
 * [entry id, [field, value, ...]] (in id order). Big values are split over several records
 * of the same key (at most {@link CHUNK} elements each), which restore appends in order.
 * Credentials are the stored SCRAM keys (RFC 5802 StoredKey/ServerKey, salt, iterations),
 * never a password. Rooms carry no shard: restore places them with its own `muc.shards`.
 */
import type { KeySpace } from '@parley/bus';

/** `formatVersion` written in the header; restore reads only this version. */
export const BACKUP_FORMAT_VERSION = 1;
/** `format` of the header. */
export const BACKUP_FORMAT = 'parley-backup';
/** Elements (fields, members, items, entries) per record at most. */
export const CHUNK = 500;
/** Longest line restore accepts, in bytes (a record of {@link CHUNK} archived messages fits). */
export const MAX_LINE_BYTES = 32 * 1024 * 1024;

/** Redis types a record's `value` can hold. */
export type ValueType = 'string' | 'hash' | 'zset' | 'list' | 'stream';

/** One kind of per-account data: its key and Redis type. */
export interface UserDataKind {
  type: ValueType;
  /** The key; `node` only for the per-PEP-node kinds. */
  key(keys: KeySpace, jid: string, node: string): string;
  /** Keyed by PEP node (`node` in the record; nodes listed by the account's `pep-nodes` hash). */
  perNode?: true;
}

/**
 * Every kind of per-account data that a backup holds (the account hash itself is the
 * `account` record). Transient per-account keys are left out: sessions, XEP-0198 state,
 * tombstones of deleted accounts.
 */
export const USER_DATA = new Map<string, UserDataKind>([
  ['roster', { type: 'hash', key: (k, j) => k.roster(j) }],
  ['roster-ver', { type: 'string', key: (k, j) => k.rosterVersion(j) }],
  ['roster-pending', { type: 'hash', key: (k, j) => k.rosterPending(j) }],
  ['last-unavailable', { type: 'string', key: (k, j) => k.lastUnavailable(j) }],
  ['last-activity', { type: 'hash', key: (k, j) => k.lastActivity(j) }],
  ['blocklist', { type: 'zset', key: (k, j) => k.blocklist(j) }],
  ['vcard', { type: 'hash', key: (k, j) => k.vcard(j) }],
  ['private', { type: 'hash', key: (k, j) => k.privateXml(j) }],
  ['pep-nodes', { type: 'hash', key: (k, j) => k.pepNodes(j) }],
  ['pep-meta', { type: 'hash', key: (k, j) => k.pepMeta(j) }],
  ['pep-items', { type: 'hash', key: (k, j, n) => k.pepItems(j, n), perNode: true }],
  ['pep-order', { type: 'zset', key: (k, j, n) => k.pepOrder(j, n), perNode: true }],
  ['offline', { type: 'list', key: (k, j) => k.offline(j) }],
  ['offline-quota', { type: 'hash', key: (k, j) => k.offlineQuota(j) }],
  ['mam', { type: 'stream', key: (k, j) => k.mamArchive(j) }],
  ['mam-ids', { type: 'hash', key: (k, j) => k.mamArchiveIndex(j) }],
  ['mam-prefs', { type: 'string', key: (k, j) => k.mamPrefs(j) }],
]);

/** Every kind of per-room data besides its state, in its shard's slot. */
export const ROOM_DATA = new Map<string, { type: ValueType; key(keys: KeySpace, shard: number, room: string): string }>([
  // Shown nick → `[seq, occupant JSON]` (@parley/bus stored-room.ts); rooms backed up before
  // it have their occupants in their state instead.
  ['occupants', { type: 'hash', key: (k, s, r) => k.roomOccupants(s, r) }],
  ['history', { type: 'list', key: (k, s, r) => k.roomHistory(s, r) }],
  ['archive', { type: 'stream', key: (k, s, r) => k.roomArchive(s, r) }],
  ['archive-ids', { type: 'hash', key: (k, s, r) => k.roomArchiveIndex(s, r) }],
  ['archive-tombstones', { type: 'hash', key: (k, s, r) => k.roomArchiveTombstones(s, r) }],
]);

/**
 * How each `KeySpace` key is treated by backup: `data` (exported), or why not. A unit test
 * checks that every key has an entry, so a new key is a conscious decision.
 */
export const KEY_COVERAGE: ReadonlyMap<string, string> = new Map([
  ...['account', 'accountIndex', 'roster', 'rosterVersion', 'rosterPending', 'lastUnavailable', 'lastActivity', 'blocklist', 'vcard', 'privateXml', 'pepNodes', 'pepMeta', 'pepItems', 'pepOrder', 'offline', 'offlineQuota', 'mamArchive', 'mamArchiveIndex', 'mamPrefs'].map((k) => [k, 'data'] as const),
  ...['shardRooms', 'roomOccupants', 'roomHistory', 'roomArchive', 'roomArchiveIndex', 'roomArchiveTombstones', 'roomDirectory'].map((k) => [k, 'data'] as const),
  ['schemaVersion', 'header (schemaVersion)'],
  ['mucShards', 'written by restore from its muc.shards'],
  ...['userSessions', 'smTakeover', 'smState', 'smQueue', 'smRooms', 'smExpiring', 'gateways', 'gatewayInfo', 'gatewaySessions', 'gatewayDelivery', 'reaperLock', 'gatewayToken', 'gatewayReaping', 'reapingGateways', 'livenessState'].map((k) => [k, 'transient: sessions and gateways'] as const),
  ...['shardStream', 'shardLease', 'shardFence', 'shardCursor', 'shardLanes', 'shardHotRooms', 'shardDeliveryHot', 'roomWorkers', 'roomWorkerInfo', 'commandReply', 'mucReshard'].map((k) => [k, 'transient: room workers and shards'] as const),
  ...['processMetrics', 'metricsIndex'].map((k) => [k, 'transient: metrics'] as const),
  ...['authFailures', 'registrations'].map((k) => [k, 'transient: rate-limit counters'] as const),
  ['tombstone', 'transient: expiring marker of a deleted account'],
  ['saslDecoySecret', 'secret regenerated at first start'],
  ['mucForwardKey', 'secret regenerated at first start'],
]);
