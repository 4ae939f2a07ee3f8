/*
 * The actor runtime of XEP-0045 rooms (issue #3): a room worker holds fenced leases on
 * shards of the MUC service, loads their rooms, applies their stream entries in order and
 * commits what they changed. This file wires the process together; placement (membership,
 * rendezvous, leases, handover) is membership/placement.ts, turn execution (reads, loads,
 * apply → deliver → commit) is shard/turn-loop.ts. See README.md for the protocol.
 */
import { randomBytes } from 'node:crypto';
import { createRedis } from '@parley/service-runtime';
import type { Logger } from 'pino';
import { hopTracing, keySpace, type KeySpace } from '@parley/bus';
import type { Config } from '@parley/config';
import { createRegistry, MetricsPublisher } from '@parley/metrics';
import type { Registry } from 'prom-client';
import { ShardPlacement } from './membership/placement.js';
import { WorkerMetrics } from './metrics/worker-metrics.js';
import { defineScripts, type ScriptedRedis } from './redis-scripts.js';
import { OverloadSignals } from './shard/overload-signals.js';
import { TurnLoop } from './shard/turn-loop.js';

/**
 * One room worker process's runtime: its connections, metrics, shard placement
 * ({@link ShardPlacement}: heartbeat, live workers and gateways, leases) and its turn loop
 * ({@link TurnLoop}: one sequential loop that loads shards and runs their turns).
 *
 * Uses two Redis connections: one for commands and scripts, one held by the blocking XREAD.
 */
export class RoomWorker {
  /** This worker's id (configuration `roomWorker.id`, or random `rw-<hex>`). */
  readonly id: string;
  readonly keys: KeySpace;
  /** This process's Prometheus registry (`service="room-worker"`, `process=<id>`), published to Redis. */
  readonly metricsRegistry: Registry;
  private readonly metrics: WorkerMetrics;
  private readonly publisher: MetricsPublisher;
  private readonly redis: ScriptedRedis;
  private readonly reader: ScriptedRedis;
  private readonly placement: ShardPlacement;
  private readonly turns: TurnLoop;
  private timer: NodeJS.Timeout | undefined;
  private tickDone: Promise<void> | undefined;
  private loopDone: Promise<void> | undefined;
  private running = false;
  private readonly startedAt = Date.now();
  /** The cluster's key for forwarded IQ ids, read at start. */
  private forwardKey: string | undefined;
  private readonly log: Logger;
  /** What the gateways' backpressure reads: rooms behind, flooded rooms (shard/overload-signals.ts). */
  private readonly signals: OverloadSignals;

  /** @param log - the process logger; the worker's lines carry `workerId` (and `shard`). */
  constructor(private readonly config: Config, log: Logger) {
    this.id = config.roomWorker.id ?? `rw-${randomBytes(6).toString('hex')}`;
    this.log = log.child({ workerId: this.id });
    // debug.hopTrace (issue #15 item 1): per-hop stamps of groupchat messages (shard/hop-trace.ts).
    hopTracing.on = config.debug.hopTrace;
    this.keys = keySpace(config.redis.keyPrefix);
    // Auto-pipelining: the commits of the shards of one turn (sent together) go out in one
    // write. Nothing blocking runs on this connection (the XREAD has its own).
    this.redis = defineScripts(createRedis(config.redis, { lazyConnect: true, maxRetriesPerRequest: 3, enableAutoPipelining: true }));
    // XREAD BLOCK holds this one; a relaying turn's deliveries and commits go out ahead of it.
    this.reader = defineScripts(createRedis(config.redis, { lazyConnect: true, maxRetriesPerRequest: null }));
    // Connection errors (Redis down) are retried by ioredis; logged as JSON at most every 5 s
    // (without a listener ioredis prints a plain "Unhandled error event" on stderr; issue #14 item 4).
    let lastRedisError = 0;
    for (const conn of [this.redis, this.reader]) {
      conn.on('error', (err: Error) => {
        if (Date.now() - lastRedisError < 5000) return;
        lastRedisError = Date.now();
        this.log.warn({ err: err.message }, 'Redis connection error; retrying');
      });
    }
    const labels = { service: 'room-worker', instance: this.id };
    this.metricsRegistry = createRegistry(labels);
    this.metrics = new WorkerMetrics(this.metricsRegistry, {
      roomCounts: () => this.roomCounts(),
      shardsHeld: () => this.placement.held.size,
      shardLag: () => this.shardLag(),
    });
    this.signals = new OverloadSignals(this.redis, this.keys, config, this.log);
    this.placement = new ShardPlacement({
      config,
      redis: this.redis,
      keys: this.keys,
      workerId: this.id,
      startedAt: this.startedAt,
      running: () => this.running,
      log: this.log,
    });
    this.turns = new TurnLoop({
      config,
      redis: this.redis,
      reader: this.reader,
      keys: this.keys,
      placement: this.placement,
      metrics: this.metrics,
      signals: this.signals,
      forwardKey: () => this.forwardKey,
      running: () => this.running,
      log: this.log,
    });
    this.publisher = new MetricsPublisher({
      redis: this.redis,
      keys: this.keys,
      registry: this.metricsRegistry,
      labels,
      publishMs: config.metrics.publishMs,
      onError: (err) => {
        if (this.running) this.log.warn({ err }, 'publishing metrics failed');
      },
    });
  }

  /** Shard numbers this worker holds a lease on (loaded or loading), ascending. */
  get shards(): number[] {
    return this.placement.shards;
  }

  /**
   * Connects, joins the membership and takes the shards it is the desired owner of that
   * are free; resolves once the first heartbeat is written (shards load in the background).
   */
  async start(): Promise<void> {
    await Promise.all([this.redis.connect(), this.reader.connect()]);
    // The HMAC key of forwarded IQ ids (XEP-0045 §17.4, @parley/muc iq-forward.ts): one for
    // the cluster, so an answer is relayed by whichever worker holds the room by then.
    await this.redis.set(this.keys.mucForwardKey(), randomBytes(32).toString('base64'), 'NX');
    this.forwardKey = (await this.redis.get(this.keys.mucForwardKey())) ?? undefined;
    this.running = true;
    this.placement.keeper.start();
    await this.placement.tick();
    this.timer = setInterval(() => {
      if (!this.tickDone) this.tickDone = this.placement.tick().finally(() => (this.tickDone = undefined));
    }, this.config.roomWorker.heartbeatMs);
    this.loopDone = this.turns.run();
    this.publisher.start();
  }

  /**
   * Stops: finishes the current turn (which commits), releases every lease, leaves the
   * membership and disconnects. Other workers take the shards over on their next heartbeat.
   */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    if (this.timer) clearInterval(this.timer);
    await this.tickDone;
    await this.loopDone;
    await this.publisher.stop();
    for (const h of [...this.placement.held.values()]) await this.placement.release(h).catch((err: unknown) => h.log.error({ err }, 'releasing the lease failed'));
    this.placement.keeper.stop();
    await this.redis
      .multi()
      .zrem(this.keys.roomWorkers(), this.id)
      .del(this.keys.roomWorkerInfo(this.id))
      .exec()
      .catch(() => undefined);
    this.reader.disconnect();
    await this.redis.quit().catch(() => undefined);
  }

  /**
   * Stops abruptly, as a crash would: no commit, no release, no goodbye (for tests of
   * failover within one process). The leases lapse after `leaseTtlMs`.
   */
  async crash(): Promise<void> {
    this.running = false;
    if (this.timer) clearInterval(this.timer);
    this.placement.keeper.stop();
    void this.publisher.stop({ remove: false });
    this.placement.held.clear();
    this.redis.disconnect();
    this.reader.disconnect();
    await Promise.allSettled([this.tickDone, this.loopDone]);
  }

  /** Rooms and occupants in memory, for the metrics. */
  private roomCounts(): { rooms: number; occupants: number } {
    let rooms = 0;
    let occupants = 0;
    for (const h of this.placement.held.values()) {
      if (!h.actor) continue;
      rooms += h.actor.rooms.size;
      for (const room of h.actor.rooms.values()) occupants += room.occupants.size;
    }
    return { rooms, occupants };
  }

  /** XLEN of every held shard's stream: the entries not yet committed (one pipeline). */
  private async shardLag(): Promise<Map<number, number>> {
    const shards = this.shards;
    const lag = new Map<number, number>();
    if (!shards.length) return lag;
    const pipeline = this.redis.pipeline();
    for (const shard of shards) pipeline.xlen(this.keys.shardStream(shard));
    const replies = (await pipeline.exec()) ?? [];
    shards.forEach((shard, i) => {
      const [err, n] = replies[i] ?? [new Error('no reply'), 0];
      if (!err && typeof n === 'number') lag.set(shard, n);
    });
    return lag;
  }
}
