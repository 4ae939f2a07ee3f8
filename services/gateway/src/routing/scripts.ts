import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';

/** The gateway's atomic Redis operations (lua/<name>-<numberOfKeys>.lua). */
const SCRIPTS = ['bind-session-1', 'unbind-session-1', 'update-session-1', 'reap-session-1', 'register-gateway-2', 'heartbeat-3', 'reap-claim-5', 'reap-set-aside-2', 'reap-resume-4', 'reap-lock-2', 'sm-append-2', 'sm-orphan-2', 'sm-claim-4', 'sm-end-4', 'shard-pressure-3'] as const;

/** A Redis client with the gateway's Lua scripts defined as commands. */
export interface ScriptedRedis extends Redis {
  bindSession(key: string, resource: string, record: string): Promise<string | null>;
  unbindSession(key: string, resource: string, sessionId: string): Promise<number>;
  updateSession(key: string, resource: string, sessionId: string, record: string): Promise<number>;
  reapSession(key: string, resource: string, gatewayId: string): Promise<string | null>;
  // Offline storage's and account archives' scripts are defined by OfflineStore and MamStore of @parley/accounts.
  /** lua/register-gateway-2.lua: returns the Redis server time, ms. */
  registerGateway(gateways: string, tokenKey: string, gatewayId: string, token: string): Promise<number>;
  /** lua/heartbeat-3.lua: [1 | -1 (reaped), Redis time ms]. */
  heartbeat(gateways: string, tokenKey: string, liveness: string, gatewayId: string, token: string, gapMs: number, deadAfterMs: number): Promise<[number, number]>;
  /** lua/reap-claim-5.lua: [status, Redis time ms]; status 1 when claimed (see the script). Every key is in the `gateways` slot. */
  reapClaim(
    gateways: string, liveness: string, tokenKey: string, lock: string, reapingSet: string,
    deadId: string, deadAfterMs: number, reaperId: string, lockTtlMs: number,
  ): Promise<[number, number]>;
  /** lua/reap-set-aside-2.lua: sets the dead gateway's delivery stream aside (idempotent); -1 renamed, else entries appended. */
  reapSetAside(delivery: string, reaping: string): Promise<number>;
  /** lua/reap-resume-4.lua: 1 or 2 when this gateway took over an unfinished reap (see the script). */
  reapResume(reapingSet: string, lock: string, gateways: string, liveness: string, deadId: string, reaperId: string, lockTtlMs: number): Promise<number>;
  /** lua/reap-lock-2.lua: renews (ttlMs > 0) or releases (0) a reaper lock held by reaperId; 1 held, 0 lost. */
  reapLock(lock: string, reapingSet: string, reaperId: string, ttlMs: number, deadId: string): Promise<number>;
  /** lua/sm-append-2.lua: queue length, 0 when not held by `gateway`, -1 when the entry was queued already (XEP-0198 orphans). */
  smAppend(state: string, queue: string, gateway: string, item: string, entryId: string): Promise<number>;
  /** lua/sm-orphan-2.lua: 1 when the reaper adopted the session as an orphan, 0 when it changed meanwhile. */
  smOrphan(sessions: string, state: string, resource: string, expected: string, next: string, deadId: string, adopter: string, detached: number): Promise<number>;
  /** lua/sm-claim-4.lua: [h, acked, win, items, rooms] of the claimed orphan, or null. */
  smClaim(sessions: string, state: string, queue: string, rooms: string, resource: string, expected: string, next: string, holder: string, claimer: string): Promise<[string, string, string, string[], string[]] | null>;
  /** lua/sm-end-4.lua: [removed record or '', holder, session id, items, rooms] of an ended orphan, or null. */
  smEnd(sessions: string, state: string, queue: string, rooms: string, resource: string): Promise<[string, string, string, string[], string[]] | null>;
  /**
   * lua/shard-pressure-3.lua: [id of the shard stream's oldest entry or '', the worker's
   * hot-room list flat (room, stream id, ...), the delivery-hot list flat (room, deadline ms, ...)];
   * each list at most about `count` fields (HSCAN COUNT).
   */
  shardPressure(stream: string, hotRooms: string, deliveryHot: string, count: number): Promise<[string, string[], string[]]>;
}

const camel = (name: string) => name.replace(/-\d+$/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** Defines the scripts on a client (EVALSHA with automatic fallback to EVAL). */
export function defineScripts(redis: Redis): ScriptedRedis {
  for (const name of SCRIPTS) {
    if ((redis as unknown as Record<string, unknown>)[camel(name)]) continue;
    const lua = readFileSync(new URL(`../../lua/${name}.lua`, import.meta.url), 'utf8');
    redis.defineCommand(camel(name), { numberOfKeys: Number(name.split('-').pop()), lua });
  }
  return redis as ScriptedRedis;
}
