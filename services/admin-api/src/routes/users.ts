// Users (accounts): create with a password, list/search, get, change password, delete (a
// job: sessions kicked, affiliations removed through the rooms' actors, data deleted, name
// tombstoned — see @parley/jobs).
import type { FastifyInstance } from 'fastify';
import { ApiError } from '../errors.js';
import { parseJidInput } from '../jid-input.js';
import { pageQueryProperties, paginate } from '../pagination.js';
import { errorResponses, jidParams, jidString, jobSchema, noContent, pageOf } from '../schemas.js';
import type { RouteOptions } from './route-options.js';

const userSchema = {
  type: 'object',
  required: ['jid', 'sessions'],
  properties: {
    jid: { type: 'string' },
    created: { type: 'integer', description: 'ms since epoch' },
    sessions: { type: 'integer', description: 'online sessions' },
  },
} as const;

const password = { type: 'string', minLength: 1, maxLength: 1024 } as const;

interface UserView {
  jid: string;
  created?: number;
  sessions: number;
}

/** `/v1/users` routes. */
export async function userRoutes(app: FastifyInstance, { deps }: RouteOptions): Promise<void> {
  const { accounts, redis, keys, config, jobs } = deps;
  const clock = deps.clock ?? Date.now;

  /** Users are bare JIDs with a localpart on a served host. */
  const userJid = (value: string, field: string): string => {
    const jid = parseJidInput(value, field, 'user');
    if (!config.hosts.includes(jid.domain)) {
      throw new ApiError('invalid-jid', `${field}: ${jid.domain} is not a host of this server`, { field, value, reason: 'not a served host', hosts: config.hosts });
    }
    return jid.toString();
  };

  async function views(jids: string[]): Promise<UserView[]> {
    if (!jids.length) return [];
    const p = redis.pipeline();
    for (const jid of jids) p.hget(keys.account(jid), 'created').hlen(keys.userSessions(jid));
    const r = (await p.exec()) ?? [];
    return jids.map((jid, i) => {
      const created = r[2 * i]?.[1];
      const view: UserView = { jid, sessions: Number(r[2 * i + 1]?.[1] ?? 0) };
      if (typeof created === 'string' && created !== '') view.created = Number(created);
      return view;
    });
  }

  async function mustExist(jid: string): Promise<void> {
    if (await accounts.exists(jid)) return;
    const deletedAt = await accounts.deletedAt(jid);
    throw new ApiError('user-not-found', `no user ${jid}`, deletedAt === undefined ? undefined : { deletedAt });
  }

  app.post<{ Body: { jid: string; password: string; ignoreTombstone?: boolean } }>(
    '/v1/users',
    {
      schema: {
        tags: ['users'],
        summary: 'Create a user',
        description:
          'Creates an account with a password (stored as SCRAM credentials). 409 `user-exists` when it exists; ' +
          '409 `tombstoned` (with `details.deletedAt`) when an account of that name was deleted recently, unless ' +
          '`ignoreTombstone` is true (the tombstone is then cleared).',
        body: {
          type: 'object',
          required: ['jid', 'password'],
          properties: { jid: { ...jidString, description: 'bare JID on a served host' }, password, ignoreTombstone: { type: 'boolean', default: false } },
          additionalProperties: false,
        },
        response: { 201: userSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const jid = userJid(request.body.jid, 'jid');
      if (await accounts.exists(jid)) throw new ApiError('user-exists', `user ${jid} exists already`);
      const deletedAt = await accounts.deletedAt(jid);
      if (deletedAt !== undefined) {
        if (!request.body.ignoreTombstone) {
          throw new ApiError('tombstoned', `an account ${jid} was deleted at ${new Date(deletedAt).toISOString()}; pass ignoreTombstone to create it anyway`, { deletedAt });
        }
        await accounts.clearTombstone(jid);
        request.log.info({ jid, deletedAt }, 'tombstone cleared on request');
      }
      if (!(await accounts.create(jid, request.body.password, clock()))) throw new ApiError('user-exists', `user ${jid} exists already`);
      const [view] = await views([jid]);
      return reply.status(201).header('location', `/v1/users/${encodeURIComponent(jid)}`).send(view);
    },
  );

  app.get<{ Querystring: { q?: string; limit: number; cursor?: string } }>(
    '/v1/users',
    {
      schema: {
        tags: ['users'],
        summary: 'List or search users',
        querystring: {
          type: 'object',
          properties: { q: { type: 'string', minLength: 1, maxLength: 3071, description: 'substring of the JID (case-insensitive)' }, ...pageQueryProperties },
          additionalProperties: false,
        },
        response: { 200: pageOf(userSchema), ...errorResponses },
      },
    },
    async (request) => {
      const needle = request.query.q?.toLowerCase();
      const all = (await accounts.list()).filter((j) => needle === undefined || j.includes(needle));
      const page = paginate(all, (j) => j, request.query);
      return { ...page, items: await views(page.items) };
    },
  );

  app.get<{ Params: { jid: string } }>(
    '/v1/users/:jid',
    {
      schema: {
        tags: ['users'],
        summary: 'Get a user',
        params: jidParams,
        response: { 200: userSchema, ...errorResponses },
      },
    },
    async (request) => {
      const jid = userJid(request.params.jid, 'jid');
      await mustExist(jid);
      const [view] = await views([jid]);
      return view;
    },
  );

  app.put<{ Params: { jid: string }; Body: { password: string } }>(
    '/v1/users/:jid/password',
    {
      schema: {
        tags: ['users'],
        summary: "Change a user's password",
        description: 'Replaces the stored credentials; sessions stay connected (kick them if needed).',
        params: jidParams,
        body: { type: 'object', required: ['password'], properties: { password }, additionalProperties: false },
        response: { 204: noContent, ...errorResponses },
      },
    },
    async (request, reply) => {
      const jid = userJid(request.params.jid, 'jid');
      if (!(await accounts.setPassword(jid, request.body.password))) await mustExist(jid);
      return reply.status(204).send();
    },
  );

  app.delete<{ Params: { jid: string } }>(
    '/v1/users/:jid',
    {
      schema: {
        tags: ['users'],
        summary: 'Delete a user (a job)',
        description:
          'Starts a `delete-user` job: kicks the sessions, removes the affiliations from every room (through the rooms, ' +
          'with XEP-0045 notifications), deletes the data and tombstones the name. 202 with the job; follow `Location`.',
        params: jidParams,
        response: { 202: jobSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const jid = userJid(request.params.jid, 'jid');
      await mustExist(jid);
      const job = await jobs.deleteUser(jid);
      return reply.status(202).header('location', `/v1/jobs/${encodeURIComponent(job.id)}`).send(job);
    },
  );
}
