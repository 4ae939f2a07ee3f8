// Probes and metrics (issue #4 observability): `/healthz` (liveness: answers while the
// process runs, never needs a token), `/readyz` (Redis answers PING and the process is
// able to serve: the job queue has started), `/metrics` (Prometheus text: this process's
// series followed by every gateway's and room worker's, merged).
import type { FastifyInstance } from 'fastify';
import { readClusterMetrics } from '@parley/metrics';
import { ApiError } from '../errors.js';
import { errorResponses } from '../schemas.js';
import type { RouteOptions } from './route-options.js';

/** How long `/readyz` waits for PING, ms. */
const PING_TIMEOUT_MS = 1000;

/** `/healthz`, `/readyz`, `/metrics`. */
export async function healthRoutes(app: FastifyInstance, { deps, metrics }: RouteOptions): Promise<void> {
  const clusterMetrics = deps.clusterMetrics ?? (() => readClusterMetrics(deps.redis, deps.keys));

  app.get(
    '/healthz',
    {
      schema: {
        tags: ['health'],
        summary: 'Liveness',
        description: 'Always 200 while the process runs. No token needed.',
        security: [],
        response: { 200: { type: 'object', required: ['status'], properties: { status: { type: 'string', enum: ['ok'] } } } },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        tags: ['health'],
        summary: 'Readiness',
        description: '200 when Redis answers PING within 1 s and the job queue has started; 503 `unavailable` otherwise, with `details` per check (`ok`, `unreachable`, `not started`). No token needed: it tells only this.',
        security: [],
        response: {
          200: { type: 'object', required: ['status', 'checks'], properties: { status: { type: 'string', enum: ['ready'] }, checks: { type: 'object', additionalProperties: { type: 'string' } } } },
          ...errorResponses,
        },
      },
    },
    async () => {
      const checks: Record<string, string> = { redis: 'ok', jobs: 'ok' };
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          deps.redis.ping(),
          new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no PONG within ${PING_TIMEOUT_MS} ms`)), PING_TIMEOUT_MS))),
        ]);
      } catch {
        // Served without a token: a fixed word, not the client's error (which may name hosts).
        checks.redis = 'unreachable';
      } finally {
        clearTimeout(timer);
      }
      if (deps.isReady && !deps.isReady()) checks.jobs = 'not started';
      if (checks.redis !== 'ok' || checks.jobs !== 'ok') throw new ApiError('unavailable', 'not ready', checks);
      return { status: 'ready' as const, checks };
    },
  );

  app.get(
    '/metrics',
    {
      schema: {
        tags: ['health'],
        summary: 'Prometheus metrics',
        description:
          "Text format 0.0.4: the admin API's own series (HTTP requests, job queue depth, Redis round trip) followed by every live " +
          "gateway's and room worker's (connections, logins, stanzas, rooms, stream lag, Redis round trip), labelled by `service` and `process` (the process id; not `instance`, which Prometheus sets to the scrape target).",
        response: { 200: { description: 'Prometheus text exposition', content: { 'text/plain': { schema: { type: 'string' } } } }, ...errorResponses },
      },
    },
    async (request, reply) => {
      const own = await metrics.own();
      let cluster = '';
      try {
        cluster = await clusterMetrics();
      } catch (err) {
        request.log.warn({ err }, 'cluster metrics unavailable');
      }
      return reply.type(metrics.contentType).send(cluster ? `${own.trimEnd()}\n${cluster}` : own);
    },
  );
}
