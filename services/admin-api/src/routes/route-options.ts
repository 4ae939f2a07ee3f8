import type { AppDeps } from '../app-deps.js';
import type { HttpMetrics } from '../http-metrics.js';

/** What every route plugin is registered with. */
export interface RouteOptions {
  deps: AppDeps;
  metrics: HttpMetrics;
}
