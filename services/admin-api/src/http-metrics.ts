// The admin API's own Prometheus metrics (issue #4 observability): HTTP requests by route
// and status, job queue depth, Redis round-trip time. `/metrics` serves them followed by
// the cluster's (every gateway and room worker, merged by @parley/metrics). Names are
// distinct from the other processes' so that the two expositions can be concatenated.
import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { createRegistry } from '@parley/metrics';
import type { AppDeps } from './app-deps.js';

/** The registry and its series. */
export class HttpMetrics {
  readonly registry: Registry;
  private readonly requests: Counter<'method' | 'route' | 'status'>;
  private readonly duration: Histogram<'method' | 'route'>;

  constructor(private readonly deps: AppDeps) {
    // No process_*/nodejs_* series: the cluster's exposition has them from other processes
    // and two `# TYPE` lines of one name would make the concatenation invalid.
    this.registry = createRegistry({ service: 'admin-api', instance: deps.instance ?? 'admin-api' }, { processMetrics: false });
    this.requests = new Counter({
      name: 'parley_admin_http_requests_total',
      help: 'HTTP requests answered by the admin API, by route pattern and status',
      labelNames: ['method', 'route', 'status'],
      registers: [this.registry],
    });
    this.duration = new Histogram({
      name: 'parley_admin_http_request_duration_seconds',
      help: 'Time to answer an admin API request',
      labelNames: ['method', 'route'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers: [this.registry],
    });
    const jobs = deps.jobs;
    new Gauge({
      name: 'parley_jobs',
      help: 'Jobs in the BullMQ queue, by state (queue depth: waiting + delayed)',
      labelNames: ['state'],
      registers: [this.registry],
      async collect() {
        try {
          const counts = await jobs.counts();
          for (const [state, n] of Object.entries(counts)) this.set({ state }, n);
        } catch {
          // queue unreachable: keep the last values
        }
      },
    });
    const redis = deps.redis;
    new Gauge({
      name: 'parley_admin_redis_rtt_seconds',
      help: "Round trip of a PING to Redis from the admin API, measured at each scrape (-1 when it failed)",
      registers: [this.registry],
      async collect() {
        const started = process.hrtime.bigint();
        try {
          await redis.ping();
          this.set(Number(process.hrtime.bigint() - started) / 1e9);
        } catch {
          this.set(-1);
        }
      },
    });
  }

  /** Counts every response by its route pattern (`unknown` for 404s without a route). */
  install(app: FastifyInstance): void {
    app.addHook('onResponse', async (request, reply) => {
      const route = request.routeOptions.url ?? 'unknown';
      this.requests.inc({ method: request.method, route, status: String(reply.statusCode) });
      this.duration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
    });
  }

  /** This process's exposition. */
  async own(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
