// @parley/metrics: Prometheus metrics for the cluster (issue #4). Each gateway and room
// worker keeps a registry labelled with its service and process id and publishes it to Redis;
// the admin API merges what every live process published into one /metrics.
export { createRegistry, type ProcessLabels } from './create-registry.js';
export { MetricsPublisher, type MetricsPublisherOptions } from './metrics-publisher.js';
export { readClusterMetrics } from './read-cluster-metrics.js';
