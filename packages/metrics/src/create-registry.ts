// A process's Prometheus registry (issue #4: /metrics for the cluster). Every series a
// process exports carries `service` and `process`, so that the series of all processes can
// be merged into one exposition without colliding. The label is `process`, not `instance`:
// Prometheus sets `instance` to the scrape target, and renames a series' own `instance` to
// `exported_instance` (issue #14 item 4).
import { readdir } from 'node:fs/promises';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';

/** The labels every series of one process carries. */
export interface ProcessLabels {
  /** `gateway` or `room-worker` (the admin API may add its own). */
  service: string;
  /** The gateway or room worker id: unique among live processes; exported as the `process` label. */
  instance: string;
}

/**
 * prom-client default metrics whose reading blocks the event loop for a time that grows with
 * the number of open sockets, so they are not collected: with 10,000 client sockets,
 * `process_open_fds` (a synchronous readdir of `/proc/self/fd`) took 15 ms and the four
 * active-handle/resource series 14 ms together, about 25 ms of every metrics publication
 * (every 5 s), which showed as a latency spike every 5 s in 1,000 rooms × 10 at 5,000
 * deliveries/s (issue #15, bench/results/s2-stalls-2026-12-07.md). `process_open_fds` is
 * collected again below without blocking; the handle counts are left out (the gateway's
 * session gauges count its connections).
 */
const BLOCKING_DEFAULT_METRICS = ['process_open_fds', 'nodejs_active_handles', 'nodejs_active_handles_total', 'nodejs_active_resources', 'nodejs_active_resources_total'];

/**
 * Creates a registry whose series all carry `service` and `process` (= `labels.instance`)
 * as prom-client default labels.
 *
 * @param labels - `{ service, instance }`
 * @param opts.processMetrics - also collect prom-client's default `process_*` / `nodejs_*`
 *   metrics (CPU, memory, event loop lag, GC); default true. They are read when the registry
 *   is read, with no timer of their own. Left out: the ones in
 *   {@link BLOCKING_DEFAULT_METRICS}; `process_open_fds` is kept on Linux but counted with an
 *   asynchronous readdir (off the event loop: about 1 ms of it for 10,000 sockets instead of 15).
 */
export function createRegistry(labels: ProcessLabels, opts: { processMetrics?: boolean } = {}): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service: labels.service, process: labels.instance });
  if (opts.processMetrics ?? true) {
    collectDefaultMetrics({ register: registry });
    for (const name of BLOCKING_DEFAULT_METRICS) registry.removeSingleMetric(name);
    if (process.platform === 'linux') registerOpenFds(registry);
  }
  return registry;
}

/** `process_open_fds` (prom-client's name and meaning), counted with an asynchronous readdir of `/proc/self/fd`. */
function registerOpenFds(registry: Registry): void {
  new Gauge({
    name: 'process_open_fds',
    help: 'Number of open file descriptors.',
    registers: [registry],
    async collect() {
      try {
        // The listing includes the descriptor readdir itself holds open while it reads.
        this.set((await readdir('/proc/self/fd')).length - 1);
      } catch {
        // /proc not mounted: the gauge keeps its last value
      }
    },
  });
}
