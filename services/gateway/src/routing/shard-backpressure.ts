import type { Logger } from 'pino';
import { redisTimeMs, streamIdMs, type KeySpace } from '@parley/bus';
import type { ScriptedRedis } from './scripts.js';
import type { PressureChange } from './delivery-pressure.js';

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
  /**
   * The shard of a room (bare JID): needed to publish this gateway's delivery-hot rooms
   * ({@link setDeliveryHot}) where the other gateways read them. Without it they are held
   * here only.
   */
  shardOf?: (room: string) => number;
}

/**
 * How long a delivery-hot room published in Redis stays listed without being refreshed (ms of
 * the Redis clock): a gateway that dies with rooms listed holds their senders elsewhere at
 * most this long.
 */
export const DELIVERY_HOT_TTL_MS = 1000;

/** Most rooms of one shard held at a time (the room worker lists at most 64). */
export const MAX_HOT_ROOMS = 64;

/**
 * Overload backpressure towards the senders of busy rooms (issue #10 item 6).
 *
 * A room worker trims its shard stream up to what it has committed, so the oldest entry
 * left in a shard stream is the oldest stanza its room actors have not applied yet, and its
 * id (milliseconds of the Redis clock, XADD `*`) says since when it waits. Every `pollMs`
 * this gateway reads that id for the shards it wrote to since the last poll (one
 * lua/shard-pressure-3.lua each, which also reads the two room lists below, plus one `TIME`,
 * all in one write). When a shard's lag exceeds `maxLagMs`,
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
  /** Rooms this gateway's delivery queue finds hot (room → shard), see {@link setDeliveryHot}. */
  private readonly localHot = new Map<string, number>();
  /** Rooms other gateways list as delivery-hot, per shard read: room → deadline (Redis ms). */
  private readonly remoteHot = new Map<number, Map<string, number>>();
  /** Rooms held because a gateway's delivery queue stands (local or published), and their waiters. */
  private readonly deliveryHeld = new Map<string, { since: number; waiters: Set<() => void> }>();
  /** Rooms released here since the last poll, to be removed from the published lists. */
  private readonly unpublish = new Map<string, number>();
  /** Each polled shard's stream, hot-room and delivery-hot keys, made once (at most one entry per shard). */
  private readonly shardKeyNames = new Map<number, readonly [string, string, string]>();
  /** Redis clock minus this process's clock, from the last poll (ms). */
  private clockOffsetMs = 0;
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

  /** Whether shard lag holds are on (`maxLagMs` > 0); delivery-hot holds work either way. */
  private get lagOn(): boolean {
    return this.opts.maxLagMs > 0;
  }

  start(): void {
    if (!this.lagOn && !this.opts.shardOf) return;
    this.timer = setInterval(() => void this.poll(), this.opts.pollMs);
    this.timer.unref();
  }

  /** Stops polling and releases every held sender. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    for (const shard of [...this.held.keys()]) this.release(shard);
    for (const shard of [...this.heldRoomsByShard.keys()]) this.releaseRooms(shard, () => true);
    this.localHot.clear();
    this.remoteHot.clear();
    this.reconcileDeliveryHeld();
  }

  /**
   * This gateway's delivery queue changed its hot rooms (see delivery-pressure.ts): their
   * senders here are held at once, and the list is published in Redis at the next poll
   * (`KeySpace.shardDeliveryHot`, per shard) so that the gateways of their other senders
   * hold them too.
   */
  setDeliveryHot(change: PressureChange): void {
    for (const room of change.hot) this.localHot.set(room, this.opts.shardOf?.(room) ?? -1);
    for (const room of change.released) {
      const shard = this.localHot.get(room);
      this.localHot.delete(room);
      if (shard !== undefined && shard >= 0) this.unpublish.set(room, shard);
    }
    if (change.hot.length) this.log.warn({ rooms: change.hot.length, minWaitMs: change.minWaitMs }, 'delivery queue is standing: holding the senders of the rooms that fill it');
    if (change.released.length) this.log.info({ rooms: change.released.length, minWaitMs: change.minWaitMs }, 'delivery queue drained: releasing senders');
    this.reconcileDeliveryHeld();
  }

  /** Rooms held because a delivery queue stands (bare JIDs). */
  get deliveryHeldRooms(): string[] {
    return [...this.deliveryHeld.keys()];
  }

  /** Holds what the local and published delivery-hot lists name, and releases the rest. */
  private reconcileDeliveryHeld(nowMs = Date.now() + this.clockOffsetMs): void {
    const want = new Set(this.localHot.keys());
    for (const rooms of this.remoteHot.values()) for (const [room, deadline] of rooms) if (deadline > nowMs) want.add(room);
    for (const room of want) if (!this.deliveryHeld.has(room)) this.deliveryHeld.set(room, { since: nowMs, waiters: new Set() });
    for (const [room, h] of [...this.deliveryHeld]) {
      if (want.has(room)) continue;
      this.deliveryHeld.delete(room);
      for (const w of h.waiters) w();
    }
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
    if (!this.lagOn && !this.opts.shardOf) return undefined;
    this.touched.add(shard);
    const h = this.held.get(shard) ?? (room === undefined ? undefined : (this.heldRoomsByShard.get(shard)?.get(room) ?? this.deliveryHeld.get(room)));
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
    const publishing = this.localHot.size > 0 || this.unpublish.size > 0;
    if (this.polling || (!publishing && this.touched.size === 0 && this.held.size === 0 && this.heldRoomsByShard.size === 0 && this.remoteHot.size === 0)) return;
    this.polling = true;
    const shards = [...new Set([...this.touched, ...this.held.keys(), ...this.heldRoomsByShard.keys(), ...this.remoteHot.keys()])];
    this.touched.clear();
    try {
      // Single commands, not an ioredis Pipeline (a few KB each, issue #15): the connection
      // sends what one turn issues in one write and in call order (routing/batch-writes.ts),
      // so the delivery-hot writes still precede the reads. A shard whose read fails is left
      // as it was; TIME failing (Redis unreachable) ends in the catch below.
      this.publishDeliveryHot();
      const [time, ...reads] = await Promise.all([
        this.redis.time(),
        ...shards.map((shard) => {
          const [stream, hotRooms, deliveryHot] = this.shardKeys(shard);
          return this.redis.shardPressure(stream, hotRooms, deliveryHot, MAX_HOT_ROOMS + 1).catch(() => undefined);
        }),
      ]);
      const nowMs = redisTimeMs(time);
      this.clockOffsetMs = nowMs - Date.now();
      shards.forEach((shard, i) => {
        const read = reads[i];
        if (read === undefined) return;
        const [oldest, hot, deliveryHot] = read;
        this.readDeliveryHot(shard, deliveryHot, nowMs);
        if (!this.lagOn) return;
        let lag = oldest === '' ? 0 : nowMs - streamIdMs(oldest);
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
      this.reconcileDeliveryHeld(nowMs);
    } catch {
      // Redis unreachable: the outage handling in the router applies; nothing is held for it here.
      for (const shard of [...this.held.keys()]) this.release(shard);
      for (const shard of [...this.heldRoomsByShard.keys()]) this.releaseRooms(shard, () => true);
      this.remoteHot.clear();
      this.reconcileDeliveryHeld();
    } finally {
      this.polling = false;
    }
  }

  /** The stream, hot-room and delivery-hot keys of `shard`. */
  private shardKeys(shard: number): readonly [string, string, string] {
    let names = this.shardKeyNames.get(shard);
    if (names === undefined) {
      names = [this.keys.shardStream(shard), this.keys.shardHotRooms(shard), this.keys.shardDeliveryHot(shard)];
      this.shardKeyNames.set(shard, names);
    }
    return names;
  }

  /**
   * Sends the writes of this gateway's delivery-hot list: each local hot room with a deadline
   * {@link DELIVERY_HOT_TTL_MS} ahead (Redis clock, estimated from the last poll), released ones
   * removed. The hash expires with its last refresh. Their failures are ignored (the next poll
   * writes again; the poll's reads report an unreachable Redis).
   */
  private publishDeliveryHot(): void {
    if (!this.opts.shardOf) return;
    const deadline = Date.now() + this.clockOffsetMs + DELIVERY_HOT_TTL_MS;
    const byShard = new Map<number, string[]>();
    for (const [room, shard] of this.localHot) {
      if (shard < 0) continue;
      const fields = byShard.get(shard) ?? [];
      if (fields.length / 2 >= MAX_HOT_ROOMS) continue;
      fields.push(room, String(deadline));
      byShard.set(shard, fields);
      this.touched.add(shard);
    }
    const ignore = (): undefined => undefined;
    for (const [shard, fields] of byShard) {
      const key = this.shardKeys(shard)[2];
      this.redis.hset(key, ...fields).catch(ignore);
      this.redis.pexpire(key, 2 * DELIVERY_HOT_TTL_MS).catch(ignore);
    }
    for (const [room, shard] of this.unpublish) this.redis.hdel(this.shardKeys(shard)[2], room).catch(ignore);
    this.unpublish.clear();
  }

  /** Takes one shard's published delivery-hot rooms (flat: room, deadline, ...); expired fields are removed. */
  private readDeliveryHot(shard: number, flat: readonly string[], nowMs: number): void {
    const rooms = new Map<string, number>();
    const expired: string[] = [];
    for (let k = 0; k + 1 < flat.length && rooms.size < MAX_HOT_ROOMS; k += 2) {
      const deadline = Number(flat[k + 1]);
      if (Number.isFinite(deadline) && deadline > nowMs) rooms.set(flat[k]!, deadline);
      else expired.push(flat[k]!);
    }
    if (rooms.size) this.remoteHot.set(shard, rooms);
    else this.remoteHot.delete(shard);
    if (expired.length) void this.redis.hdel(this.shardKeys(shard)[2], ...expired).catch(() => undefined);
  }
}
