// Messages from the server: to one JID's online sessions (RFC 6121 §8.5 as an operator would
// want it: every online session of a bare JID, or exactly one full JID), stored offline when
// the account has no online session (RFC 6121 §8.5.2.2.1, with the gateways' OfflineStore and
// quotas), archived as the gateways archive a message (XEP-0313, MessageArchiver of
// @parley/accounts), and announcements to every online user (a job).
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { Element } from 'ltx';
import { MamStore, MessageArchiver, OfflineStore } from '@parley/accounts';
import { parseJid } from '@parley/jid';
import { NS } from '@parley/xml';
import { ApiError } from '../errors.js';
import { parseJidInput } from '../jid-input.js';
import { errorResponses, jidString, jobSchema } from '../schemas.js';
import type { RouteOptions } from './route-options.js';

const text = { type: 'string', minLength: 1, maxLength: 65536 } as const;

/** `/v1/messages` and `/v1/announcements`. */
export async function messageRoutes(app: FastifyInstance, { deps }: RouteOptions): Promise<void> {
  const { sessions, jobs, config, accounts } = deps;
  const offline = new OfflineStore(deps.redis, deps.keys, config.offline.maxMessages, {
    maxBytes: config.offline.maxBytes,
    maxMessagesPerSender: config.offline.maxMessagesPerSender,
    maxBytesPerSender: config.offline.maxBytesPerSender,
  });
  const now = deps.clock ?? Date.now;
  // XEP-0313: the same archives and archiving as the gateways' router (services/gateway/src/mam).
  const archiver = new MessageArchiver({
    store: new MamStore(deps.redis, deps.keys, { maxEntries: config.mam.maxMessagesPerAccount, maxAgeMs: config.mam.maxAgeDays * 86_400_000 }),
    hosts: config.hosts,
    log: app.log,
  });

  app.post<{ Body: { to: string; body: string; subject?: string; type: 'normal' | 'chat' | 'headline' } }>(
    '/v1/messages',
    {
      schema: {
        tags: ['messages'],
        summary: 'Send a message from the server to a JID',
        description:
          'From the recipient\'s host (the server itself). A bare JID reaches every online session of the account, a full JID ' +
          'that session only (a full JID whose session is gone is treated as the bare JID, RFC 6121 §8.5.3.2.1). ' +
          'When the account has no online session, a `normal` or `chat` message is stored offline as XMPP stores it ' +
          '(RFC 6121 §8.5.2.2.1, `offline.*` quotas, XEP-0203 delay stamp): 202 `{ stored: "offline", id }`; ' +
          'a `headline` is not stored (404 `recipient-unavailable`), nor anything when `offline.enabled` is false. ' +
          '404 `user-not-found` when there is no such account; 507 `offline-storage-full` when a quota refuses it. ' +
          'A `normal` or `chat` message delivered or stored offline is archived in the account\'s XEP-0313 archive as the ' +
          'gateways archive a message from the server (unless the account\'s archiving preferences refuse it), and carries ' +
          'its archive id as `<stanza-id by=account bare JID/>` (XEP-0313 §3.5), also in the stored offline copy. As with a ' +
          'message a gateway bounces for a full offline store, it stays archived when a quota then refuses it (507).',
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
          202: {
            type: 'object',
            required: ['stored', 'id'],
            properties: { stored: { type: 'string', enum: ['offline'], description: 'kept for the account\'s next available presence' }, id: { type: 'string', description: 'the message id' } },
          },
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const to = parseJidInput(request.body.to, 'to', 'any');
      if (to.local === undefined) throw new ApiError('invalid-jid', 'to: expected a user JID (name@domain[/resource])', { field: 'to', value: request.body.to });
      const from = config.hosts.includes(to.domain) ? to.domain : (config.hosts[0] ?? to.domain);
      const id = randomUUID();
      const stanza = new Element('message', { xmlns: NS.CLIENT, from, to: to.toString(), type: request.body.type, id });
      if (request.body.subject !== undefined) stanza.c('subject').t(request.body.subject);
      stanza.c('body').t(request.body.body);
      const bare = to.bare().toString();
      const type = request.body.type;
      const online = await sessions.ofUser(bare);
      let targets = online.filter((s) => to.resource === undefined || s.resource === to.resource);
      // RFC 6121 §8.5.3.2.1: normal and chat to an unbound resource go as if to the bare JID.
      if (targets.length === 0 && to.resource !== undefined && type !== 'headline') targets = online;
      // XEP-0313, as the gateways' router: the sender's archive (none here: the sender is the
      // server), then the recipient's, whose stanza-id the delivered or stored copy carries
      // (§3.5). Archived once, before the first delivery attempt (and, as the router does,
      // also when the offline quota then refuses it); headlines are not archived.
      let archived: Element | undefined;
      const archive = async (): Promise<Element> => {
        if (archived !== undefined) return archived;
        if (!config.hosts.includes(to.domain)) return (archived = stanza); // only served domains' accounts have archives
        await archiver.outgoing(stanza, parseJid(from), to);
        archived = await archiver.incoming(stanza, to);
        return archived;
      };
      let delivered = 0;
      for (const s of targets) if (await sessions.deliver(s, await archive())) delivered++;
      if (delivered > 0) return { delivered, id };
      // RFC 6121 §8.5.1: no such account (sessions without one exist only with test authentication).
      if (online.length === 0 && !(await accounts.exists(bare))) throw new ApiError('user-not-found', `no account ${bare}`);
      // RFC 6121 §8.5.2.2.1: a headline is not stored; normal and chat are, if storage is on.
      if (type === 'headline' || !config.offline.enabled) {
        throw new ApiError('recipient-unavailable', `${to.toString()} has no online session${type === 'headline' ? ' (headline messages are not stored offline)' : ''}`);
      }
      const outcome = await offline.store(bare, await archive(), from, now());
      if (outcome !== 'stored') throw new ApiError('offline-storage-full', `the offline storage of ${bare} refused the message (${outcome} quota)`, { quota: outcome });
      request.log.info({ to: bare, id }, 'message stored offline');
      return reply.status(202).send({ stored: 'offline' as const, id });
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
