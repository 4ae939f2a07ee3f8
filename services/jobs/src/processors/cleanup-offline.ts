// Offline message retention (RFC 6121 §8.5.2.1.1 leaves storage policy to the server):
// every account's offline list loses the messages stored longer ago than
// `jobs.offlineRetentionMs`. Runs every `jobs.cleanupEveryMs` and on demand.
import { jobScratchKey, SCRATCH_TTL_MS } from '../job-keys.js';
import { trimOffline } from '../offline-trim.js';
import type { ProcessedJob, ProcessorContext } from '../processor-context.js';

/** Result of a `cleanup-offline` job (over all its attempts). */
export interface CleanupOfflineResult {
  /** Messages removed. */
  removed: number;
}

/**
 * Runs one attempt of a `cleanup-offline` job over every account of the index (SSCAN),
 * progress in proportion to the accounts done. Repeating it removes nothing more.
 */
export async function cleanupOffline(job: ProcessedJob<Record<string, never>>, ctx: ProcessorContext): Promise<CleanupOfflineResult> {
  const cutoff = ctx.now() - ctx.config.jobs.offlineRetentionMs;
  const removedKey = jobScratchKey(ctx.keys, job.instance, 'removed');
  const total = Math.max(1, await ctx.redis.scard(ctx.keys.accountIndex()));
  let done = 0;
  let cursor = '0';
  do {
    const [next, members] = await ctx.redis.sscan(ctx.keys.accountIndex(), cursor, 'COUNT', 200);
    cursor = next;
    for (const bare of members) {
      const n = await trimOffline(ctx.redis, ctx.keys.offline(bare), cutoff);
      if (n > 0) await ctx.redis.multi().incrby(removedKey, n).pexpire(removedKey, SCRATCH_TTL_MS).exec();
    }
    done += members.length;
    await job.updateProgress(Math.min(99, Math.floor((100 * done) / total)));
  } while (cursor !== '0');
  const removed = Number((await ctx.redis.get(removedKey)) ?? 0);
  await job.updateProgress(100);
  if (removed > 0) ctx.log.info({ removed, cutoff: new Date(cutoff).toISOString() }, 'old offline messages removed');
  return { removed };
}
