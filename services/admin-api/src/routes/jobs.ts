// Jobs started through the API (user deletion, announcements, cleanup): status, progress
// and result, read from the BullMQ queue.
import type { FastifyInstance } from 'fastify';
import { ApiError } from '../errors.js';
import { errorResponses, jobSchema } from '../schemas.js';
import type { RouteOptions } from './route-options.js';

/** `/v1/jobs` routes. */
export async function jobRoutes(app: FastifyInstance, { deps }: RouteOptions): Promise<void> {
  const { jobs } = deps;

  app.get<{ Params: { id: string } }>(
    '/v1/jobs/:id',
    {
      schema: {
        tags: ['jobs'],
        summary: 'Get a job',
        description: 'State, progress (0..100), result or failure reason. Completed jobs are kept for a while, then 404.',
        params: { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 256 } }, additionalProperties: false },
        response: { 200: jobSchema, ...errorResponses },
      },
    },
    async (request) => {
      const job = await jobs.get(request.params.id);
      if (!job) throw new ApiError('job-not-found', `no job ${request.params.id}`);
      return job;
    },
  );

  app.post(
    '/v1/jobs/cleanup-offline',
    {
      schema: {
        tags: ['jobs'],
        summary: 'Start an offline-message cleanup now (a job)',
        description: 'The same job the scheduler runs: removes offline messages older than the retention period.',
        response: { 202: jobSchema, ...errorResponses },
      },
    },
    async (_request, reply) => {
      const job = await jobs.cleanupOffline();
      return reply.status(202).header('location', `/v1/jobs/${encodeURIComponent(job.id)}`).send(job);
    },
  );
}
