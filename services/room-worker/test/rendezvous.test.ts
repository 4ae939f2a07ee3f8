// Rendezvous hashing of shards onto workers.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { desiredOwner } from '../src/membership/rendezvous.js';

describe('desiredOwner', () => {
  const shards = [...Array(256).keys()];

  it('does not depend on the order of the workers', () => {
    for (const s of shards) assert.equal(desiredOwner(s, ['a', 'b', 'c']), desiredOwner(s, ['c', 'a', 'b']));
    assert.equal(desiredOwner(0, []), undefined);
  });

  it('spreads shards roughly evenly', () => {
    const counts = new Map<string, number>();
    for (const s of shards) {
      const o = desiredOwner(s, ['w1', 'w2', 'w3', 'w4'])!;
      counts.set(o, (counts.get(o) ?? 0) + 1);
    }
    assert.equal(counts.size, 4);
    for (const n of counts.values()) assert.ok(n > 32 && n < 96, `unbalanced: ${[...counts.values()]}`);
  });

  it('moves only the shards a joining worker wins', () => {
    const before = shards.map((s) => desiredOwner(s, ['w1', 'w2', 'w3']));
    const afterJoin = shards.map((s) => desiredOwner(s, ['w1', 'w2', 'w3', 'w4']));
    let moved = 0;
    shards.forEach((s) => {
      if (before[s] !== afterJoin[s]) {
        moved++;
        assert.equal(afterJoin[s], 'w4', 'a shard only ever moves to the new worker');
      }
    });
    assert.ok(moved > 30 && moved < 100, `moved ${moved} of 256`);
  });
});
