import type { KeySpace } from '@parley/bus';

/** How long a job's scratch keys outlive their last write, ms (far longer than all retries' backoff). */
export const SCRATCH_TTL_MS = 24 * 3600 * 1000;

/**
 * Scratch keys a job keeps across its attempts so that a retry does not redo (or recount)
 * what an earlier attempt did: `<prefix>jobs:{j:<job instance>}:<part>`, with a TTL of
 * {@link SCRATCH_TTL_MS}. (They live here rather than in `@parley/bus` because only this
 * service reads or writes them.)
 */
export function jobScratchKey(keys: KeySpace, instance: string, part: 'delivered' | 'rooms' | 'kicked' | 'removed'): string {
  return `${keys.prefix}jobs:{j:${instance}}:${part}`;
}

/**
 * BullMQ's key prefix for a cluster: the cluster's own prefix followed by `bull`, as one hash
 * tag, e.g. `{parley:bull}`, so that every key of the queue is in one Redis Cluster slot (BullMQ's
 * Lua scripts touch several of them at once; BullMQ requires this on a cluster). Before issue #14
 * it was `parley:bull` without braces: a queue there must be drained before upgrading (CHANGELOG).
 */
export function bullPrefix(keys: KeySpace): string {
  return `{${keys.prefix}bull}`;
}

/** The one BullMQ queue every job goes through. */
export const QUEUE_NAME = 'jobs';
