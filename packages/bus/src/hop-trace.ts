/**
 * Per-hop latency trace of groupchat messages (issue #15 item 1), a debug facility that is off
 * by default (`debug.hopTrace`, `PARLEY_DEBUG_HOP_TRACE`).
 *
 * With it on, the gateway that reads a groupchat message for a room from a client's socket
 * starts a trace: an id and a list of stamps, each in microseconds of the machine's monotonic
 * clock taken with {@link hopNowUs} (CLOCK_MONOTONIC through `process.hrtime`: one clock for
 * every process of a machine, sub-microsecond resolution). Not `performance.timeOrigin +
 * performance.now()`: each process fixes its time origin from the wall clock once, at start,
 * and on the benchmark machine (its wall clock slewed) two processes started seconds apart
 * disagreed by several milliseconds (2026-12-07). The trace rides
 * in the shard stream entry and in the delivery envelopes (the optional field `hop`,
 * {@link encodeHopTrace}); each later point on the path appends its stamp, in the order of
 * {@link HOP_POINTS}. The gateway that writes the message to a recipient's socket logs the
 * whole trace (one JSON line per recipient, `msg` = `hop trace`). The acknowledgements of
 * writes, which happen off the message's path (the ingress gateway's XADD reply, the room
 * worker's delivery pipeline reply), are logged by their process as `hop trace ack` lines
 * with the same id.
 *
 * With it off nothing is stamped, encoded or logged: the cost is one boolean test per socket
 * read and per room stanza.
 */

/**
 * The points of a traced message's path, in order (the index of a stamp in a trace):
 * - `gw.read`: the ingress gateway's socket `data` event that carried the message's end
 * - `gw.parsed`: its stream parser emitted the element
 * - `gw.toRoom`: the router starts sending it to the room's shard (after the session's
 *   queue and the router's checks: blocking, archive, carbons)
 * - `gw.xadd`: the XADD to the shard stream is issued
 * - `wk.read`: the room worker's XREAD returned the entry
 * - `wk.step`: the turn that applies it has run the room core (`step`) over it
 * - `wk.sent`: its deliveries were queued on the turn's Redis pipeline (sent)
 * - `gd.read`: the delivering gateway's XREADGROUP returned the delivery entry
 * - `gd.handle`: the gateway starts handling that entry
 * - `gd.queued`: the stanza is queued on the recipient's TCP transport (written when the delivery
 *   batch ends, or at the transport's `setImmediate`, whichever comes first)
 * - `gd.write`: the stanza was written to the recipient's socket (`socket.write`)
 */
export const HOP_POINTS = ['gw.read', 'gw.parsed', 'gw.toRoom', 'gw.xadd', 'wk.read', 'wk.step', 'wk.sent', 'gd.read', 'gd.handle', 'gd.queued', 'gd.write'] as const;

/** A point of {@link HOP_POINTS}. */
export type HopPoint = (typeof HOP_POINTS)[number];

/** A trace in flight: its id (`[A-Za-z0-9._-]`, 1–64 characters) and its stamps so far (µs of the monotonic clock, in path order). */
export interface HopTrace {
  id: string;
  stamps: number[];
}

/** Most stamps a decoded trace may carry (bounds what one envelope field can make us parse). */
export const MAX_HOP_STAMPS = 16;

const ID_RE = /^[A-Za-z0-9._-]{1,64}$/;
const STAMP_RE = /^\d{1,17}(\.\d{1,3})?$/;

/** Now, in microseconds of the machine's monotonic clock (CLOCK_MONOTONIC: since boot on Linux), comparable between processes. */
export function hopNowUs(): number {
  return Number(process.hrtime.bigint()) / 1000;
}

/**
 * Whether this process traces (set once at start from `debug.hopTrace`). A plain object so
 * that the modules on the hot path read one property, without configuration plumbing.
 */
export const hopTracing: { on: boolean } = { on: false };

/** The field value of a trace: `<id>|<stamp>,<stamp>,…` (stamps in µs with at most one decimal). */
export function encodeHopTrace(trace: HopTrace): string {
  return `${trace.id}|${trace.stamps.map((s) => (Math.round(s * 10) / 10).toString()).join(',')}`;
}

/**
 * Reads a `hop` field back; undefined when absent or malformed (an id outside
 * `[A-Za-z0-9._-]{1,64}`, more than {@link MAX_HOP_STAMPS} stamps, a stamp that is not a
 * non-negative decimal): a bad trace is dropped, never the envelope that carries it.
 */
export function decodeHopTrace(raw: string | undefined): HopTrace | undefined {
  if (raw === undefined || raw.length > 64 + 1 + MAX_HOP_STAMPS * 22) return undefined;
  const bar = raw.indexOf('|');
  if (bar < 0) return undefined;
  const id = raw.slice(0, bar);
  if (!ID_RE.test(id)) return undefined;
  const rest = raw.slice(bar + 1);
  const parts = rest === '' ? [] : rest.split(',');
  if (parts.length > MAX_HOP_STAMPS || !parts.every((p) => STAMP_RE.test(p))) return undefined;
  return { id, stamps: parts.map(Number) };
}

/** A copy of `trace` with `stamps` appended (at most {@link MAX_HOP_STAMPS} kept). */
export function extendHopTrace(trace: HopTrace, ...stamps: number[]): HopTrace {
  return { id: trace.id, stamps: [...trace.stamps, ...stamps].slice(0, MAX_HOP_STAMPS) };
}

/** A complete trace as an object of named stamps (µs of the monotonic clock), for the log line; points without a stamp are left out. */
export function namedHopStamps(trace: HopTrace): Partial<Record<HopPoint, number>> {
  const out: Partial<Record<HopPoint, number>> = {};
  HOP_POINTS.forEach((p, i) => {
    const s = trace.stamps[i];
    if (s !== undefined) out[p] = s;
  });
  return out;
}
