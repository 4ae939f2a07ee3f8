import type { Logger } from 'pino';
import { redisTimeMs, streamIdMs, type KeySpace } from '@parley/bus';
import type { ScriptedRedis } from './scripts.js';

/** Settings of {@link ShardBackpressure} (the `limits.shardLag*` configuration). */
export interface ShardBackpressureOptions {
  /** A shard whose oldest unapplied entry is older than this (ms) holds its senders. */
  maxLagMs: number;
  /** How often the lag of the shards this gateway writes to is read (ms). */
  pollMs: number;
  /** Longest a sender is held before its stanza goes out anyway (ms); a safety valve, not a drop. */
  maxHoldMs: number;
  /** Called for each stanza that is held (metrics). */
  onHold?: () => void;
}

/** Most rooms of one shard held at a time (the room worker lists at most 64). */
export const MAX_HOT_ROOMS = 64;

/**
 * Overload backpressure towards the senders of busy rooms (issue #10 item 6).
 *
 * A room worker trims its shard stream up to what it has committed, so the oldest entry
 * left in a shard stream is the oldest stanza its room actors have not applied yet, and its
 * id (milliseconds of the Redis clock, XADD `*`) says since when it waits. Every `pollMs`
 * this gateway reads that id for the shards it wrote to since the last poll (one pipelined
 * `XRANGE … COUNT 1` each, plus one `TIME`). When a shard's lag exceeds `maxLagMs`,
 * {@link admit} for that shard returns a promise that resolves once the lag is below half of
 * it again (or after `maxHoldMs`): the router awaits it before the XADD, the sender's session
 * handles its stanzas one at a time, its input queue fills, and its socket stops being read
 * (see `session/input-flow.ts`). Senders to other rooms are not held, so rooms that are not
 * overloaded keep their normal latency, and nothing is dropped: held stanzas go out in order.
 *
 * Finer than per shard: the shard's room worker lists the rooms that are behind
 * (`KeySpace.shardHotRooms`, room → id of its oldest entry not applied, `*` → the last entry
 * read when its read-ahead is full; with a TTL, read in the same pipeline). When that list
 * is there, only the senders to the listed rooms whose entry is older than `maxLagMs` are
 * held (until it is below half of it or the room leaves the list), and the whole shard only
 * through `*`: senders to quiet rooms of a busy shard go on. Without a list (the worker is
 * gone, or does not write one), the whole shard is held as above. At most
 * {@link MAX_HOT_ROOMS} rooms per shard are read.
 */
export class ShardBackpressure {
  private readonly touched = new Set<number>();
  /** Held shards and the waiters to release when their lag falls. */
  private readonly held = new Map<number, { since: number; waiters: Set<() => void> }>();
  /** Held rooms per shard (room bare JID → when held and the waiters), at most MAX_HOT_ROOMS per shard. */
  private readonly heldRoomsByShard = new Map<number, Map<string, { since: number; waiters: Set<() => void> }>>();
  private timer: NodeJS.Timeout | undefined;
  private polling = false;
  /** Stanzas that were held at least once, for metrics and tests. */
  heldStanzas = 0;

  constructor(
    private readonly redis: ScriptedRedis,
    private readonly keys: KeySpace,
    private readonly opts: ShardBackpressureOptions,
    private readonly log: Logger,
  ) {}

  start(): void {
    if (this.opts.maxLagMs <= 0) return;
    this.timer = setInterval(() => void this.poll(), this.opts.pollMs);
    this.timer.unref();
  }

  /** Stops polling and releases every held sender. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    for (const shard of [...this.held.keys()]) this.release(shard);
    for (const shard of [...this.heldRoomsByShard.keys()]) this.releaseRooms(shard, () => true);
  }

  /** Shards currently holding all their senders. */
  get heldShards(): number[] {
    return [...this.held.keys()];
  }

  /** Rooms currently holding their senders (bare JIDs), by shard. */
  get heldRooms(): Map<number, string[]> {
    return new Map([...this.heldRoomsByShard].map(([shard, rooms]) => [shard, [...rooms.keys()]]));
  }

  /**
   * Called before a client's stanza is appended to `shard`'s stream. Returns undefined when
   * it may go at once (the common case: no promise is made), or a promise that resolves when
   * the shard, or the room when only the room is held, has caught up (lag below
   * `maxLagMs / 2`) or after `maxHoldMs`. Never rejects.
   * @param room - the room's bare JID (the service JID for the service); without it only a
   *   whole-shard hold applies
   */
  admit(shard: number, room?: string): Promise<void> | undefined {
    if (this.opts.maxLagMs <= 0) return undefined;
    this.touched.add(shard);
    const h = this.held.get(shard) ?? (room === undefined ? undefined : this.heldRoomsByShard.get(shard)?.get(room));
    if (h === undefined) return undefined;
    this.heldStanzas += 1;
    this.opts.onHold?.();
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        h.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, this.opts.maxHoldMs);
      h.waiters.add(done);
    });
  }

  /** Releases the held rooms of `shard` that `which` selects. */
  private releaseRooms(shard: number, which: (room: string, since: number) => boolean): void {
    const rooms = this.heldRoomsByShard.get(shard);
    if (!rooms) return;
    for (const [room, h] of [...rooms]) {
      if (!which(room, h.since)) continue;
      rooms.delete(room);
      for (const w of h.waiters) w();
    }
    if (!rooms.size) this.heldRoomsByShard.delete(shard);
  }

  /**
   * Holds the listed rooms of `shard` whose oldest unapplied entry is older than `maxLagMs`,
   * and releases held rooms that are below half of it or no longer listed.
   * @param ages - room bare JID → age of its oldest unapplied entry (ms), as listed by the worker
   */
  private holdRooms(shard: number, ages: ReadonlyMap<string, number>, nowMs: number): void {
    let rooms = this.heldRoomsByShard.get(shard);
    for (const [room, age] of ages) {
      if (age > this.opts.maxLagMs && !rooms?.has(room)) {
        if (!rooms) this.heldRoomsByShard.set(shard, (rooms = new Map()));
        rooms.set(room, { since: nowMs, waiters: new Set() });
        this.log.warn({ shard, room, lagMs: age }, 'room is behind: holding its senders');
      }
    }
    this.releaseRooms(shard, (room) => {
      const age = ages.get(room);
      return age === undefined || age <= this.opts.maxLagMs / 2;
    });
  }

  private release(shard: number): void {
    const h = this.held.get(shard);
    if (!h) return;
    this.held.delete(shard);
    for (const w of h.waiters) w();
  }

  private async poll(): Promise<void> {
    if (this.polling || (this.touched.size === 0 && this.held.size === 0 && this.heldRoomsByShard.size === 0)) return;
    this.polling = true;
    const shards = [...new Set([...this.touched, ...this.held.keys(), ...this.heldRoomsByShard.keys()])];
    this.touched.clear();
    try {
      const pipeline = this.redis.pipeline();
      pipeline.time();
      for (const shard of shards) {
        pipeline.xrange(this.keys.shardStream(shard), '-', '+', 'COUNT', 1);
        pipeline.hscan(this.keys.shardHotRooms(shard), 0, 'COUNT', MAX_HOT_ROOMS + 1);
      }
      const replies = (await pipeline.exec()) ?? [];
      const time = replies[0]?.[1] as [string, string] | undefined;
      if (!time) return;
      const nowMs = redisTimeMs(time);
      shards.forEach((shard, i) => {
        const [err, entries] = replies[2 * i + 1] ?? [];
        if (err) return;
        const oldest = (entries as Array<[string, string[]]> | undefined)?.[0]?.[0];
        let lag = oldest === undefined ? 0 : nowMs - streamIdMs(oldest);
        const [hotErr, scan] = replies[2 * i + 2] ?? [];
        const hot = hotErr ? [] : ((scan as [string, string[]] | undefined)?.[1] ?? []);
        if (hot.length) {
          // The worker lists the rooms that are behind: hold those; the whole shard only
          // when its read-ahead is full (`*`), judged by the age of the last entry it read.
          const ages = new Map<string, number>();
          let whole = 0;
          for (let k = 0; k + 1 < hot.length && ages.size < MAX_HOT_ROOMS; k += 2) {
            const age = /^\d+-\d+$/.test(hot[k + 1]!) ? nowMs - streamIdMs(hot[k + 1]!) : 0;
            if (hot[k] === '*') whole = age;
            else if (hot[k] !== '-') ages.set(hot[k]!, age); // `-`: the worker serves the shard, no room behind
          }
          this.holdRooms(shard, ages, nowMs);
          lag = Math.min(lag, whole);
        } else {
          this.releaseRooms(shard, () => true);
        }
        const h = this.held.get(shard);
        if (h === undefined && lag > this.opts.maxLagMs) {
          this.held.set(shard, { since: nowMs, waiters: new Set() });
          this.log.warn({ shard, lagMs: lag }, 'room shard is behind: holding its senders');
        } else if (h !== undefined && lag <= this.opts.maxLagMs / 2) {
          this.log.info({ shard, lagMs: lag, heldMs: nowMs - h.since, released: h.waiters.size }, 'room shard caught up: releasing its senders');
          this.release(shard);
        }
      });
    } catch {
      // Redis unreachable: the outage handling in the router applies; nothing is held for it here.
      for (const shard of [...this.held.keys()]) this.release(shard);
      for (const shard of [...this.heldRoomsByShard.keys()]) this.releaseRooms(shard, () => true);
    } finally {
      this.polling = false;
    }
  }
}
