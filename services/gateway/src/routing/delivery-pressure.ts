/**
 * Standing-queue detection on a gateway's delivery stream (issue #10 item 6: rooms that are
 * not overloaded keep their latency while others are flooded).
 *
 * A gateway handles its delivery stream in order, so a room delivery waits behind every
 * entry written before it, whichever room it came from: when floods make the gateway the
 * bottleneck, the quiet rooms' messages wait behind the flooded rooms' deliveries. The
 * shard lag backpressure (shard-backpressure.ts) only sees the room workers' input, not
 * this queue. This class watches the queue as CoDel does (RFC 8289 §3.2): over each
 * interval it keeps the *smallest* wait of an entry (XADD to handling) — a burst passes
 * with some entries waiting little, a standing queue makes every entry wait — and counts
 * the deliveries each room produced. When the smallest wait of an interval is above the
 * target, the rooms that made most of the interval's deliveries are marked hot, and the
 * gateway holds their senders like those of a lagging room (here, and through Redis on the
 * other gateways); once an interval's smallest wait is at or below half of the target (or
 * nothing was handled), every hot room is released. A room counts as flooding only with at
 * least {@link MIN_HOT_ENTRIES} entries in the interval, so a conversation at a human pace
 * is never held.
 *
 * Pure logic (time is passed in); the delivery consumer records, the gateway ticks.
 */
export interface DeliveryPressureOptions {
  /** The largest standing wait tolerated, ms (`limits.deliveryMaxWaitMs`); 0 turns detection off. */
  targetMs: number;
  /** Length of an observation interval, ms (`limits.deliveryWaitIntervalMs`). */
  intervalMs: number;
  /** Most rooms hot at a time. */
  maxRooms: number;
  /**
   * The event loop's busy share (0–1) above which the gateway counts as saturated even
   * without a standing queue (`limits.gatewayMaxBusy`); 1 or more turns that off.
   */
  maxBusy?: number;
}

/** Entries a room must have produced in an interval to count as flooding. */
export const MIN_HOT_ENTRIES = 3;
/** Share of an interval's room deliveries the hot rooms are chosen to cover (the largest producers first). */
export const HOT_SHARE = 0.9;
/** Rooms counted per interval at most (untrusted names: a Map, bounded). */
const MAX_COUNTED_ROOMS = 4096;

/** A room's entries and deliveries (recipients) within one interval. */
interface RoomCount {
  entries: number;
  deliveries: number;
}

/** What an interval's end changed: rooms that became hot, and rooms released. */
export interface PressureChange {
  hot: string[];
  released: string[];
  /** The interval's smallest wait, ms (undefined when nothing was handled). */
  minWaitMs: number | undefined;
}

export class DeliveryPressure {
  /** When the current interval began (ms); set by the first tick. */
  private start: number | undefined;
  private recorded = 0;
  private minWait = Infinity;
  private busySum = 0;
  private busyCount = 0;
  private readonly counts = new Map<string, RoomCount>();
  private totalDeliveries = 0;
  /** Hot rooms (bare JIDs) and since when (ms). */
  private readonly hotRooms = new Map<string, number>();

  constructor(private readonly opts: DeliveryPressureOptions) {}

  /** Whether detection is on. */
  get enabled(): boolean {
    return this.opts.targetMs > 0;
  }

  /** The rooms whose senders are held now (bare JIDs). */
  get hot(): ReadonlyMap<string, number> {
    return this.hotRooms;
  }

  /**
   * Records one handled delivery stream entry.
   * @param waitMs - from its XADD to the start of its handling (ms)
   * @param room - the bare JID of the room it came from; undefined for anything else
   * @param deliveries - stanzas it hands to sessions (a fan-out's recipients)
   */
  record(nowMs: number, waitMs: number, room: string | undefined, deliveries: number): void {
    if (!this.enabled) return;
    this.start ??= nowMs;
    this.recorded += 1;
    if (waitMs < this.minWait) this.minWait = waitMs;
    if (room === undefined) return;
    let c = this.counts.get(room);
    if (c === undefined) {
      if (this.counts.size >= MAX_COUNTED_ROOMS) return;
      this.counts.set(room, (c = { entries: 0, deliveries: 0 }));
    }
    c.entries += 1;
    c.deliveries += deliveries;
    this.totalDeliveries += deliveries;
  }

  /**
   * Ends the interval once `intervalMs` has passed since it began (call it at least that
   * often). An interval in which nothing was handled releases every hot room: an empty
   * queue stands for nothing. Returns the change, or undefined while the interval runs or
   * when nothing changed.
   */
  tick(nowMs: number, busy?: number): PressureChange | undefined {
    if (!this.enabled) return undefined;
    if (busy !== undefined) {
      this.busySum += busy;
      this.busyCount += 1;
    }
    this.start ??= nowMs;
    if (nowMs - this.start < this.opts.intervalMs) return undefined;
    const busyShare = this.busyCount ? this.busySum / this.busyCount : 0;
    this.busySum = 0;
    this.busyCount = 0;
    const saturated = busyShare > (this.opts.maxBusy ?? 1);
    const recorded = this.recorded;
    const minWaitMs = this.minWait;
    const counts = [...this.counts].sort((a, b) => b[1].deliveries - a[1].deliveries);
    const total = this.totalDeliveries;
    this.start = nowMs;
    this.recorded = 0;
    this.minWait = Infinity;
    this.counts.clear();
    this.totalDeliveries = 0;
    if (recorded === 0) return this.releaseAll(undefined);
    if (!saturated && minWaitMs <= this.opts.targetMs / 2) return this.releaseAll(minWaitMs);
    if (!saturated && minWaitMs <= this.opts.targetMs) return undefined;
    // A standing queue: the largest producers, until they cover HOT_SHARE of the deliveries.
    const hot: string[] = [];
    let covered = 0;
    for (const [room, c] of counts) {
      if (covered >= HOT_SHARE * total || c.entries < MIN_HOT_ENTRIES || this.hotRooms.size >= this.opts.maxRooms) break;
      covered += c.deliveries;
      if (this.hotRooms.has(room)) continue;
      this.hotRooms.set(room, nowMs);
      hot.push(room);
    }
    return hot.length ? { hot, released: [], minWaitMs } : undefined;
  }

  private releaseAll(minWaitMs: number | undefined): PressureChange | undefined {
    if (this.hotRooms.size === 0) return undefined;
    const released = [...this.hotRooms.keys()];
    this.hotRooms.clear();
    return { hot: [], released, minWaitMs };
  }
}
