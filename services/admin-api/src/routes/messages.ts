// Messages from the server: to one JID's online sessions (RFC 6121 §8.5 as an operator would
// want it: every online session of a bare JID, or exactly one full JID), and announcements
// to every online user (a job). Nothing is stored offline: a JID with no online session is a
// 404 `recipient-unavailable`, so automation knows the message went nowhere.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { Element } from 'ltx';
import { NS } from '@parley/xml';
import { ApiError } from '../errors.js';
import { parseJidInput } from '../jid-input.js';
import { errorResponses, jidString, jobSchema } from '../schemas.js';
import type { RouteOptions } from './route-options.js';

const text = { type: 'string', minLength: 1, maxLength: 65536 } as const;

/** `/v1/messages` and `/v1/announcements`. */
export async function messageRoutes(app: FastifyInstance, { deps }: RouteOptions): Promise<void> {
  const { sessions, jobs, config } = deps;

  app.post<{ Body: { to: string; body: string; subject?: string; type: 'normal' | 'chat' | 'headline' } }>(
    '/v1/messages',
    {
      schema: {
        tags: ['messages'],
        summary: 'Send a message from the server to a JID',
        description:
          'From the recipient\'s host (the server itself). A bare JID reaches every online session of the account, a full JID ' +
          'that session only. 404 `recipient-unavailable` when nobody is online (nothing is stored offline).',
        body: {
          type: 'object',
          required: ['to', 'body'],
          properties: {
            to: { ...jidString, description: 'bare or full JID' },
            body: text,
            subject: { type: 'string', maxLength: 1024 },
            type: { type: 'string', enum: ['normal', 'chat', 'headline'], default: 'normal' },
          },
          additionalProperties: false,
        },
        response: {
          200: { type: 'object', required: ['delivered', 'id'], properties: { delivered: { type: 'integer', description: 'sessions handed the message' }, id: { type: 'string', description: 'the message id' } } },
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const to = parseJidInput(request.body.to, 'to', 'any');
      if (to.local === undefined) throw new ApiError('invalid-jid', 'to: expected a user JID (name@domain[/resource])', { field: 'to', value: request.body.to });
      const from = config.hosts.includes(to.domain) ? to.domain : (config.hosts[0] ?? to.domain);
      const id = randomUUID();
      const stanza = new Element('message', { xmlns: NS.CLIENT, from, type: request.body.type, id });
      if (request.body.subject !== undefined) stanza.c('subject').t(request.body.subject);
      stanza.c('body').t(request.body.body);
      const targets = (await sessions.ofUser(to.bare().toString())).filter((s) => to.resource === undefined || s.resource === to.resource);
      let delivered = 0;
      for (const s of targets) if (await sessions.deliver(s, stanza)) delivered++;
      if (delivered === 0) throw new ApiError('recipient-unavailable', `${to.toString()} has no online session`);
      return { delivered, id };
    },
  );

  app.post<{ Body: { body: string; subject?: string } }>(
    '/v1/announcements',
    {
      schema: {
        tags: ['messages'],
        summary: 'Announce to every online user (a job)',
        description: 'Starts an `announce` job sending a headline message to every online session; 202 with the job, follow `Location`.',
        body: { type: 'object', required: ['body'], properties: { body: text, subject: { type: 'string', maxLength: 1024 } }, additionalProperties: false },
        response: { 202: jobSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { body, subject } = request.body;
      const job = await jobs.announce(body, subject === undefined ? {} : { subject });
      return reply.status(202).header('location', `/v1/jobs/${encodeURIComponent(job.id)}`).send(job);
    },
  );
}
