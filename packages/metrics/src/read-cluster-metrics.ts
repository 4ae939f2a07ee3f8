// The cluster's /metrics (issue #4): every process's published registry, merged.
import type { Redis } from 'ioredis';
import { AggregatorRegistry, type MetricObjectWithValues, type MetricValue } from 'prom-client';
import type { KeySpace } from '@parley/bus';

type MetricJson = MetricObjectWithValues<MetricValue<string>>;

/**
 * Reads the metrics every live process published (see {@link MetricsPublisher}) and renders
 * them as one Prometheus text exposition (format 0.0.4).
 *
 * Reads `KeySpace.metricsIndex()`, then each listed key; keys that expired (their process is
 * gone) are removed from the index, and unreadable ones are skipped. The series are merged
 * with prom-client's `AggregatorRegistry.aggregate`; since every series carries its
 * process's `process` label, no two processes' series are summed together, so every
 * metric is merged with the `sum` aggregator (prom-client's own choices such as `omit` for
 * `process_start_time_seconds` would drop series that are in fact distinct).
 *
 * @returns the text exposition; empty when no process has published
 */
export async function readClusterMetrics(redis: Redis, keys: KeySpace): Promise<string> {
  const index = keys.metricsIndex();
  const listed = (await redis.smembers(index)).sort();
  if (!listed.length) return '';
  // Separate GETs rather than MGET: the keys are in different Redis Cluster slots.
  const values = await Promise.all(listed.map((key) => redis.get(key)));
  const dead = listed.filter((_, i) => values[i] === null);
  if (dead.length) await redis.srem(index, ...dead);
  const all: MetricJson[][] = [];
  for (const raw of values) {
    if (raw === null || raw === undefined) continue;
    try {
      const metrics = JSON.parse(raw) as unknown;
      if (Array.isArray(metrics)) all.push((metrics as MetricJson[]).map((m) => ({ ...m, aggregator: 'sum' })));
    } catch {
      // a key that is not JSON is left out
    }
  }
  return AggregatorRegistry.aggregate(all).metrics();
}
