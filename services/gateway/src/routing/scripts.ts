import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';

/** The gateway's atomic Redis operations (lua/<name>-<numberOfKeys>.lua). */
const SCRIPTS = ['bind-session-1', 'unbind-session-1', 'update-session-1', 'reap-session-1', 'offline-push-1', 'offline-pop-1'] as const;

/** A Redis client with the gateway's Lua scripts defined as commands. */
export interface ScriptedRedis extends Redis {
  bindSession(key: string, resource: string, record: string): Promise<string | null>;
  unbindSession(key: string, resource: string, sessionId: string): Promise<number>;
  updateSession(key: string, resource: string, sessionId: string, record: string): Promise<number>;
  reapSession(key: string, resource: string, gatewayId: string): Promise<string | null>;
  offlinePush(key: string, max: number, xml: string): Promise<number>;
  offlinePop(key: string): Promise<string[]>;
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
