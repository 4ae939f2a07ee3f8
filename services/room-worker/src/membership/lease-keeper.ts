import type { Logger } from 'pino';
import type { KeySpace } from '@parley/bus';
import type { RedisClusterConfig, RedisSentinelConfig } from '@parley/config';
import { SupervisedThread } from '@parley/service-runtime';
import type { FromLeaseThread, Grant, LeaseThreadData, ToLeaseThread } from './lease-thread.js';

export type { Grant } from './lease-thread.js';

/** What the {@link LeaseKeeper} needs. */
export interface LeaseKeeperDeps {
  redisUrl: string;
  /** `redis.sentinel`; wins over `redisUrl` when set. */
  redisSentinel?: RedisSentinelConfig | undefined;
  /** `redis.cluster`; wins over `redisUrl` when set. */
  redisCluster?: RedisClusterConfig | undefined;
  keys: KeySpace;
  workerId: string;
  /** `roomWorker.leaseTtlMs`. */
  ttlMs: number;
  /** `roomWorker.heartbeatMs`: the renewal period. */
  heartbeatMs: number;
  log: Logger;
  /** These grants were renewed by a request sent at `sentAt` (local ms): they last until `sentAt + ttlMs`. */
  onRenewed(grants: Grant[], sentAt: number): void;
  /** These grants are not ours any more (the renewal found another value or none). */
  onRefused(grants: Grant[]): void;
}

/**
 * Renews a room worker's shard leases and its membership heartbeat from a worker thread
 * (lease-thread.ts) with its own Redis connection, so that a main thread busy applying a
 * turn, collecting garbage or waiting behind its own delivery pipeline does not let its
 * leases lapse (issue #10: a busy node is not a dead node).
 *
 * - The main thread says which grants it holds ({@link hold}, {@link drop}); every
 *   `heartbeatMs` the thread renews them all in one pipeline (renew-lease-1.lua: extended
 *   only while the value is still this grant's) and writes the worker's score in the
 *   `roomWorkers` sorted set; it reports renewed and refused grants.
 * - Safety does not depend on the thread: every commit is fenced by the lease value
 *   (commit-shard-n.lua), and the main thread stops using a shard at its local deadline
 *   (`expiresAt`, moved only by reported renewals).
 * - A main thread silent for `stallMs` = max(10 s, 4 × `ttlMs`) is hung, not busy: the
 *   thread stops renewing so that the leases lapse and other workers take the shards.
 * - If the thread dies it is started again with every grant held; meanwhile the main
 *   thread renews by itself (see `RoomWorker.tick`, via {@link lastReportAt}).
 */
export class LeaseKeeper {
  private readonly thread: SupervisedThread<ToLeaseThread, FromLeaseThread>;
  private readonly grants = new Map<number, string>();
  private lastError = 0;
  /** Local time of the thread's last report of a renewal round, ms since epoch (0: none yet). */
  lastReportAt = 0;

  constructor(private readonly d: LeaseKeeperDeps) {
    const ts = import.meta.url.endsWith('.ts');
    const workerData: LeaseThreadData = {
      redisUrl: d.redisUrl,
      redisSentinel: d.redisSentinel,
      redisCluster: d.redisCluster,
      keyPrefix: d.keys.prefix,
      workerId: d.workerId,
      ttlMs: d.ttlMs,
      heartbeatMs: d.heartbeatMs,
      stallMs: Math.max(10_000, 4 * d.ttlMs),
    };
    this.thread = new SupervisedThread({
      name: 'lease thread',
      url: new URL(ts ? '../../dist/membership/lease-thread.js' : './lease-thread.js', import.meta.url),
      workerData,
      log: d.log,
      onMessage: (m) => this.onMessage(m),
      // A restarted thread renews every grant held.
      onStart: () => {
        for (const grant of this.grants) this.thread.post({ kind: 'hold', grant });
      },
    });
  }

  start(): void {
    this.thread.start();
  }

  /** The main thread holds this grant from now on: renew it. */
  hold(grant: Grant): void {
    this.grants.set(grant[0], grant[1]);
    this.thread.post({ kind: 'hold', grant });
  }

  /** The main thread let this grant go (released, lost or handed over): stop renewing it. */
  drop(grant: Grant): void {
    if (this.grants.get(grant[0]) === grant[1]) this.grants.delete(grant[0]);
    this.thread.post({ kind: 'drop', grant });
  }

  /** The main thread is responsive; call it every heartbeat. */
  alive(): void {
    this.thread.post({ kind: 'alive' });
  }

  /** Stops the thread: no renewal any more (on a clean stop after the releases, or to simulate a crash). */
  stop(): void {
    this.thread.stop({ kind: 'stop' });
  }

  private onMessage(m: FromLeaseThread): void {
    switch (m.kind) {
      case 'renewed':
        this.lastReportAt = Date.now();
        if (m.grants.length) this.d.onRenewed(m.grants, m.sentAt);
        return;
      case 'refused':
        for (const [shard, value] of m.grants) if (this.grants.get(shard) === value) this.grants.delete(shard);
        this.d.onRefused(m.grants);
        return;
      case 'stalled':
      case 'error':
        if (Date.now() - this.lastError > 5000) {
          this.lastError = Date.now();
          if (m.kind === 'stalled') this.d.log.error({ silentMs: m.silentMs }, 'main thread unresponsive: lease renewals suspended');
          else this.d.log.warn({ reason: m.message }, 'lease renewal failed');
        }
        return;
    }
  }
}
