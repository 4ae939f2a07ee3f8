// Publishing a process's metrics to Redis (issue #4). Gateways and room workers have no
// HTTP endpoint of their own; each writes its registry as JSON to one key with a short TTL
// and lists the key in an index set, and the admin API merges them (see
// `readClusterMetrics`). A process that dies stops refreshing its key, which expires.
import type { Redis } from 'ioredis';
import { Histogram, type Registry } from 'prom-client';
import type { KeySpace } from '@parley/bus';
import type { ProcessLabels } from './create-registry.js';

/** Buckets of `parley_redis_rtt_seconds`: 0.1 ms to 1 s. */
const RTT_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

/** What a {@link MetricsPublisher} needs. */
export interface MetricsPublisherOptions {
  /** A command connection of the process (not one held by a blocking read). */
  redis: Redis;
  keys: KeySpace;
  registry: Registry;
  /** The process's `service` and `instance` labels, which also name its key. */
  labels: ProcessLabels;
  /** Period, ms (configuration `metrics.publishMs`); the key lives three periods. */
  publishMs: number;
  /** Called when a publication fails (Redis down): the next period tries again. */
  onError?: (err: unknown) => void;
}

/**
 * Every `publishMs`, times a `PING` (histogram `parley_redis_rtt_seconds`, registered in the
 * registry by the constructor), then `SET KeySpace.processMetrics(service, instance)
 * <JSON of registry.getMetricsAsJSON()> PX 3 × publishMs` and `SADD KeySpace.metricsIndex()`
 * that key (one pipeline; not MULTI, since the two keys are in different Redis Cluster slots).
 */
export class MetricsPublisher {
  /** Round trip of a `PING` on the process's command connection, seconds. */
  readonly redisRtt: Histogram;
  private readonly key: string;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;

  constructor(private readonly opts: MetricsPublisherOptions) {
    this.key = opts.keys.processMetrics(opts.labels.service, opts.labels.instance);
    this.redisRtt = new Histogram({
      name: 'parley_redis_rtt_seconds',
      help: 'Round trip of a PING to Redis on the command connection, timed at every metrics publication',
      buckets: RTT_BUCKETS,
      registers: [opts.registry],
    });
  }

  /** Publishes once at once, then every `publishMs` (the timer does not keep the process alive). */
  start(): void {
    if (this.timer) return;
    this.tick();
    this.timer = setInterval(() => this.tick(), this.opts.publishMs);
    this.timer.unref();
  }

  /**
   * Stops publishing and waits for a publication in flight.
   * @param opts.remove - also delete the key and its index entry (default true: a clean stop
   *   disappears from the cluster's metrics at once instead of after the TTL)
   */
  async stop(opts: { remove?: boolean } = {}): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.inFlight;
    if (opts.remove ?? true) {
      await this.opts.redis
        .pipeline()
        .del(this.key)
        .srem(this.opts.keys.metricsIndex(), this.key)
        .exec()
        .catch(() => undefined);
    }
  }

  /** One publication (also what the timer runs); rejects when Redis fails. */
  async publish(): Promise<void> {
    const { redis, keys, registry, publishMs } = this.opts;
    const sent = process.hrtime.bigint();
    await redis.ping();
    this.redisRtt.observe(Number(process.hrtime.bigint() - sent) / 1e9);
    const json = JSON.stringify(await registry.getMetricsAsJSON());
    const replies = (await redis.pipeline().set(this.key, json, 'PX', publishMs * 3).sadd(keys.metricsIndex(), this.key).exec()) ?? [];
    for (const [err] of replies) if (err) throw err;
  }

  private tick(): void {
    if (this.inFlight) return; // the previous one is still waiting on Redis
    this.inFlight = this.publish()
      .catch((err: unknown) => this.opts.onError?.(err))
      .finally(() => (this.inFlight = undefined));
  }
}
