// Standing-queue detection on a gateway's delivery stream (issue #10 item 6): pure logic.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DeliveryPressure, MIN_HOT_ENTRIES } from '../src/routing/delivery-pressure.js';

const opts = { targetMs: 20, intervalMs: 100, maxRooms: 256 };

/** Records `n` entries of `room` (10 deliveries each) that waited `waitMs`, at time `at`. */
function feed(p: DeliveryPressure, at: number, waitMs: number, room: string | undefined, n: number): void {
  for (let i = 0; i < n; i++) p.record(at, waitMs, room, 10);
}

describe('DeliveryPressure', () => {
  it('holds the rooms that fill a standing queue, never a room at a conversational pace', () => {
    const p = new DeliveryPressure(opts);
    p.tick(0);
    for (let r = 0; r < 10; r++) feed(p, 10, 40 + r, `flood${r}@muc`, 30);
    feed(p, 20, 45, 'quiet@muc', 1);
    feed(p, 20, 45, 'chat@muc', MIN_HOT_ENTRIES - 1);
    feed(p, 20, 45, undefined, 50); // direct messages: counted for the wait only
    assert.equal(p.tick(50), undefined, 'the interval is not over');
    const change = p.tick(100);
    assert.ok(change);
    assert.equal(change.minWaitMs, 40);
    assert.deepEqual(new Set(change.hot), new Set(Array.from({ length: 10 }, (_, r) => `flood${r}@muc`)));
    assert.ok(!p.hot.has('quiet@muc') && !p.hot.has('chat@muc'));
  });

  it('does not react to a burst: one entry that did not wait means no standing queue', () => {
    const p = new DeliveryPressure(opts);
    p.tick(0);
    feed(p, 10, 300, 'flood@muc', 50);
    feed(p, 60, 2, 'flood@muc', 1);
    assert.equal(p.tick(100), undefined);
    assert.equal(p.hot.size, 0);
  });

  it('keeps the hot rooms while the smallest wait is between half the target and the target, releases below', () => {
    const p = new DeliveryPressure(opts);
    p.tick(0);
    feed(p, 10, 50, 'flood@muc', 20);
    assert.deepEqual(p.tick(100)?.hot, ['flood@muc']);
    feed(p, 110, 15, 'other@muc', 20);
    assert.equal(p.tick(200), undefined, 'between 10 and 20 ms: no change');
    assert.ok(p.hot.has('flood@muc'));
    assert.ok(!p.hot.has('other@muc'), 'no standing queue: nobody new is held');
    feed(p, 210, 9, 'other@muc', 5);
    assert.deepEqual(p.tick(300), { hot: [], released: ['flood@muc'], minWaitMs: 9 });
    assert.equal(p.hot.size, 0);
  });

  it('releases every room after an interval in which nothing was handled', () => {
    const p = new DeliveryPressure(opts);
    p.tick(0);
    feed(p, 10, 50, 'flood@muc', 20);
    p.tick(100);
    assert.equal(p.tick(150), undefined);
    assert.deepEqual(p.tick(200)?.released, ['flood@muc']);
  });

  it('takes the largest producers first and stops at 90% of the deliveries or maxRooms', () => {
    const p = new DeliveryPressure({ ...opts, maxRooms: 2 });
    p.tick(0);
    feed(p, 10, 30, 'a@muc', 50);
    feed(p, 10, 30, 'b@muc', 40);
    feed(p, 10, 30, 'c@muc', 30);
    assert.deepEqual(p.tick(100)?.hot, ['a@muc', 'b@muc']);
    const q = new DeliveryPressure(opts);
    q.tick(0);
    feed(q, 10, 30, 'big@muc', 95);
    feed(q, 10, 30, 'small@muc', 5);
    assert.deepEqual(q.tick(100)?.hot, ['big@muc'], 'the first room covers 90%: the small one goes on');
  });

  it('holds the flooding rooms while the event loop is saturated, even without a standing queue', () => {
    const p = new DeliveryPressure({ ...opts, maxBusy: 0.6 });
    p.tick(0, 0.9);
    feed(p, 10, 1, 'flood@muc', 20);
    feed(p, 10, 1, 'quiet@muc', 1);
    assert.equal(p.tick(50, 0.9), undefined);
    assert.deepEqual(p.tick(100, 0.8)?.hot, ['flood@muc'], 'busy 0.87 on average: saturated');
    feed(p, 110, 1, 'flood@muc', 20);
    assert.equal(p.tick(200, 0.7), undefined, 'still saturated: kept');
    feed(p, 210, 1, 'flood@muc', 1);
    assert.deepEqual(p.tick(300, 0.3)?.released, ['flood@muc'], 'not saturated and no queue: released');
    const unbounded = new DeliveryPressure(opts);
    unbounded.tick(0, 1);
    feed(unbounded, 10, 1, 'flood@muc', 20);
    assert.equal(unbounded.tick(100, 1), undefined, 'no maxBusy: the queue alone decides');
  });

  it('treats __proto__ as a room like any other, and is off with a target of 0', () => {
    const p = new DeliveryPressure(opts);
    p.tick(0);
    feed(p, 10, 30, '__proto__', 10);
    assert.deepEqual(p.tick(100)?.hot, ['__proto__']);
    const off = new DeliveryPressure({ ...opts, targetMs: 0 });
    feed(off, 10, 500, 'flood@muc', 100);
    assert.equal(off.tick(1000), undefined);
    assert.equal(off.enabled, false);
  });
});
