/**
 * The one clock every thread stamps with: `performance.timeOrigin + performance.now()`,
 * in microseconds since the Unix epoch. Each worker thread has its own `timeOrigin`, but the
 * sum is the same monotonic-derived wall time in every thread of the process, so a send
 * stamp taken in one thread can be subtracted from a receive stamp taken in another.
 */

/** Now, in microseconds since the epoch (fractional µs kept: a double holds them exactly). */
export function nowUs(): number {
  return (performance.timeOrigin + performance.now()) * 1000;
}

/** Now, in milliseconds since the epoch, on the same clock as {@link nowUs}. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}
