// A process's Prometheus registry (issue #4: /metrics for the cluster). Every series a
// process exports carries `service` and `process`, so that the series of all processes can
// be merged into one exposition without colliding. The label is `process`, not `instance`:
// Prometheus sets `instance` to the scrape target, and renames a series' own `instance` to
// `exported_instance` (issue #14 item 4).
import { collectDefaultMetrics, Registry } from 'prom-client';

/** The labels every series of one process carries. */
export interface ProcessLabels {
  /** `gateway` or `room-worker` (the admin API may add its own). */
  service: string;
  /** The gateway or room worker id: unique among live processes; exported as the `process` label. */
  instance: string;
}

/**
 * Creates a registry whose series all carry `service` and `process` (= `labels.instance`)
 * as prom-client default labels.
 *
 * @param labels - `{ service, instance }`
 * @param opts.processMetrics - also collect prom-client's default `process_*` / `nodejs_*`
 *   metrics (CPU, memory, event loop lag, GC); default true. They are read when the registry
 *   is read, with no timer of their own.
 */
export function createRegistry(labels: ProcessLabels, opts: { processMetrics?: boolean } = {}): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service: labels.service, process: labels.instance });
  if (opts.processMetrics ?? true) collectDefaultMetrics({ register: registry });
  return registry;
}
