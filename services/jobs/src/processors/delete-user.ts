// Deleting an account (issue #4): remember the name, end its sessions, take it out of every
// room, then delete the account and its offline messages. Each step is safe to repeat, so a
// retry after a partial run finishes the work without doing anything twice that matters.
import type { Element } from 'ltx';
import { encodeEnvelope } from '@parley/bus';
import { serialize } from '@parley/xml';
import { jobScratchKey, SCRATCH_TTL_MS } from '../job-keys.js';
import { JobsError } from '../errors.js';
import type { ProcessedJob, ProcessorContext } from '../processor-context.js';
import { roomsOfUser } from '../rooms-of-user.js';

/** Data of a `delete-user` job. */
export interface DeleteUserData {
  /** The account's bare JID, normalised. */
  jid: string;
}

/** Result of a `delete-user` job (over all its attempts). */
export interface DeleteUserResult {
  /** Rooms the account was found in and removed from (by any attempt), sorted. */
  rooms: string[];
  /** Sessions told to end. */
  sessionsKicked: number;
}

/**
 * The stream error that ends the account's sessions: RFC 6120 §4.9.3.14 `not-authorized`,
 * since the credentials the session authenticated with no longer exist. Not
 * `policy-violation` (§4.9.3.15: the entity broke a local policy; this user did nothing),
 * not `reset` (§4.9.3.16 invites the client to reconnect at once), not `conflict` (another
 * session took the resource). Prosody's mod_c2s closes sessions of a deleted user the same way.
 */
export const ACCOUNT_DELETED_CONDITION = 'not-authorized';

/**
 * Runs one attempt of a `delete-user` job. A retry after step 4's cancellations sends them
 * again, which changes nothing at the contacts (RFC 6121 Appendix A.3). Progress: 5 after the tombstone, 10 after the
 * kick, 10..90 in proportion to the rooms done, 100 at the end.
 * @throws ControlError `COMMAND_TIMEOUT` when a room does not answer (the job retries);
 *   JobsError `ROOM_REFUSED` when a room refuses the command other than as `item-not-found`
 */
export async function deleteUser(job: ProcessedJob<DeleteUserData>, ctx: ProcessorContext): Promise<DeleteUserResult> {
  const jid = job.data.jid;
  if (typeof jid !== 'string' || jid === '') throw new JobsError('BAD_JOB_DATA', 'delete-user needs { jid }');
  const roomsKey = jobScratchKey(ctx.keys, job.instance, 'rooms');
  const kickedKey = jobScratchKey(ctx.keys, job.instance, 'kicked');

  // 1. The tombstone first, so the name is remembered even if a later step never succeeds.
  //    A retry keeps the first attempt's deletion time.
  if ((await ctx.accounts.deletedAt(jid)) === undefined) await ctx.accounts.markDeleted(jid, ctx.config.jobs.tombstoneTtlMs, ctx.now());
  await job.updateProgress(5);

  // 2. End every session, and wait (bounded) until their gateways have closed them: a session
  //    ending sends its unavailable presence to the account's contacts (RFC 6121 §4.5.2),
  //    which needs the roster that step 4 deletes, and must reach them before the
  //    cancellations of step 4. A session still registered after SESSIONS_GONE_MS (its gateway
  //    is dead: its reaper sends the unavailable presence) does not hold the deletion up.
  await kickAll(ctx, kickedKey, jid);
  await sessionsGone(ctx, kickedKey, jid);
  await job.updateProgress(10);

  // 3. Every room holding an affiliation or an occupant of the account.
  const rooms = await roomsOfUser(ctx.redis, ctx.keys, ctx.config.muc.shards, jid);
  ctx.log.info({ rooms: rooms.length }, 'removing the account from its rooms');
  // Remembered as found, not as confirmed: a command that timed out may still be applied
  // later (it stays in the shard stream), and then the retry's scan no longer sees the room.
  if (rooms.length > 0) await ctx.redis.multi().sadd(roomsKey, ...rooms).pexpire(roomsKey, SCRATCH_TTL_MS).exec();
  for (const [i, room] of rooms.entries()) {
    const result = await ctx.rooms.send(room, { op: 'remove-user', jid });
    if (!result.ok && result.error !== 'item-not-found') throw new JobsError('ROOM_REFUSED', `${room}: ${result.error} (${result.message})`);
    // item-not-found: the room is gone, which removes the account from it just as well.
    await job.updateProgress(10 + Math.floor((80 * (i + 1)) / rooms.length));
  }

  // 4. Every presence subscription cancelled (XEP-0077 §3.2 asks it of an account's
  //    removal; the same stanzas as an in-band removal), then the account and what is
  //    stored with it; then end any session opened since step 2.
  await cancelSubscriptions(ctx, await ctx.accounts.departure(jid));
  await ctx.accounts.delete(jid);
  const sessionsKicked = await kickAll(ctx, kickedKey, jid);
  const done = (await ctx.redis.smembers(roomsKey)).sort();
  await job.updateProgress(100);
  return { rooms: done, sessionsKicked };
}

/**
 * Hands the stanzas cancelling a removed account's subscriptions (`AccountStore.departure`)
 * to the gateway with the latest heartbeat, as `route` envelopes: it routes each as a
 * stanza from the server, so the contact's roster is updated by the RFC 6121 Appendix A.3
 * table and pushed to the contact's interested resources, on whichever gateway they are.
 * @throws JobsError `NO_GATEWAY` when there are stanzas and no gateway (the job retries)
 */
async function cancelSubscriptions(ctx: ProcessorContext, stanzas: readonly Element[]): Promise<void> {
  if (stanzas.length === 0) return;
  const [gateway] = await ctx.redis.zrange(ctx.keys.gateways(), '-1', '-1');
  if (gateway === undefined) throw new JobsError('NO_GATEWAY');
  const p = ctx.redis.pipeline();
  for (const el of stanzas) p.xadd(ctx.keys.gatewayDelivery(gateway), '*', ...encodeEnvelope({ kind: 'route', xml: serialize(el) }));
  for (const [err] of (await p.exec()) ?? []) if (err) throw err;
}

/** How long step 2 waits for the kicked sessions to leave the registry, ms. */
const SESSIONS_GONE_MS = 5000;

/** Resolves once no session this job kicked is in the registry, or after {@link SESSIONS_GONE_MS}. */
async function sessionsGone(ctx: ProcessorContext, key: string, jid: string): Promise<void> {
  const deadline = Date.now() + SESSIONS_GONE_MS;
  for (;;) {
    const kicked = new Set(await ctx.redis.smembers(key));
    const left = (await ctx.sessions.ofUser(jid)).filter((s) => kicked.has(s.sessionId));
    if (!left.length || Date.now() >= deadline) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Kicks the account's sessions not kicked before by this job (their ids are kept in a set:
 * the registry entry stays until the gateway has closed the stream, so a session seen again
 * is not kicked or counted twice); resolves with the number kicked by every attempt so far.
 */
async function kickAll(ctx: ProcessorContext, key: string, jid: string): Promise<number> {
  for (const session of await ctx.sessions.ofUser(jid)) {
    if (await ctx.redis.sismember(key, session.sessionId)) continue;
    if (await ctx.sessions.kick(session, ACCOUNT_DELETED_CONDITION, 'account deleted')) {
      await ctx.redis.multi().sadd(key, session.sessionId).pexpire(key, SCRATCH_TTL_MS).exec();
    }
  }
  return ctx.redis.scard(key);
}
