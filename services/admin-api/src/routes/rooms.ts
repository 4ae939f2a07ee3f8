// Rooms (XEP-0045): list from the room directory, and create / get / configure / destroy /
// message through the room's actor (commands over its shard stream, serialised with the
// room's stanzas).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { readRoomDirectory } from '@parley/control';
import type { RoomConfig, RoomSnapshot, RoomSummary } from '@parley/muc';
import { ApiError } from '../errors.js';
import { parseJidInput } from '../jid-input.js';
import { optionalBody, optionalBodyOf } from '../optional-body.js';
import { pageQueryProperties, paginate } from '../pagination.js';
import { getRoom, runRoomCommand } from '../room-commands.js';
import { errorResponses, jidParams, jidString, noContent, pageOf, roomConfigInput, roomSchema } from '../schemas.js';
import type { RouteOptions } from './route-options.js';

const summarySchema = {
  type: 'object',
  required: ['jid', 'name', 'public', 'persistent', 'membersOnly', 'occupants'],
  properties: {
    jid: { type: 'string' },
    name: { type: 'string', description: 'configured name, else the localpart' },
    public: { type: 'boolean' },
    persistent: { type: 'boolean' },
    membersOnly: { type: 'boolean' },
    occupants: { type: 'integer' },
  },
} as const;

/** `?secrets=true`: include the room password (admin tokens only). */
const secretsQuery = {
  type: 'object',
  properties: { secrets: { type: 'boolean', default: false, description: 'include secrets (`config.password`); needs a token of scope admin, else 403 `forbidden`' } },
  additionalProperties: false,
} as const;

/**
 * A snapshot as the caller may see it: without `config.password` (the room secret,
 * muc#roomconfig_roomsecret) unless the request asked with `?secrets=true`, which only an
 * `admin` token may (403 `forbidden` otherwise). `passwordProtected` always shows whether
 * there is one.
 * @throws ApiError `forbidden`
 */
function visible(room: RoomSnapshot, request: FastifyRequest<{ Querystring: { secrets?: boolean } }>): RoomSnapshot {
  if (request.query.secrets === true) {
    if (request.tokenScope !== 'admin') throw new ApiError('forbidden', `token "${request.tokenName}" has scope read: secrets=true needs scope admin`);
    return room;
  }
  const { password: _secret, ...config } = room.config;
  return { ...room, config: config as RoomConfig };
}

const destroyQuery = {
  type: 'object',
  properties: { reason: { type: 'string', maxLength: 1024 }, alternate: { ...jidString, description: 'JID of an alternate venue' } },
  additionalProperties: false,
} as const;

/** `/v1/rooms` routes (occupants and affiliations have their own files). */
export async function roomRoutes(app: FastifyInstance, { deps }: RouteOptions): Promise<void> {
  const { rooms, redis, keys, config } = deps;
  const timeoutMs = config.adminApi.commandTimeoutMs;
  const roomJid = (value: string, field = 'jid') => parseJidInput(value, field, 'room', config.mucDomain).toString();

  app.get<{ Querystring: { q?: string; public?: boolean; membersOnly?: boolean; limit: number; cursor?: string } }>(
    '/v1/rooms',
    {
      schema: {
        tags: ['rooms'],
        summary: 'List rooms',
        description: 'Every room the room workers hold (from the room directory, updated after each turn), sorted by JID.',
        querystring: {
          type: 'object',
          properties: {
            q: { type: 'string', minLength: 1, maxLength: 1024, description: 'substring of the JID or name (case-insensitive)' },
            public: { type: 'boolean' },
            membersOnly: { type: 'boolean' },
            ...pageQueryProperties,
          },
          additionalProperties: false,
        },
        response: { 200: pageOf(summarySchema), ...errorResponses },
      },
    },
    async (request) => {
      const { q, limit, cursor } = request.query;
      const needle = q?.toLowerCase();
      const all: RoomSummary[] = [];
      for (const s of await readRoomDirectory(redis, keys)) {
        if (needle !== undefined && !s.jid.toLowerCase().includes(needle) && !s.name.toLowerCase().includes(needle)) continue;
        if (request.query.public !== undefined && s.public !== request.query.public) continue;
        if (request.query.membersOnly !== undefined && s.membersOnly !== request.query.membersOnly) continue;
        all.push(s);
      }
      return paginate(all, (s) => s.jid, { limit, cursor });
    },
  );

  app.post<{ Querystring: { secrets?: boolean }; Body: { jid?: string; name?: string; config?: Partial<RoomConfig>; owners?: string[] } }>(
    '/v1/rooms',
    {
      schema: {
        tags: ['rooms'],
        summary: 'Create a room',
        description:
          'Creates a room already configured and unlocked (XEP-0045 §10.1.3), persistent unless `config.persistent` is false. ' +
          'Give `jid` (on the MUC service) or `name` (its localpart). 409 `conflict` when it exists. ' +
          'The configuration goes under `config`, the same shape as `PATCH /v1/rooms/{jid}` takes. ' +
          'The answer leaves out `config.password` unless `?secrets=true` (admin scope).',
        querystring: secretsQuery,
        body: {
          type: 'object',
          properties: {
            jid: { ...jidString, description: 'room JID on the MUC service' },
            name: { type: 'string', minLength: 1, maxLength: 1023, description: 'the room localpart: the room is name@<mucDomain>' },
            config: roomConfigInput,
            owners: { type: 'array', items: jidString, maxItems: 1000, description: 'bare JIDs made owners' },
          },
          additionalProperties: false,
        },
        response: { 201: roomSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { jid, name, config: roomConfig, owners } = request.body;
      if ((jid === undefined) === (name === undefined)) {
        throw new ApiError('validation', 'body: give exactly one of jid and name', [{ in: 'body', path: '', message: 'give exactly one of jid and name' }]);
      }
      const room = jid !== undefined ? roomJid(jid) : roomJid(`${name}@${config.mucDomain}`, 'name');
      const ownerJids = owners?.map((o, i) => parseJidInput(o, `owners[${i}]`, 'user').toString());
      const created = await runRoomCommand(
        rooms,
        room,
        { op: 'create', ...(roomConfig ? { config: roomConfig } : {}), ...(ownerJids ? { owners: ownerJids } : {}) },
        { timeoutMs },
      );
      const snapshot = created ?? (await getRoom(rooms, room, timeoutMs));
      request.log.info({ room }, 'room created');
      return reply.status(201).header('location', `/v1/rooms/${encodeURIComponent(room)}`).send(visible(snapshot, request));
    },
  );

  app.get<{ Params: { jid: string }; Querystring: { secrets?: boolean } }>(
    '/v1/rooms/:jid',
    {
      schema: {
        tags: ['rooms'],
        summary: 'Get a room',
        description:
          'Configuration, subject, occupants and affiliations, as the room actor holds them. The room password ' +
          '(`config.password`) is left out unless asked for with `?secrets=true`, which needs a token of scope admin (else 403 `forbidden`).',
        params: jidParams,
        querystring: secretsQuery,
        response: { 200: roomSchema, ...errorResponses },
      },
    },
    async (request) => visible(await getRoom(rooms, roomJid(request.params.jid), timeoutMs), request),
  );

  app.patch<{ Params: { jid: string }; Querystring: { secrets?: boolean }; Body: { config: Partial<RoomConfig> } }>(
    '/v1/rooms/:jid',
    {
      schema: {
        tags: ['rooms'],
        summary: "Change a room's configuration",
        description:
          'Like an owner submitting the configuration form (XEP-0045 §10.2): occupants get status 104 (and 172/173); becoming members-only removes non-members (322). ' +
          'The body is `{ config: {...} }`, the same shape as `config` of `POST /v1/rooms` (the flat form of API 1.0 is refused with 400 `validation`). ' +
          'The answer leaves out `config.password` unless `?secrets=true` (admin scope).',
        params: jidParams,
        querystring: secretsQuery,
        body: { type: 'object', required: ['config'], properties: { config: roomConfigInput }, additionalProperties: false },
        response: { 200: roomSchema, ...errorResponses },
      },
    },
    async (request) => {
      const room = roomJid(request.params.jid);
      const snapshot = await runRoomCommand(rooms, room, { op: 'configure', config: request.body.config }, { timeoutMs });
      return visible(snapshot ?? (await getRoom(rooms, room, timeoutMs)), request);
    },
  );

  app.delete<{ Params: { jid: string }; Querystring: { reason?: string; alternate?: string }; Body: { reason?: string; alternate?: string } }>(
    '/v1/rooms/:jid',
    {
      preValidation: optionalBody,
      schema: {
        tags: ['rooms'],
        summary: 'Destroy a room',
        description: 'XEP-0045 §10.9: occupants get unavailable presence with `<destroy>` (reason, alternate venue).',
        params: jidParams,
        querystring: destroyQuery,
        body: optionalBodyOf(destroyQuery),
        response: { 204: noContent, ...errorResponses },
      },
    },
    async (request, reply) => {
      const room = roomJid(request.params.jid);
      const { reason, alternate } = { ...request.query, ...request.body };
      const alt = alternate === undefined ? undefined : parseJidInput(alternate, 'alternate', 'bare').toString();
      await runRoomCommand(rooms, room, { op: 'destroy', ...(reason !== undefined ? { reason } : {}), ...(alt !== undefined ? { alternate: alt } : {}) }, { timeoutMs });
      request.log.info({ room }, 'room destroyed');
      return reply.status(204).send();
    },
  );

  app.post<{ Params: { jid: string }; Body: { body: string; nick?: string } }>(
    '/v1/rooms/:jid/messages',
    {
      schema: {
        tags: ['messages'],
        summary: 'Send a message from the room',
        description: 'From the room itself (no nick): to every occupant as groupchat, or to the occupant `nick` only as a normal message.',
        params: jidParams,
        body: {
          type: 'object',
          required: ['body'],
          properties: { body: { type: 'string', minLength: 1, maxLength: 65536 }, nick: { type: 'string', minLength: 1, maxLength: 1023 } },
          additionalProperties: false,
        },
        response: { 204: noContent, ...errorResponses },
      },
    },
    async (request, reply) => {
      const room = roomJid(request.params.jid);
      const { body, nick } = request.body;
      await runRoomCommand(rooms, room, { op: 'send-message', body, ...(nick !== undefined ? { nick } : {}) }, { timeoutMs, notFound: nick === undefined ? 'room-not-found' : 'item-not-found' });
      return reply.status(204).send();
    },
  );
}
