// The backup format's coverage of the key space and the shard layout check's parts (no I/O):
// every KeySpace key is either exported or deliberately left out, per-account data sits in
// the account's hash slot, room data in its shard's slot, and shardLayout recognises the
// rooms hashes of any shard (issue #14 items 2 and 4).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { escapeGlob, keySpace, shardForRoom, shardLayout } from '@parley/bus';
import { KEY_COVERAGE, ROOM_DATA, USER_DATA } from '../src/xmppctl/backup-format.js';
import { ROOM_SHARD_KEYS } from '../src/xmppctl/reshard.js';

const keys = keySpace('t:');

test('every KeySpace key is classified for backup (a new key needs a decision)', () => {
  const names = Object.keys(keys).filter((k) => k !== 'prefix');
  const missing = names.filter((k) => !KEY_COVERAGE.has(k));
  assert.deepEqual(missing, [], `add these KeySpace keys to KEY_COVERAGE (backup-format.ts) and, if they hold data, to USER_DATA / ROOM_DATA: ${missing.join(', ')}`);
  const stale = [...KEY_COVERAGE.keys()].filter((k) => !names.includes(k));
  assert.deepEqual(stale, [], 'KEY_COVERAGE names keys KeySpace no longer has');
});

test('per-account data keys are in the account slot, distinct, and of the right kind', () => {
  const seen = new Set<string>();
  for (const [name, kind] of USER_DATA) {
    const key = kind.key(keys, 'alice@localhost', 'urn:xmpp:avatar:data');
    assert.ok(key.includes('{u:alice@localhost}'), `${name}: ${key}`);
    assert.ok(!seen.has(key), `${name} repeats a key`);
    seen.add(key);
  }
  assert.equal(USER_DATA.get('pep-items')!.key(keys, 'a@h', 'n1'), keys.pepItems('a@h', 'n1'));
  assert.equal(USER_DATA.get('mam')!.type, 'stream');
  assert.ok(!USER_DATA.has('sessions') && !USER_DATA.has('__proto__'));
});

test('room data keys are in the shard slot and are what reshard moves', () => {
  assert.deepEqual([...ROOM_DATA.keys()], [...ROOM_SHARD_KEYS]);
  for (const [name, kind] of ROOM_DATA) assert.ok(kind.key(keys, 7, 'r@conference.h').startsWith('t:muc:{s:7}:'), name);
});

test('shardLayout: rooms hash keys of any shard, placement and escaped patterns', () => {
  const layout = shardLayout(keySpace('p*[x]:'), 8);
  assert.equal(layout.shardOfRoomsKey('p*[x]:muc:{s:12}:rooms'), 12);
  assert.equal(layout.shardOfRoomsKey('p*[x]:muc:{s:12}:cursor'), undefined);
  assert.equal(layout.shardOfRoomsKey('pZ[x]:muc:{s:1}:rooms'), undefined, 'the prefix is literal');
  assert.equal(layout.roomsPattern, 'p\\*\\[x\\]:muc:{s:*}:rooms');
  assert.equal(layout.placement('room@conference.localhost'), shardForRoom('room@conference.localhost', 8));
  assert.equal(layout.countKey, 'p*[x]:muc:shards');
  assert.equal(escapeGlob('a?b\\'), 'a\\?b\\\\');
});
