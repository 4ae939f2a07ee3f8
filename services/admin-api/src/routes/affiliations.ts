// Affiliations of a room (XEP-0045 §9, §10): list by type, set one, set many at once. A
// change goes to the room's actor, which validates all items first and applies all or
// none, with the presence and message notifications §9 requires.
import type { FastifyInstance } from 'fastify';
import type { Affiliation } from '@parley/muc';
import { parseJidInput } from '../jid-input.js';
import { pageQueryProperties, paginate } from '../pagination.js';
import { getRoom, runRoomCommand } from '../room-commands.js';
import { affiliationItemSchema, affiliationSchema, errorResponses, jidParams, jidString, noContent, pageOf } from '../schemas.js';
import type { RouteOptions } from './route-options.js';

interface ItemInput {
  jid: string;
  affiliation: Affiliation;
  reason?: string;
  nick?: string;
}

const itemProperties = {
  affiliation: { ...affiliationSchema, description: '`none` removes the affiliation' },
  reason: { type: 'string', maxLength: 1024 },
  nick: { type: 'string', minLength: 1, maxLength: 1023, description: 'reserved nick (XEP-0045 §7.10)' },
} as const;

/** `/v1/rooms/{jid}/affiliations` routes. */
export async function affiliationRoutes(app: FastifyInstance, { deps }: RouteOptions): Promise<void> {
  const { rooms, config } = deps;
  const timeoutMs = config.adminApi.commandTimeoutMs;
  const roomJid = (value: string) => parseJidInput(value, 'jid', 'room', config.mucDomain).toString();
  const item = (i: ItemInput, field: string) => ({
    jid: parseJidInput(i.jid, field, 'bare').toString(),
    affiliation: i.affiliation,
    ...(i.reason !== undefined ? { reason: i.reason } : {}),
    ...(i.nick !== undefined ? { nick: i.nick } : {}),
  });

  app.get<{ Params: { jid: string }; Querystring: { affiliation?: Exclude<Affiliation, 'none'>; limit: number; cursor?: string } }>(
    '/v1/rooms/:jid/affiliations',
    {
      schema: {
        tags: ['affiliations'],
        summary: 'List the affiliations of a room',
        params: jidParams,
        querystring: {
          type: 'object',
          properties: { affiliation: { type: 'string', enum: ['owner', 'admin', 'member', 'outcast'] }, ...pageQueryProperties },
          additionalProperties: false,
        },
        response: { 200: pageOf(affiliationItemSchema), ...errorResponses },
      },
    },
    async (request) => {
      const room = await getRoom(rooms, roomJid(request.params.jid), timeoutMs);
      const { affiliation, limit, cursor } = request.query;
      const items = affiliation === undefined ? room.affiliations : room.affiliations.filter((a) => a.affiliation === affiliation);
      return paginate(items, (a) => a.jid, { limit, cursor });
    },
  );

  app.put<{ Params: { jid: string; userJid: string }; Body: Omit<ItemInput, 'jid'> }>(
    '/v1/rooms/:jid/affiliations/:userJid',
    {
      schema: {
        tags: ['affiliations'],
        summary: "Set one JID's affiliation",
        params: { type: 'object', required: ['jid', 'userJid'], properties: { jid: jidString, userJid: jidString }, additionalProperties: false },
        body: { type: 'object', required: ['affiliation'], properties: itemProperties, additionalProperties: false },
        response: { 204: noContent, ...errorResponses },
      },
    },
    async (request, reply) => {
      const room = roomJid(request.params.jid);
      const one = item({ ...request.body, jid: request.params.userJid }, 'userJid');
      await runRoomCommand(rooms, room, { op: 'set-affiliations', items: [one] }, { timeoutMs });
      request.log.info({ room, jid: one.jid, affiliation: one.affiliation }, 'affiliation set');
      return reply.status(204).send();
    },
  );

  app.post<{ Params: { jid: string }; Body: { items: ItemInput[] } }>(
    '/v1/rooms/:jid/affiliations',
    {
      schema: {
        tags: ['affiliations'],
        summary: 'Set many affiliations at once',
        description: 'All items are validated by the room first and applied together, or none is.',
        params: jidParams,
        body: {
          type: 'object',
          required: ['items'],
          properties: {
            items: {
              type: 'array',
              minItems: 1,
              maxItems: 1000,
              items: { type: 'object', required: ['jid', 'affiliation'], properties: { jid: jidString, ...itemProperties }, additionalProperties: false },
            },
          },
          additionalProperties: false,
        },
        response: { 204: noContent, ...errorResponses },
      },
    },
    async (request, reply) => {
      const room = roomJid(request.params.jid);
      const items = request.body.items.map((i, k) => item(i, `items[${k}].jid`));
      await runRoomCommand(rooms, room, { op: 'set-affiliations', items }, { timeoutMs });
      return reply.status(204).send();
    },
  );
}
