// Helpers shared by the jobs service's tests (not tests themselves).
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { pino, type Logger } from 'pino';
import { AccountStore } from '@parley/accounts';
import { decodeEnvelope, keySpace, type Envelope, type KeySpace } from '@parley/bus';
import { loadConfig, type Config } from '@parley/config';
import { RoomCommands, Sessions } from '@parley/control';
import { Jobs, type JobInfo } from '../../src/index.js';

/** A fresh key prefix for one test file (every test file in its own namespace). */
export function testPrefix(name: string): string {
  return `t-${name}-${randomBytes(4).toString('hex')}:`;
}

/** A configuration for the tests: few shards, short retries. */
export function testConfig(redisUrl: string, keyPrefix: string, overrides: Record<string, unknown> = {}): Config {
  return loadConfig({
    env: {},
    overrides: { 'redis.url': redisUrl, 'redis.keyPrefix': keyPrefix, 'muc.shards': 4, 'jobs.attempts': 3, ...overrides },
  });
}

/** A silent logger; `PARLEY_TEST_LOG=1` prints to stderr. */
export function testLogger(): Logger {
  return process.env.PARLEY_TEST_LOG ? pino({ level: 'debug' }, pino.destination(2)) : pino({ level: 'silent' });
}

/** The collaborators of a {@link Jobs} on one Redis client. */
export interface Cluster {
  redis: Redis;
  keys: KeySpace;
  config: Config;
  accounts: AccountStore;
  sessions: Sessions;
  rooms: RoomCommands;
}

/** @param commandTimeoutMs - how long room commands wait for their result (default RoomCommands') */
export function cluster(redis: Redis, config: Config, commandTimeoutMs?: number): Cluster {
  const keys = keySpace(config.redis.keyPrefix);
  return {
    redis,
    keys,
    config,
    accounts: new AccountStore(redis, keys, config.auth.scramIterations),
    sessions: new Sessions(redis, keys),
    rooms: new RoomCommands(redis, keys, commandTimeoutMs === undefined ? { shards: config.muc.shards } : { shards: config.muc.shards, timeoutMs: commandTimeoutMs }),
  };
}

/** A started {@link Jobs} over `c`. */
export async function startJobs(c: Cluster, runWorkers = true): Promise<Jobs> {
  const jobs = new Jobs({ redisUrl: c.config.redis.url, keys: c.keys, config: c.config, log: testLogger(), accounts: c.accounts, sessions: c.sessions, rooms: c.rooms, runWorkers });
  await jobs.start();
  return jobs;
}

/** Polls `fn` until it returns a truthy value; throws with `what` after `timeoutMs`. */
export async function eventually<T>(what: string, fn: () => Promise<T> | T, timeoutMs = 10_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await fn();
    if (last) return last as NonNullable<T>;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last value: ${JSON.stringify(last)})`);
}

/** Waits until the job is completed or failed. */
export async function finished(jobs: Jobs, id: string, timeoutMs = 15_000): Promise<JobInfo> {
  return eventually(`job ${id} to finish`, async () => {
    const info = await jobs.get(id);
    return info && (info.state === 'completed' || info.state === 'failed') ? info : undefined;
  }, timeoutMs);
}

/**
 * Registers a session the way a gateway does (see `Sessions` in @parley/control): a record in
 * the user's sessions hash, the full JID in the gateway's session set, the gateway in the
 * gateway set.
 */
export async function fakeSession(c: Cluster, s: { bare: string; resource: string; gateway: string; sessionId: string }): Promise<void> {
  const record = { gateway: s.gateway, sessionId: s.sessionId, available: true, priority: 0, since: Date.now(), transport: 'tcp' };
  await c.redis
    .multi()
    .hset(c.keys.userSessions(s.bare), s.resource, JSON.stringify(record))
    .sadd(c.keys.gatewaySessions(s.gateway), `${s.bare}/${s.resource}`)
    .zadd(c.keys.gateways(), Date.now(), s.gateway)
    .exec();
}

/** Every envelope on a gateway's delivery stream, oldest first. */
export async function deliveries(c: Cluster, gateway: string): Promise<Envelope[]> {
  const entries = await c.redis.xrange(c.keys.gatewayDelivery(gateway), '-', '+');
  return entries.map(([, fields]) => decodeEnvelope(fields)).filter((e): e is Envelope => e !== undefined);
}
