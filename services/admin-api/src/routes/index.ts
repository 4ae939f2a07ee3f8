// Every route plugin, in registration order (the OpenAPI document lists them in this order).
import type { FastifyInstance } from 'fastify';
import { affiliationRoutes } from './affiliations.js';
import { clusterRoutes } from './cluster.js';
import { hatRoutes } from './hats.js';
import { healthRoutes } from './health.js';
import { jobRoutes } from './jobs.js';
import { messageRoutes } from './messages.js';
import { occupantRoutes } from './occupants.js';
import type { RouteOptions } from './route-options.js';
import { roomRoutes } from './rooms.js';
import { sessionRoutes } from './sessions.js';
import { userRoutes } from './users.js';

/** The route plugins of the API. */
export const ROUTES: ReadonlyArray<(app: FastifyInstance, opts: RouteOptions) => Promise<void>> = [
  healthRoutes,
  userRoutes,
  sessionRoutes,
  roomRoutes,
  occupantRoutes,
  affiliationRoutes,
  hatRoutes,
  messageRoutes,
  jobRoutes,
  clusterRoutes,
];

export type { RouteOptions } from './route-options.js';
