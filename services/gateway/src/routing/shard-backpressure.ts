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
 */
export class ShardBackpressure {
  private readonly touched = new Set<number>();
  /** Held shards and the waiters to release when their lag falls. */
  private readonly held = new Map<number, { since: number; waiters: Set<() => void> }>();
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
  }

  /** Shards currently holding their senders. */
  get heldShards(): number[] {
    return [...this.held.keys()];
  }

  /**
   * Called before a client's stanza is appended to `shard`'s stream. Returns undefined when
   * it may go at once (the common case: no promise is made), or a promise that resolves when
   * the shard has caught up (lag below `maxLagMs / 2`) or after `maxHoldMs`. Never rejects.
   */
  admit(shard: number): Promise<void> | undefined {
    if (this.opts.maxLagMs <= 0) return undefined;
    this.touched.add(shard);
    const h = this.held.get(shard);
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

  private release(shard: number): void {
    const h = this.held.get(shard);
    if (!h) return;
    this.held.delete(shard);
    for (const w of h.waiters) w();
  }

  private async poll(): Promise<void> {
    if (this.polling || (this.touched.size === 0 && this.held.size === 0)) return;
    this.polling = true;
    const shards = [...new Set([...this.touched, ...this.held.keys()])];
    this.touched.clear();
    try {
      const pipeline = this.redis.pipeline();
      pipeline.time();
      for (const shard of shards) pipeline.xrange(this.keys.shardStream(shard), '-', '+', 'COUNT', 1);
      const replies = (await pipeline.exec()) ?? [];
      const time = replies[0]?.[1] as [string, string] | undefined;
      if (!time) return;
      const nowMs = redisTimeMs(time);
      shards.forEach((shard, i) => {
        const [err, entries] = replies[i + 1] ?? [];
        if (err) return;
        const oldest = (entries as Array<[string, string[]]> | undefined)?.[0]?.[0];
        const lag = oldest === undefined ? 0 : nowMs - streamIdMs(oldest);
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
    } finally {
      this.polling = false;
    }
  }
}
