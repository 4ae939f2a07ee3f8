/**
 * HDR histograms (hdr-histogram-js) of durations in microseconds: built, summarised in
 * milliseconds, and shipped between threads as compressed base64 (the HdrHistogram
 * interchange encoding), then merged by addition — percentiles of the merge are exact to
 * the histogram's precision, unlike averaging per-thread percentiles.
 */
import { build, decodeFromCompressedBase64, encodeIntoCompressedBase64, type Histogram } from 'hdr-histogram-js';

export type { Histogram };

/** Highest trackable value: one hour, in µs (larger values are clamped). */
export const HIGHEST_US = 3_600_000_000;

/**
 * A histogram of µs values from 1 µs to one hour.
 * @param digits - significant decimal digits (3: 0.1% resolution; 2 for cheap per-second bins)
 */
export function newHistogram(digits: 2 | 3 = 3): Histogram {
  return build({ lowestDiscernibleValue: 1, highestTrackableValue: HIGHEST_US, numberOfSignificantValueDigits: digits, autoResize: false, bitBucketSize: 32 });
}

/** Records a duration in µs, clamped to [1, {@link HIGHEST_US}] (0 and negative become 1). */
export function recordUs(h: Histogram, us: number): void {
  h.recordValue(us < 1 ? 1 : us > HIGHEST_US ? HIGHEST_US : Math.round(us));
}

/** Serialises for postMessage / JSON. */
export function encodeHistogram(h: Histogram): string {
  return encodeIntoCompressedBase64(h);
}

/** Inverse of {@link encodeHistogram}. */
export function decodeHistogram(encoded: string): Histogram {
  return decodeFromCompressedBase64(encoded);
}

/** A new histogram holding the sum of `parts` (encoded or live), with `digits` precision. */
export function mergeHistograms(parts: Iterable<Histogram | string>, digits: 2 | 3 = 3): Histogram {
  const out = newHistogram(digits);
  for (const p of parts) out.add(typeof p === 'string' ? decodeHistogram(p) : p);
  return out;
}

/** Percentiles of a latency histogram, all durations in **milliseconds** (µs precision). */
export interface LatencySummary {
  /** Number of values recorded. */
  count: number;
  minMs: number;
  meanMs: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
}

/** Summarises a µs histogram in ms; all zeros when empty. */
export function summarize(h: Histogram): LatencySummary {
  const n = h.totalCount;
  if (n === 0) return { count: 0, minMs: 0, meanMs: 0, p50Ms: 0, p90Ms: 0, p99Ms: 0, p999Ms: 0, maxMs: 0 };
  const ms = (us: number) => Math.round(us) / 1000;
  return {
    count: n,
    minMs: ms(h.minNonZeroValue),
    meanMs: ms(h.mean),
    p50Ms: ms(h.getValueAtPercentile(50)),
    p90Ms: ms(h.getValueAtPercentile(90)),
    p99Ms: ms(h.getValueAtPercentile(99)),
    p999Ms: ms(h.getValueAtPercentile(99.9)),
    maxMs: ms(h.maxValue),
  };
}
