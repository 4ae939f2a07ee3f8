// Online sessions: list (cluster-wide or one user's) and kick. A kick ends the session with
// a stream error (RFC 6120 §4.9.3, `policy-violation` unless another condition is asked
// for) delivered by the gateway that holds it.
import type { FastifyInstance } from 'fastify';
import type { SessionInfo } from '@parley/control';
import { ApiError } from '../errors.js';
import { optionalBody, optionalBodyOf } from '../optional-body.js';
import { parseJidInput } from '../jid-input.js';
import { decodeCursor, encodeCursor, pageQueryProperties, paginate } from '../pagination.js';
import { errorResponses, jidParams, jidString, kickQuery, pageOf, sessionSchema } from '../schemas.js';
import type { RouteOptions } from './route-options.js';

type KickCondition = 'policy-violation' | 'not-authorized' | 'reset' | 'system-shutdown' | 'conflict';

/** `/v1/sessions` and `/v1/users/{jid}/sessions` routes. */
export async function sessionRoutes(app: FastifyInstance, { deps }: RouteOptions): Promise<void> {
  const { sessions, accounts } = deps;

  app.get<{ Querystring: { jid?: string; q?: string; limit: number; cursor?: string } }>(
    '/v1/sessions',
    {
      schema: {
        tags: ['sessions'],
        summary: 'List online sessions',
        description: 'Every online session in the cluster, sorted by full JID. `jid` keeps one account\'s (a bare JID); `q` keeps full JIDs containing the text.',
        querystring: {
          type: 'object',
          properties: {
            jid: { ...jidString, description: 'bare JID: only this account' },
            q: { type: 'string', minLength: 1, maxLength: 3071, description: 'substring of the full JID (case-insensitive)' },
            ...pageQueryProperties,
          },
          additionalProperties: false,
        },
        response: { 200: pageOf(sessionSchema), ...errorResponses },
      },
    },
    async (request) => {
      const { limit, cursor, q } = request.query;
      if (request.query.jid !== undefined) {
        const bare = parseJidInput(request.query.jid, 'jid', 'user').toString();
        const needle = q?.toLowerCase();
        const own = (await sessions.ofUser(bare)).filter((s) => needle === undefined || s.jid.toLowerCase().includes(needle));
        return paginate(own, (s) => s.jid, { limit, cursor });
      }
      const after = decodeCursor(cursor);
      const page = await sessions.list({ limit, ...(after === undefined ? {} : { after }), ...(q === undefined ? {} : { match: q }) });
      return page.next === undefined ? { items: page.sessions } : { items: page.sessions, next: encodeCursor(page.next) };
    },
  );

  app.get<{ Params: { jid: string } }>(
    '/v1/users/:jid/sessions',
    {
      schema: {
        tags: ['sessions'],
        summary: "List a user's sessions",
        description: '404 when there is neither such an account nor any session of that JID.',
        params: jidParams,
        response: { 200: pageOf(sessionSchema), ...errorResponses },
      },
    },
    async (request) => {
      const bare = parseJidInput(request.params.jid, 'jid', 'user').toString();
      const items = await sessions.ofUser(bare);
      if (!items.length && !(await accounts.exists(bare))) throw new ApiError('user-not-found', `no user ${bare}`);
      return { items };
    },
  );

  app.delete<{ Params: { jid: string }; Querystring: { reason?: string; condition: KickCondition }; Body: { reason?: string; condition?: KickCondition } }>(
    '/v1/users/:jid/sessions',
    {
      preValidation: optionalBody,
      schema: {
        tags: ['sessions'],
        summary: "Kick all of a user's sessions",
        description: 'Each session ends with a stream error (default `policy-violation`, RFC 6120 §4.9.3) carrying `reason` as its text.',
        params: jidParams,
        querystring: kickQuery,
        body: optionalBodyOf(kickQuery),
        response: { 200: { type: 'object', required: ['kicked'], properties: { kicked: { type: 'integer', description: 'sessions told to end' } } }, ...errorResponses },
      },
    },
    async (request) => {
      const bare = parseJidInput(request.params.jid, 'jid', 'user').toString();
      const { condition, reason } = { ...request.query, ...request.body };
      const kicked = await sessions.kickUser(bare, condition, reason);
      if (kicked === 0 && !(await accounts.exists(bare))) throw new ApiError('user-not-found', `no user ${bare}`);
      request.log.info({ jid: bare, kicked, condition }, 'sessions kicked');
      return { kicked };
    },
  );

  app.delete<{ Params: { jid: string }; Querystring: { reason?: string; condition: KickCondition }; Body: { reason?: string; condition?: KickCondition } }>(
    '/v1/sessions/:jid',
    {
      preValidation: optionalBody,
      schema: {
        tags: ['sessions'],
        summary: 'Kick one session',
        description: 'The full JID must be percent-encoded (`alice@example.com%2Fphone`). 404 `session-not-found` when it is not online.',
        params: jidParams,
        querystring: kickQuery,
        body: optionalBodyOf(kickQuery),
        response: { 204: { type: 'null' }, ...errorResponses },
      },
    },
    async (request, reply) => {
      const full = parseJidInput(request.params.jid, 'jid', 'full');
      const { condition, reason } = { ...request.query, ...request.body };
      const session: SessionInfo | undefined = (await sessions.ofUser(full.bare().toString())).find((s) => s.resource === full.resource);
      if (!session || !(await sessions.kick(session, condition, reason))) {
        throw new ApiError('session-not-found', `no session ${full.toString()}`);
      }
      request.log.info({ jid: full.toString(), condition }, 'session kicked');
      return reply.status(204).send();
    },
  );
}
