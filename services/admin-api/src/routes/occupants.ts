// Occupants of a room: list, kick (role none, status 307 to the room, XEP-0045 §8.2), change
// role (voice / moderator, §8.3–8.6 and §9.6–9.7), all through the room's actor.
import type { FastifyInstance } from 'fastify';
import type { Role } from '@parley/muc';
import { parseJidInput } from '../jid-input.js';
import { optionalBody, optionalBodyOf } from '../optional-body.js';
import { pageQueryProperties, paginate } from '../pagination.js';
import { getRoom, runRoomCommand } from '../room-commands.js';
import { errorResponses, jidString, noContent, occupantSchema, pageOf } from '../schemas.js';
import type { RouteOptions } from './route-options.js';

const nickParams = {
  type: 'object',
  required: ['jid', 'nick'],
  properties: { jid: jidString, nick: { type: 'string', minLength: 1, maxLength: 1023, description: 'occupant nick (percent-encoded)' } },
  additionalProperties: false,
} as const;

const reasonQuery = { type: 'object', properties: { reason: { type: 'string', maxLength: 1024 } }, additionalProperties: false } as const;

/** `/v1/rooms/{jid}/occupants` routes. */
export async function occupantRoutes(app: FastifyInstance, { deps }: RouteOptions): Promise<void> {
  const { rooms, config } = deps;
  const timeoutMs = config.adminApi.commandTimeoutMs;
  const roomJid = (value: string) => parseJidInput(value, 'jid', 'room', config.mucDomain).toString();

  app.get<{ Params: { jid: string }; Querystring: { role?: Role; limit: number; cursor?: string } }>(
    '/v1/rooms/:jid/occupants',
    {
      schema: {
        tags: ['occupants'],
        summary: 'List the occupants of a room',
        params: { type: 'object', required: ['jid'], properties: { jid: jidString }, additionalProperties: false },
        querystring: {
          type: 'object',
          properties: { role: { type: 'string', enum: ['moderator', 'participant', 'visitor'] }, ...pageQueryProperties },
          additionalProperties: false,
        },
        response: { 200: pageOf(occupantSchema), ...errorResponses },
      },
    },
    async (request) => {
      const room = await getRoom(rooms, roomJid(request.params.jid), timeoutMs);
      const { role, limit, cursor } = request.query;
      return paginate(role === undefined ? room.occupants : room.occupants.filter((o) => o.role === role), (o) => o.nick, { limit, cursor });
    },
  );

  app.delete<{ Params: { jid: string; nick: string }; Querystring: { reason?: string }; Body: { reason?: string } }>(
    '/v1/rooms/:jid/occupants/:nick',
    {
      preValidation: optionalBody,
      schema: {
        tags: ['occupants'],
        summary: 'Kick an occupant',
        description: 'Role none: the occupant gets unavailable presence with status 307 and the others see it leave (XEP-0045 §8.2).',
        params: nickParams,
        querystring: reasonQuery,
        body: optionalBodyOf(reasonQuery),
        response: { 204: noContent, ...errorResponses },
      },
    },
    async (request, reply) => {
      const room = roomJid(request.params.jid);
      const { reason } = { ...request.query, ...request.body };
      await runRoomCommand(rooms, room, { op: 'kick', nick: request.params.nick, ...(reason !== undefined ? { reason } : {}) }, { timeoutMs, notFound: 'item-not-found' });
      request.log.info({ room, nick: request.params.nick }, 'occupant kicked');
      return reply.status(204).send();
    },
  );

  app.put<{ Params: { jid: string; nick: string }; Body: { role: Exclude<Role, 'none'>; reason?: string } }>(
    '/v1/rooms/:jid/occupants/:nick/role',
    {
      schema: {
        tags: ['occupants'],
        summary: "Change an occupant's role",
        description: 'Grant or revoke voice (participant / visitor) or moderator (XEP-0045 §8.3–8.6, §9.6–9.7). To remove an occupant, DELETE it (kick).',
        params: nickParams,
        body: {
          type: 'object',
          required: ['role'],
          properties: { role: { type: 'string', enum: ['moderator', 'participant', 'visitor'] }, reason: { type: 'string', maxLength: 1024 } },
          additionalProperties: false,
        },
        response: { 204: noContent, ...errorResponses },
      },
    },
    async (request, reply) => {
      const room = roomJid(request.params.jid);
      const { role, reason } = request.body;
      await runRoomCommand(rooms, room, { op: 'set-role', nick: request.params.nick, role, ...(reason !== undefined ? { reason } : {}) }, { timeoutMs, notFound: 'item-not-found' });
      return reply.status(204).send();
    },
  );
}
