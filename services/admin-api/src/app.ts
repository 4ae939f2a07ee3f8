// The admin REST API (issue #4) as a Fastify app factory: `buildApp(deps)` wires plugins
// and routes and never listens (main.ts does), so tests drive it with `inject()`.
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance } from 'fastify';
import type { AppDeps } from './app-deps.js';
import { authHook, TokenVerifier } from './auth.js';
import { installErrorHandlers } from './error-handler.js';
import { HttpMetrics } from './http-metrics.js';
import { ROUTES } from './routes/index.js';

/** A route as registered; `documented` ones appear in the OpenAPI document. */
export interface ApiRoute {
  method: string;
  url: string;
  documented: boolean;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route registered (HEAD excluded), for tests and diagnostics. */
    apiRoutes: ApiRoute[];
  }
}

/** The API's version, as the OpenAPI document states it. */
export const API_VERSION = '1.0.0';

/**
 * Builds the admin API. Call `await app.ready()` (or `listen`) before use; `app.close()`
 * closes nothing of `deps` (the caller owns Redis and the job queue).
 */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    ...(deps.log ? { loggerInstance: deps.log } : { logger: false }),
    // Unknown body properties are errors (400 validation), not silently dropped.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false } },
    bodyLimit: 1024 * 1024,
    return503OnClosing: true,
  }) as unknown as FastifyInstance;

  app.decorateRequest('tokenName', '');
  app.decorateRequest('tokenScope', '');
  const routes: ApiRoute[] = [];
  app.decorate('apiRoutes', routes);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) {
      if (method !== 'HEAD') routes.push({ method, url: route.url, documented: !(route.schema as { hide?: boolean } | undefined)?.hide });
    }
  });
  installErrorHandlers(app);
  const metrics = new HttpMetrics(deps);
  metrics.install(app);
  app.addHook('onRequest', authHook(new TokenVerifier(deps.config.adminApi.tokens), deps.config.adminApi.publicEndpoints));

  await app.register(swagger, {
    // DELETE bodies are optional (see optional-body.ts); @fastify/swagger marks every body required.
    transformObject: (doc) => {
      const spec = ('openapiObject' in doc ? doc.openapiObject : doc.swaggerObject) as { paths?: Record<string, Record<string, { requestBody?: { required?: boolean } }>> };
      for (const ops of Object.values(spec.paths ?? {})) if (ops.delete?.requestBody) ops.delete.requestBody.required = false;
      return spec as never;
    },
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'parley admin API',
        version: API_VERSION,
        description:
          'Manage a parley XMPP cluster: users, sessions, rooms, occupants, affiliations, hats, messages, jobs. ' +
          'Every error is `{ error, message, details? }`; lists are `{ items, next? }` with `limit` and `cursor`.',
      },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'a token whose SHA-256 is in adminApi.tokens' } } },
      security: [{ bearerAuth: [] }],
      tags: [
        { name: 'users' }, { name: 'sessions' }, { name: 'rooms' }, { name: 'occupants' }, { name: 'affiliations' }, { name: 'hats' },
        { name: 'messages' }, { name: 'jobs' }, { name: 'cluster' }, { name: 'health' },
      ],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { persistAuthorization: true } });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  for (const routes of ROUTES) await app.register(routes, { deps, metrics });
  return app;
}
