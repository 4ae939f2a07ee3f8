// XEP-0317 hats of a room's users: list, set (replace) one user's hats, take them off. The
// room's actor checks and applies them (packages/muc features/hats.ts: affiliated users
// only, bounded by `muc.maxHatsPerUser`, titles ≤ 256 bytes, URIs ≤ 1024 bytes) and sends
// the presence of the user's occupants again with the hats they now wear.
import type { FastifyInstance } from 'fastify';
import type { Hat } from '@parley/muc';
import { parseJidInput } from '../jid-input.js';
import { optionalBody, optionalBodyOf } from '../optional-body.js';
import { pageQueryProperties, paginate } from '../pagination.js';
import { getRoom, runRoomCommand } from '../room-commands.js';
import { errorResponses, hatSchema, hatsItemSchema, jidString, noContent, pageOf } from '../schemas.js';
import type { RouteOptions } from './route-options.js';

const userParams = {
  type: 'object',
  required: ['jid', 'userJid'],
  properties: { jid: jidString, userJid: { ...jidString, description: 'bare JID of an affiliated user' } },
  additionalProperties: false,
} as const;

const uriQuery = {
  type: 'object',
  properties: { uri: { type: 'string', minLength: 1, maxLength: 1024, description: 'take off only this hat' } },
  additionalProperties: false,
} as const;

/** `/v1/rooms/{jid}/hats` routes. */
export async function hatRoutes(app: FastifyInstance, { deps }: RouteOptions): Promise<void> {
  const { rooms, config } = deps;
  const timeoutMs = config.adminApi.commandTimeoutMs;
  const roomJid = (value: string) => parseJidInput(value, 'jid', 'room', config.mucDomain).toString();
  const userJid = (value: string) => parseJidInput(value, 'userJid', 'bare').toString();

  app.get<{ Params: { jid: string }; Querystring: { limit: number; cursor?: string } }>(
    '/v1/rooms/:jid/hats',
    {
      schema: {
        tags: ['hats'],
        summary: 'List who wears which hats (XEP-0317)',
        params: { type: 'object', required: ['jid'], properties: { jid: jidString }, additionalProperties: false },
        querystring: { type: 'object', properties: pageQueryProperties, additionalProperties: false },
        response: { 200: pageOf(hatsItemSchema), ...errorResponses },
      },
    },
    async (request) => {
      const room = await getRoom(rooms, roomJid(request.params.jid), timeoutMs);
      const { limit, cursor } = request.query;
      return paginate(room.hats ?? [], (h) => h.jid, { limit, cursor });
    },
  );

  app.put<{ Params: { jid: string; userJid: string }; Body: { hats: Hat[] } }>(
    '/v1/rooms/:jid/hats/:userJid',
    {
      schema: {
        tags: ['hats'],
        summary: "Set a user's hats (XEP-0317)",
        description:
          'Replaces the hats the user wears, in this order (an empty list takes them all off). The user needs a member, admin or owner ' +
          'affiliation (else 409 `not-allowed`); more than `muc.maxHatsPerUser` hats, a URI that is not absolute or used twice, or a ' +
          'title over 256 bytes are refused (400 `bad-request`). Occupants of the user get their presence sent again with the hats.',
        params: userParams,
        body: {
          type: 'object',
          required: ['hats'],
          properties: { hats: { type: 'array', maxItems: 256, items: hatSchema } },
          additionalProperties: false,
        },
        response: { 204: noContent, ...errorResponses },
      },
    },
    async (request, reply) => {
      const room = roomJid(request.params.jid);
      const jid = userJid(request.params.userJid);
      await runRoomCommand(rooms, room, { op: 'set-hats', jid, hats: request.body.hats }, { timeoutMs });
      request.log.info({ room, jid, hats: request.body.hats.length }, 'hats set');
      return reply.status(204).send();
    },
  );

  app.delete<{ Params: { jid: string; userJid: string }; Querystring: { uri?: string }; Body: { uri?: string } }>(
    '/v1/rooms/:jid/hats/:userJid',
    {
      preValidation: optionalBody,
      schema: {
        tags: ['hats'],
        summary: "Take off a user's hats (XEP-0317)",
        description: 'All of them, or only the hat `uri`. 404 `item-not-found` when the user does not wear it (or wears none).',
        params: userParams,
        querystring: uriQuery,
        body: optionalBodyOf(uriQuery),
        response: { 204: noContent, ...errorResponses },
      },
    },
    async (request, reply) => {
      const room = roomJid(request.params.jid);
      const jid = userJid(request.params.userJid);
      const { uri } = { ...request.query, ...request.body };
      await runRoomCommand(rooms, room, { op: 'remove-hats', jid, ...(uri !== undefined ? { uri } : {}) }, { timeoutMs, notFound: 'item-not-found' });
      request.log.info({ room, jid }, 'hats taken off');
      return reply.status(204).send();
    },
  );
}
