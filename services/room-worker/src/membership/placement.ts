/*
 * Where a room worker's shards are (issue #15 item 5: placement apart from turn execution,
 * as Orleans keeps placement, activation and scheduling apart): membership (the worker's
 * heartbeat, the live workers and gateways), the desired owner of each shard (rendezvous
 * hashing, rendezvous.ts), and the fenced shard leases (acquire, renew, hand over, lose,
 * release). The turn loop (shard/turn-loop.ts) reads `held` and asks `leaseValid` before
 * each write. See ../../README.md for the protocol.
 */
import type { Logger } from 'pino';
import type { KeySpace } from '@parley/bus';
import type { Config } from '@parley/config';
import type { ScriptedPipeline, ScriptedRedis } from '../redis-scripts.js';
import type { ShardActor } from '../shard/shard-actor.js';
import { LeaseKeeper, type Grant } from './lease-keeper.js';
import { desiredOwner } from './rendezvous.js';

/** A shard this worker holds a lease on. */
export interface HeldShard {
  shard: number;
  /** The lease value as granted, `<worker id> <token>`. */
  leaseValue: string;
  token: number;
  /** When the lease surely lapses unless renewed (local clock, counted from the request). */
  expiresAt: number;
  acquiredAt: number;
  /** Undefined until loaded (and again after a failed turn, until reloaded). */
  actor: ShardActor | undefined;
  /** The lease is gone: never write for this shard again. */
  lost: boolean;
  /** Another live worker is the desired owner: release after the current turn. */
  handover: boolean;
  /** When a turn last took entries of this shard (ms, local clock); 0: never. */
  takenAt?: number;
  log: Logger;
}

export interface PlacementDeps {
  config: Config;
  /** Commands and scripts (not the blocking reader). */
  redis: ScriptedRedis;
  keys: KeySpace;
  workerId: string;
  /** When the worker started (ms since epoch), published with its heartbeat. */
  startedAt: number;
  /** Whether the worker is running (a stopping worker takes no new shards and logs no heartbeat errors). */
  running: () => boolean;
  log: Logger;
}

/**
 * The shards this worker holds and the membership it holds them by. {@link tick} runs every
 * `roomWorker.heartbeatMs`: heartbeat, live workers and gateways, then {@link rebalance}.
 * Leases are renewed by a thread of their own (lease-keeper.ts), so a long turn does not let
 * them lapse; the main thread renews only while that thread is silent.
 */
export class ShardPlacement {
  /** Shards held (loaded or loading), by number. */
  readonly held = new Map<number, HeldShard>();
  /** Live room workers (heartbeat within the lease TTL), this one included, sorted. */
  liveWorkers: string[] = [];
  /** Live gateways (in the `gateways` set until a reaper takes them out). */
  liveGateways = new Set<string>();
  /** Renews the leases and the membership heartbeat from a thread of its own. */
  readonly keeper: LeaseKeeper;
  private readonly ttl: number;
  private readonly log: Logger;

  constructor(private readonly d: PlacementDeps) {
    this.ttl = d.config.roomWorker.leaseTtlMs;
    this.log = d.log;
    this.keeper = new LeaseKeeper({
      redisUrl: d.config.redis.url,
      redisSentinel: d.config.redis.sentinel,
      redisCluster: d.config.redis.cluster,
      keys: d.keys,
      workerId: d.workerId,
      ttlMs: this.ttl,
      heartbeatMs: d.config.roomWorker.heartbeatMs,
      log: d.log,
      onRenewed: (grants, sentAt) => this.renewed(grants, sentAt),
      onRefused: (grants) => {
        for (const [shard, value] of grants) {
          const h = this.held.get(shard);
          if (h && h.leaseValue === value) this.lose(h, 'renewal refused');
        }
      },
    });
  }

  /** Shard numbers held (loaded or loading), ascending. */
  get shards(): number[] {
    return [...this.held.keys()].sort((a, b) => a - b);
  }

  async tick(): Promise<void> {
    try {
      const now = Date.now();
      this.keeper.alive();
      // The lease thread renews; the main thread only while it has not heard from the thread
      // for two periods (it is starting, or restarting after it died).
      if (now - this.keeper.lastReportAt > 2 * this.d.config.roomWorker.heartbeatMs) await this.renewAll();
      const cutoff = now - this.ttl;
      const [, [, workers], [, gateways]] = ((await this.d.redis
        .multi()
        .zadd(this.d.keys.roomWorkers(), now, this.d.workerId)
        .zrangebyscore(this.d.keys.roomWorkers(), `(${cutoff}`, '+inf')
        // A gateway is live until a reaper takes it out of the set (gateway liveness.ts: the
        // reaper judges heartbeat age by the Redis clock, and not during a Redis outage).
        .zrange(this.d.keys.gateways(), '0', '-1')
        .zremrangebyscore(this.d.keys.roomWorkers(), '-inf', `(${cutoff}`)
        .exec()) ?? []) as [unknown, [unknown, string[]], [unknown, string[]]];
      this.liveWorkers = [...new Set([...workers, this.d.workerId])].sort();
      this.liveGateways = new Set(gateways);
      if (this.d.running()) await this.rebalance();
      await this.d.redis
        .multi()
        .hset(this.d.keys.roomWorkerInfo(this.d.workerId), { pid: String(process.pid), started: String(this.d.startedAt), shards: JSON.stringify(this.shards) })
        .pexpire(this.d.keys.roomWorkerInfo(this.d.workerId), this.ttl * 3)
        .exec();
    } catch (err) {
      if (this.d.running()) this.log.error({ err }, 'heartbeat failed');
    }
  }

  /** Grants the lease thread renewed with a request sent at `sentAt` (local ms). */
  renewed(grants: readonly Grant[], sentAt: number): void {
    for (const [shard, value] of grants) {
      const h = this.held.get(shard);
      if (h && !h.lost && h.leaseValue === value) h.expiresAt = Math.max(h.expiresAt, sentAt + this.ttl);
    }
  }

  private async renewAll(): Promise<void> {
    const held = [...this.held.values()];
    if (!held.length) return;
    const sent = Date.now();
    const pipeline = this.d.redis.pipeline() as ScriptedPipeline;
    for (const h of held) pipeline.renewLease(this.d.keys.shardLease(h.shard), h.leaseValue, this.ttl);
    const replies = (await pipeline.exec()) ?? [];
    held.forEach((h, i) => {
      const [err, ok] = replies[i] ?? [new Error('no reply'), 0];
      if (err) return; // unknown: the lease may still be ours; it lapses locally at expiresAt
      if (ok === 1) h.expiresAt = Math.max(h.expiresAt, sent + this.ttl);
      else this.lose(h, 'renewal refused');
    });
  }

  async rebalance(): Promise<void> {
    const wanted: number[] = [];
    for (let shard = 0; shard < this.d.config.muc.shards; shard++) {
      const owner = desiredOwner(shard, this.liveWorkers);
      const h = this.held.get(shard);
      if (owner === this.d.workerId && !h) wanted.push(shard);
      if (owner !== this.d.workerId && h && !h.handover) {
        h.handover = true;
        h.log.info({ to: owner }, 'handing shard over');
      }
    }
    if (!wanted.length) return;
    const sent = Date.now();
    const pipeline = this.d.redis.pipeline() as ScriptedPipeline;
    for (const shard of wanted) pipeline.acquireLease(this.d.keys.shardLease(shard), this.d.keys.shardFence(shard), this.d.workerId, this.ttl);
    const replies = (await pipeline.exec()) ?? [];
    wanted.forEach((shard, i) => {
      const [err, token] = replies[i] ?? [new Error('no reply'), null];
      if (err || token === null || typeof token !== 'number') return; // held by someone else (for now)
      this.keeper.hold([shard, `${this.d.workerId} ${token}`]);
      this.held.set(shard, {
        shard,
        token,
        leaseValue: `${this.d.workerId} ${token}`,
        expiresAt: sent + this.ttl,
        acquiredAt: Date.now(),
        actor: undefined,
        lost: false,
        handover: false,
        log: this.log.child({ shard }),
      });
    });
  }

  lose(h: HeldShard, reason: string): void {
    if (h.lost) return;
    h.lost = true;
    h.actor = undefined;
    if (this.held.get(h.shard) === h) this.held.delete(h.shard);
    this.keeper.drop([h.shard, h.leaseValue]);
    h.log.warn({ reason, token: h.token }, 'shard lost');
  }

  /**
   * Renews now, from the main thread, the leases of `shards` whose local deadline has passed
   * although they were neither refused nor lost: after the main thread was blocked for longer
   * than the TTL, the lease thread's reports of its renewals may still be queued behind the
   * turn. A renewal is fenced (it extends only this grant's value), so a shard whose lease
   * really lapsed is refused and lost here. One pipeline, only when a deadline passed.
   */
  async confirmLeases(shards: readonly HeldShard[]): Promise<void> {
    const late = shards.filter((h) => !h.lost && Date.now() >= h.expiresAt);
    if (!late.length) return;
    const sent = Date.now();
    const pipeline = this.d.redis.pipeline() as ScriptedPipeline;
    for (const h of late) pipeline.renewLease(this.d.keys.shardLease(h.shard), h.leaseValue, this.ttl);
    // A failure leaves the deadlines as they are: leaseValid then drops those shards.
    const replies = (await pipeline.exec().catch(() => null)) ?? [];
    late.forEach((h, i) => {
      const [err, ok] = replies[i] ?? [new Error('no reply'), 0];
      if (!err && ok === 1) h.expiresAt = Math.max(h.expiresAt, sent + this.ttl);
    });
  }

  leaseValid(h: HeldShard): boolean {
    if (h.lost) return false;
    if (Date.now() < h.expiresAt) return true;
    this.lose(h, 'lease lapsed without renewal');
    // If Redis still has this grant (no renewal came back in time, but none was refused),
    // free the shard now rather than when the grant expires there (compare-and-delete).
    void this.d.redis.releaseLease(this.d.keys.shardLease(h.shard), h.leaseValue).catch(() => undefined);
    return false;
  }

  async release(h: HeldShard): Promise<void> {
    this.held.delete(h.shard);
    if (h.lost) return;
    h.lost = true;
    h.actor = undefined;
    this.keeper.drop([h.shard, h.leaseValue]);
    await this.d.redis.releaseLease(this.d.keys.shardLease(h.shard), h.leaseValue);
    h.log.info({ heldMs: Date.now() - h.acquiredAt }, 'shard released');
  }
}
