// The cluster as Redis sees it: gateways (connections each), room workers (shards held),
// the shard map with stream backlog, Redis' status, and the job queue.
import type { FastifyInstance } from 'fastify';
import { readClusterState } from '@parley/control';
import { errorResponses } from '../schemas.js';
import type { RouteOptions } from './route-options.js';

const info = { type: 'object', additionalProperties: { type: 'string' } } as const;

const clusterSchema = {
  type: 'object',
  required: ['gateways', 'workers', 'shards', 'redis', 'jobs'],
  properties: {
    gateways: {
      type: 'array',
      items: {
        type: 'object',
        properties: { id: { type: 'string' }, lastSeen: { type: 'integer', description: 'last heartbeat, ms since epoch' }, sessions: { type: 'integer', description: 'sessions bound' }, info },
      },
    },
    workers: {
      type: 'array',
      items: { type: 'object', properties: { id: { type: 'string' }, lastSeen: { type: 'integer' }, shards: { type: 'array', items: { type: 'integer' } }, info } },
    },
    shards: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          shard: { type: 'integer' },
          owner: { type: 'string', description: 'room worker holding the lease' },
          token: { type: 'integer', description: 'fencing token' },
          streamLength: { type: 'integer', description: 'entries not yet applied and trimmed (backlog)' },
          cursor: { type: 'string', description: 'last committed entry id' },
        },
      },
    },
    redis: {
      type: 'object',
      properties: { version: { type: 'string' }, usedMemoryBytes: { type: 'integer' }, connectedClients: { type: 'integer' }, rttMs: { type: 'number' } },
    },
    jobs: {
      type: 'object',
      description: 'job queue depth by state',
      properties: { waiting: { type: 'integer' }, active: { type: 'integer' }, completed: { type: 'integer' }, failed: { type: 'integer' }, delayed: { type: 'integer' } },
    },
  },
} as const;

/** `GET /v1/cluster`. */
export async function clusterRoutes(app: FastifyInstance, { deps }: RouteOptions): Promise<void> {
  app.get(
    '/v1/cluster',
    { schema: { tags: ['cluster'], summary: 'Cluster state', response: { 200: clusterSchema, ...errorResponses } } },
    async () => {
      const [state, jobs] = await Promise.all([readClusterState(deps.redis, deps.keys, deps.config.muc.shards), deps.jobs.counts()]);
      return { ...state, jobs };
    },
  );
}
