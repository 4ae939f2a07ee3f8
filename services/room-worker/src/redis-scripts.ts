import { readFileSync } from 'node:fs';
import type { ChainableCommander, Command, Redis } from 'ioredis';

/**
 * The room worker's atomic Redis operations, `lua/<name>-<numberOfKeys>.lua`. The commit
 * touches one history list per room, so its key count varies: `-n` marks that, and the
 * caller passes the count first (see {@link ScriptedRedis.commitShard}).
 */
const SCRIPTS = ['acquire-lease-2', 'renew-lease-1', 'release-lease-1', 'commit-shard-n'] as const;

/** A Redis client with the room worker's Lua scripts defined as commands. */
export interface ScriptedRedis extends Redis {
  /** @returns the new fencing token, or null when the lease is held. */
  acquireLease(lease: string, fence: string, workerId: string, ttlMs: number): Promise<number | null>;
  /** @returns 1 when extended, 0 when lost. */
  renewLease(lease: string, value: string, ttlMs: number): Promise<number>;
  /** @returns 1 when released, 0 when it was not ours any more. */
  releaseLease(lease: string, value: string): Promise<number>;
  /** `numKeys` then the keys, then ARGV, as listed in commit-shard-n.lua; resolves `ok` or `fenced`. */
  commitShard(numKeys: number, ...keysAndArgs: (string | number)[]): Promise<'ok' | 'fenced' | 'gap'>;
}

/** A pipeline of a {@link ScriptedRedis}, with the scripts queued like commands. */
export interface ScriptedPipeline extends ChainableCommander {
  acquireLease(lease: string, fence: string, workerId: string, ttlMs: number): ScriptedPipeline;
  renewLease(lease: string, value: string, ttlMs: number): ScriptedPipeline;
  commitShard(numKeys: number, ...keysAndArgs: (string | number)[]): ScriptedPipeline;
  /** Queues a command made beforehand (ioredis `Pipeline.sendCommand`, e.g. shard/xread-command.ts). */
  sendCommand(command: Command): ScriptedPipeline;
}

const camel = (name: string) => name.replace(/-(\d+|n)$/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** Defines the scripts on a client (EVALSHA with automatic fallback to EVAL); idempotent. */
export function defineScripts(redis: Redis): ScriptedRedis {
  for (const name of SCRIPTS) {
    if ((redis as unknown as Record<string, unknown>)[camel(name)]) continue;
    const lua = readFileSync(new URL(`../lua/${name}.lua`, import.meta.url), 'utf8');
    const keys = name.split('-').pop();
    redis.defineCommand(camel(name), keys === 'n' ? { lua } : { numberOfKeys: Number(keys), lua });
  }
  return redis as ScriptedRedis;
}
