import assert from 'node:assert/strict';
import { test } from 'node:test';
import { shardForRoom } from '@parley/bus';

test('a room always hashes to the same shard, within range', () => {
  // Stored rooms live under their shard: these values must never change (FNV-1a 32).
  assert.equal(shardForRoom('room@conference.localhost', 64), shardForRoom('room@conference.localhost', 64));
  assert.equal(shardForRoom('', 1 << 30), 0x811c9dc5 % (1 << 30));
  for (let i = 0; i < 100; i++) {
    const s = shardForRoom(`room${i}@conference.localhost`, 7);
    assert.ok(Number.isInteger(s) && s >= 0 && s < 7);
  }
});

test('rooms spread over the shards', () => {
  const counts = new Array<number>(16).fill(0);
  for (let i = 0; i < 1600; i++) counts[shardForRoom(`room-${i}@conference.example.org`, 16)]!++;
  for (const c of counts) assert.ok(c > 50 && c < 150, `uneven spread: ${counts.join(',')}`);
});
