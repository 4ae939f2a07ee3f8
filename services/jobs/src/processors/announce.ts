// A server announcement: one `headline` message (RFC 6121 §5.2.2: not stored offline, not
// answered) from the server's domain to every online session. Sessions already served by
// an earlier attempt of the same job are remembered in a set, so a retry skips them.
import { Element } from 'ltx';
import { NS } from '@parley/xml';
import { JobsError } from '../errors.js';
import { jobScratchKey, SCRATCH_TTL_MS } from '../job-keys.js';
import type { ProcessedJob, ProcessorContext } from '../processor-context.js';

/** Data of an `announce` job. */
export interface AnnounceData {
  body: string;
  subject?: string;
}

/** Result of an `announce` job (over all its attempts). */
export interface AnnounceResult {
  /** Sessions handed the announcement. */
  delivered: number;
}

/** Sessions read per page. */
const PAGE = 200;

/** The announcement stanza, `from` the first configured host; each session gets its own `to`. */
export function announcement(from: string, id: string, body: string, subject?: string): Element {
  const msg = new Element('message', { xmlns: NS.CLIENT, type: 'headline', from, id });
  if (subject !== undefined && subject !== '') msg.c('subject').t(subject).up();
  msg.c('body').t(body).up();
  return msg;
}

/**
 * Runs one attempt of an `announce` job: every page of `sessions.list`, each session not in
 * the job's delivered set handed the message. A session is added to the set before its
 * delivery and taken out again if the delivery fails or the session is gone, so a retry
 * reaches exactly the sessions not yet served. Progress follows the sessions seen against
 * the number online at the start.
 * @throws whatever Redis throws while delivering (the job retries)
 */
export async function announce(job: ProcessedJob<AnnounceData>, ctx: ProcessorContext): Promise<AnnounceResult> {
  const { body, subject } = job.data;
  if (typeof body !== 'string' || body === '') throw new JobsError('BAD_JOB_DATA', 'announce needs { body }');
  const host = ctx.config.hosts[0]!;
  const stanza = announcement(host, `announce-${job.id}`, body, typeof subject === 'string' ? subject : undefined);
  const delivered = jobScratchKey(ctx.keys, job.instance, 'delivered');
  const total = Math.max(1, await onlineCount(ctx));

  let seen = 0;
  let after: string | undefined;
  do {
    const page = await ctx.sessions.list(after === undefined ? { limit: PAGE } : { after, limit: PAGE });
    for (const session of page.sessions) {
      const [[, added] = [null, 0]] = (await ctx.redis.multi().sadd(delivered, session.sessionId).pexpire(delivered, SCRATCH_TTL_MS).exec()) ?? [];
      if (Number(added) === 0) continue; // served by an earlier attempt
      let ok = false;
      try {
        ok = await ctx.sessions.deliver(session, stanza);
      } finally {
        if (!ok) await ctx.redis.srem(delivered, session.sessionId);
      }
    }
    seen += page.sessions.length;
    after = page.next;
    await job.updateProgress(Math.min(99, Math.floor((100 * seen) / total)));
  } while (after !== undefined);

  const count = await ctx.redis.scard(delivered);
  await job.updateProgress(100);
  ctx.log.info({ delivered: count }, 'announcement delivered');
  return { delivered: count };
}

/** Sessions online now (the size of every gateway's session set), for progress. */
async function onlineCount(ctx: ProcessorContext): Promise<number> {
  const gateways = await ctx.redis.zrange(ctx.keys.gateways(), '0', '-1');
  if (gateways.length === 0) return 0;
  const p = ctx.redis.pipeline();
  for (const gw of gateways) p.scard(ctx.keys.gatewaySessions(gw));
  return ((await p.exec()) ?? []).reduce((n, [err, v]) => n + (err ? 0 : Number(v)), 0);
}
