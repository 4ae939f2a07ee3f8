/*
 * What a room worker tells the gateways' overload backpressure (issue #10 item 6; the gateway
 * side is services/gateway/src/routing/shard-backpressure.ts): per shard, the rooms that are
 * behind (`KeySpace.shardHotRooms`) and, while the worker's event loop is saturated, the rooms
 * that flood it (`KeySpace.shardDeliveryHot`). Best effort: written on its own pipeline, not
 * awaited, at most every `limits.shardLagPollMs`.
 */
import type { Logger } from 'pino';
import type { KeySpace } from '@parley/bus';
import type { Config } from '@parley/config';
import type { ScriptedRedis } from '../redis-scripts.js';
import type { ShardActor } from './shard-actor.js';

type Pipeline = ReturnType<ScriptedRedis['pipeline']>;

/** Most rooms per shard listed as behind or flooded for the gateways. */
const MAX_HOT_ROOMS = 64;
/** How long a shard's list of rooms that are behind lives unless rewritten, ms (a dead worker's list lapses). */
const HOT_ROOMS_TTL_MS = 2000;
/** The hot list of a shard at work with no room behind: `-` → `` ("none", see {@link OverloadSignals.publish}). */
const NO_ROOMS_BEHIND: readonly string[] = ['-', ''];
const NO_ROOMS_BEHIND_SIGNATURE = NO_ROOMS_BEHIND.join('\n');
/** Pending entries that make a room count as flooded while the worker is saturated. */
const MIN_CROWDED = 3;
/** How long a flooded room stays listed without a refresh (ms). */
const CROWDED_TTL_MS = 1000;

/** A held shard as the signals need it (placement.ts `HeldShard`); only loaded ones that are not lost count. */
export interface SignalledShard {
  shard: number;
  /** Undefined while not loaded: left out. */
  actor: ShardActor | undefined;
  /** The lease is gone: left out. */
  lost?: boolean;
  /** When a turn last took entries of this shard (ms, local clock); 0 or undefined: never. */
  takenAt?: number | undefined;
}

export class OverloadSignals {
  /** Shards whose hot list is written: what was written last and when (ms). */
  private readonly hotPublished = new Map<number, { signature: string; names: string[]; at: number }>();
  private hotAt = 0;
  /** The event loop's utilization mark of the last {@link publishCrowdedRooms}. */
  private busyMark = performance.eventLoopUtilization();
  /** Rooms this worker listed as flooded, per shard (`KeySpace.shardDeliveryHot`). */
  private readonly crowdedPublished = new Map<number, string[]>();

  constructor(
    private readonly redis: ScriptedRedis,
    private readonly keys: KeySpace,
    private readonly config: Config,
    private readonly log: Logger,
  ) {}

  /**
   * Lists each shard's rooms that are behind for the gateways' backpressure (issue #10 item
   * 6; the gateway's shard-backpressure.ts): `KeySpace.shardHotRooms`, room → id of its
   * oldest entry not applied (those older than half of `limits.shardMaxLagMs`, at most
   * {@link MAX_HOT_ROOMS}, oldest first), plus `*` → the last entry read when the shard's
   * read-ahead is full. A shard at work with no room behind gets `-` → `` ("none"): its
   * stream's oldest entries may be in a turn that is not committed yet (up to two turns, see
   * the turn loop), older than any pending one, and without the list a gateway would take the
   * stream's age for the shard's and hold every sender of the shard. Rewritten when it changes,
   * at most every `limits.shardLagPollMs`, and at least every quarter of its TTL
   * ({@link HOT_ROOMS_TTL_MS}); deleted once the shard is idle. So a missing list means no
   * worker is serving the shard. Best effort (not awaited).
   * @param held - the worker's held shards (`ShardPlacement.held` values, read only when the
   *   poll interval has passed: a turn calls this every time); those not loaded or lost are
   *   left out
   */
  publish(held: Iterable<SignalledShard>): void {
    const maxLag = this.config.limits.shardMaxLagMs;
    const now = Date.now();
    if (now - this.hotAt < this.config.limits.shardLagPollMs) return;
    this.hotAt = now;
    const active: Array<SignalledShard & { actor: ShardActor }> = [];
    for (const h of held) if (h.actor && !h.lost) active.push(h as SignalledShard & { actor: ShardActor });
    // Made on first use: an ioredis pipeline copies every command defined on its connection.
    let made: Pipeline | undefined;
    const pipeline = (): Pipeline => (made ??= this.redis.pipeline());
    let queued = this.publishCrowdedRooms(active, pipeline, now);
    for (const h of active) {
      if (maxLag <= 0) break;
      const actor = h.actor;
      // Idle and not listed (the common case at a light load): nothing to write or to delete.
      if (!actor.pending.length && now - (h.takenAt ?? 0) >= HOT_ROOMS_TTL_MS && !this.hotPublished.has(h.shard)) continue;
      const rooms = actor.pending.length ? actor.behind(now - maxLag / 2, MAX_HOT_ROOMS) : undefined;
      const saturated = actor.pending.length >= this.config.roomWorker.readAhead;
      const busy = actor.pending.length > 0 || now - (h.takenAt ?? 0) < HOT_ROOMS_TTL_MS;
      if (!rooms?.size && !saturated && !busy) {
        if (this.hotPublished.delete(h.shard)) {
          pipeline().del(this.keys.shardHotRooms(h.shard));
          queued++;
        }
        continue;
      }
      // At work with no room behind (most shards, most of the time): the constant "none".
      let fields = NO_ROOMS_BEHIND;
      if (rooms?.size || saturated) {
        const list: string[] = [];
        for (const [room, id] of rooms ?? []) list.push(room, id);
        if (saturated) list.push('*', actor.readCursor);
        fields = list;
      }
      const signature = fields === NO_ROOMS_BEHIND ? NO_ROOMS_BEHIND_SIGNATURE : fields.join('\n');
      const last = this.hotPublished.get(h.shard);
      if (last && last.signature === signature && now - last.at < HOT_ROOMS_TTL_MS / 4) continue;
      const key = this.keys.shardHotRooms(h.shard);
      // Never empty in between (a gateway reading it then would hold the whole shard): the new
      // fields first, then the stale ones removed.
      const names = new Set(fields.filter((_, i) => i % 2 === 0));
      if (!last) pipeline().del(key);
      pipeline().hset(key, ...fields);
      const stale = last ? last.names.filter((n) => !names.has(n)) : [];
      if (stale.length) pipeline().hdel(key, ...stale);
      pipeline().pexpire(key, HOT_ROOMS_TTL_MS);
      this.hotPublished.set(h.shard, { signature, names: [...names], at: now });
      queued++;
    }
    if (queued) made?.exec().catch((err: unknown) => this.log.warn({ err }, 'publishing the rooms that are behind failed'));
  }

  /**
   * While this worker's event loop is saturated (busy more than `limits.maxEventLoopBusy` of
   * the time since the last call), lists each shard's flooded rooms (≥ {@link MIN_CROWDED}
   * entries pending, at most {@link MAX_HOT_ROOMS}) in `KeySpace.shardDeliveryHot` with a
   * deadline {@link CROWDED_TTL_MS} ahead (this process's clock; the gateways compare it with
   * Redis's, so the machines' clocks must agree to well under that), where the gateways hold
   * their senders; removes them once it is not. Issue #10 item 6: the other rooms then find
   * the worker with time to spare. Queues its writes on `pipeline()`; returns how many.
   */
  private publishCrowdedRooms(active: ReadonlyArray<SignalledShard & { actor: ShardActor }>, pipeline: () => Pipeline, now: number): number {
    const mark = performance.eventLoopUtilization();
    const busy = performance.eventLoopUtilization(mark, this.busyMark).utilization;
    this.busyMark = mark;
    const saturated = busy > this.config.limits.maxEventLoopBusy;
    let queued = 0;
    for (const h of active) {
      // Nothing pending and nothing listed: nothing to write or to remove.
      if (!h.actor.pending.length && !this.crowdedPublished.has(h.shard)) continue;
      const rooms = saturated ? h.actor.crowded(MIN_CROWDED, MAX_HOT_ROOMS) : [];
      const key = this.keys.shardDeliveryHot(h.shard);
      if (rooms.length) {
        const deadline = String(now + CROWDED_TTL_MS);
        pipeline().hset(key, ...rooms.flatMap((room) => [room, deadline]));
        pipeline().pexpire(key, 2 * CROWDED_TTL_MS);
        queued++;
      }
      const stale = (this.crowdedPublished.get(h.shard) ?? []).filter((room) => !rooms.includes(room));
      if (stale.length) {
        pipeline().hdel(key, ...stale);
        queued++;
      }
      if (rooms.length) this.crowdedPublished.set(h.shard, rooms);
      else this.crowdedPublished.delete(h.shard);
    }
    if (saturated && queued) this.log.debug({ busy }, 'saturated: listing the flooded rooms for their senders to be held');
    return queued;
  }
}
