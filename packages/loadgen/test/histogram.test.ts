import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeHistogram, encodeHistogram, mergeHistograms, newHistogram, recordUs, summarize } from '@parley/loadgen';

test('percentiles of a uniform 1..10,000 µs histogram are within 0.1%', () => {
  const h = newHistogram(3);
  for (let us = 1; us <= 10_000; us++) recordUs(h, us);
  const s = summarize(h);
  assert.equal(s.count, 10_000);
  const near = (got: number, want: number) => assert.ok(Math.abs(got - want) <= want * 0.001 + 0.001, `${got} vs ${want}`);
  near(s.p50Ms, 5);
  near(s.p90Ms, 9);
  near(s.p99Ms, 9.9);
  near(s.p999Ms, 9.99);
  near(s.maxMs, 10);
  near(s.minMs, 0.001);
});

test('merging per-thread histograms gives the percentiles of the union, not of the parts', () => {
  // Thread A saw 990 fast deliveries (1 ms), thread B 10 slow ones (100 ms): p99 of the union is 1 ms, p99.9 is 100 ms.
  const a = newHistogram();
  const b = newHistogram();
  for (let i = 0; i < 990; i++) recordUs(a, 1000);
  for (let i = 0; i < 10; i++) recordUs(b, 100_000);
  const merged = summarize(mergeHistograms([encodeHistogram(a), b]));
  assert.equal(merged.count, 1000);
  assert.ok(Math.abs(merged.p99Ms - 1) < 0.01, String(merged.p99Ms));
  assert.ok(Math.abs(merged.p999Ms - 100) < 0.1, String(merged.p999Ms));
  assert.ok(Math.abs(merged.maxMs - 100) < 0.1);
  // The mean of per-thread p99s (1 and 100 ms) would have said 50.5 ms.
});

test('encoding round-trips; values are clamped to [1 µs, 1 h]', () => {
  const h = newHistogram();
  recordUs(h, -5);
  recordUs(h, 0);
  recordUs(h, 1e12);
  const back = decodeHistogram(encodeHistogram(h));
  assert.equal(back.totalCount, 3);
  assert.equal(back.minNonZeroValue, 1);
  assert.ok(back.maxValue >= 3_600_000_000 * 0.999);
  assert.deepEqual(summarize(newHistogram()), { count: 0, minMs: 0, meanMs: 0, p50Ms: 0, p90Ms: 0, p99Ms: 0, p999Ms: 0, maxMs: 0 });
});
