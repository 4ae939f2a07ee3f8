// Helpers shared by the admin API's tests (not tests themselves): a real redis-server per
// test file, each app in its own key prefix, tokens of both scopes, and a fake job queue
// (the real one is exercised in jobs.test.ts).
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { AccountStore } from '@parley/accounts';
import { keySpace, type KeySpace } from '@parley/bus';
import { loadConfig, type Config } from '@parley/config';
import { RoomCommands, Sessions } from '@parley/control';
import { startRedis, type RedisServer } from '@parley/testkit';
import type { CommandResult, RoomCommand } from '@parley/muc';
import { buildApp, hashToken, type AppDeps, type JobCounts, type JobInfo, type JobsApi } from '../../src/index.js';

/** Tokens configured in every test app. */
export const TOKENS = { admin: 'admin-token-0123456789', read: 'read-token-0123456789' } as const;

/** `Authorization` headers for the test tokens. */
export const AS = {
  admin: { authorization: `Bearer ${TOKENS.admin}` },
  read: { authorization: `Bearer ${TOKENS.read}` },
} as const;

/** A fresh key prefix for one test (BullMQ style: every test in its own namespace). */
export function testPrefix(name: string): string {
  return `t-${name}-${randomBytes(4).toString('hex')}:`;
}

/** A configuration for tests: two hosts, 4 shards, both test tokens. */
export function testConfig(redisUrl: string, keyPrefix: string, overrides: Record<string, unknown> = {}): Config {
  return loadConfig({
    env: {},
    overrides: {
      hosts: ['example.com', 'example.org'],
      'redis.url': redisUrl,
      'redis.keyPrefix': keyPrefix,
      'muc.shards': 4,
      'auth.scramIterations': 4096,
      'adminApi.tokens': [
        { name: 'ops', scope: 'admin', sha256: hashToken(TOKENS.admin) },
        { name: 'grafana', scope: 'read', sha256: hashToken(TOKENS.read) },
      ],
      'adminApi.commandTimeoutMs': 3000,
      ...overrides,
    },
  });
}

/** A job queue in memory: records what was asked, jobs stay `waiting` unless changed. */
export class FakeJobs implements JobsApi {
  readonly jobs = new Map<string, JobInfo>();
  private n = 0;

  private add(name: JobInfo['name'], data: Record<string, unknown>, id = String(++this.n)): JobInfo {
    const job: JobInfo = { id, name, state: 'waiting', progress: 0, data, attemptsMade: 0, createdAt: 1_700_000_000_000 };
    this.jobs.set(id, job);
    return job;
  }

  async deleteUser(bareJid: string): Promise<JobInfo> {
    return this.add('delete-user', { jid: bareJid }, `delete-user:${bareJid}`);
  }

  async announce(body: string, opts: { subject?: string } = {}): Promise<JobInfo> {
    return this.add('announce', { body, ...opts });
  }

  async cleanupOffline(): Promise<JobInfo> {
    return this.add('cleanup-offline', {});
  }

  async get(id: string): Promise<JobInfo | undefined> {
    return this.jobs.get(id);
  }

  async counts(): Promise<JobCounts> {
    const c: JobCounts = { waiting: 0, active: 0, completed: 0, failed: 0, delayed: 0 };
    for (const j of this.jobs.values()) if (j.state !== 'unknown') c[j.state]++;
    return c;
  }
}

/** A room command sender answering from a function (for tests without a room worker). */
export class ScriptedRooms {
  readonly sent: { room: string; command: RoomCommand }[] = [];
  constructor(private readonly answer: (room: string, command: RoomCommand) => CommandResult | Promise<CommandResult>) {}
  async send(room: string, command: RoomCommand): Promise<CommandResult> {
    this.sent.push({ room, command });
    return this.answer(room, command);
  }
}

/** An app on a real Redis, with its parts. */
export interface TestApp {
  app: FastifyInstance;
  config: Config;
  keys: KeySpace;
  redis: Redis;
  accounts: AccountStore;
  jobs: JobsApi;
  close(): Promise<void>;
}

/**
 * Builds an app on `redis` with a fresh key prefix. `deps` replaces any part (e.g. `rooms`
 * with a {@link ScriptedRooms}, `jobs` with a real queue).
 */
export async function testApp(redis: Redis, redisUrl: string, opts: { name: string; config?: Record<string, unknown>; deps?: Partial<AppDeps> }): Promise<TestApp> {
  const prefix = testPrefix(opts.name);
  const config = opts.deps?.config ?? testConfig(redisUrl, prefix, opts.config);
  const keys = opts.deps?.keys ?? keySpace(config.redis.keyPrefix);
  const accounts = opts.deps?.accounts ?? new AccountStore(redis, keys, config.auth.scramIterations);
  const jobs = opts.deps?.jobs ?? new FakeJobs();
  const deps: AppDeps = {
    config,
    redis,
    keys,
    accounts,
    sessions: new Sessions(redis, keys),
    rooms: new RoomCommands(redis, keys, { shards: config.muc.shards, timeoutMs: config.adminApi.commandTimeoutMs }),
    jobs,
    clusterMetrics: async () => '',
    ...opts.deps,
  };
  const app = await buildApp(deps);
  await app.ready();
  return { app, config, keys, redis, accounts, jobs, close: () => app.close() };
}

/** A {@link testApp} on a redis-server of its own; `stop()` closes the app, then stops Redis. */
export interface OwnRedisApp {
  server: RedisServer;
  redis: Redis;
  t: TestApp;
  stop(): Promise<void>;
}

/** Starts a private redis-server and a {@link testApp} on it (for a test file's `before`). */
export async function testAppOnOwnRedis(opts: { name: string; config?: Record<string, unknown>; deps?: Partial<AppDeps> }): Promise<OwnRedisApp> {
  const server = await startRedis();
  const redis = server.client();
  const t = await testApp(redis, server.url, opts);
  return {
    server,
    redis,
    t,
    stop: async () => {
      await t.close();
      await server.stop();
    },
  };
}

/** Registers an online session directly in the registry, as a gateway would. */
export async function addSession(
  redis: Redis,
  keys: KeySpace,
  fullJid: string,
  opts: { gateway?: string; sessionId?: string; transport?: 'tcp' | 'websocket'; available?: boolean; priority?: number; since?: number } = {},
): Promise<{ gateway: string; sessionId: string }> {
  const slash = fullJid.indexOf('/');
  const bare = fullJid.slice(0, slash);
  const resource = fullJid.slice(slash + 1);
  const gateway = opts.gateway ?? 'gw-test';
  const sessionId = opts.sessionId ?? randomBytes(6).toString('hex');
  const record = { gateway, sessionId, available: opts.available ?? true, priority: opts.priority ?? 0, since: opts.since ?? 1_700_000_000_000, transport: opts.transport ?? 'tcp' };
  await redis
    .multi()
    .hset(keys.userSessions(bare), resource, JSON.stringify(record))
    .sadd(keys.gatewaySessions(gateway), fullJid)
    .zadd(keys.gateways(), Date.now(), gateway)
    .exec();
  return { gateway, sessionId };
}

/** Every envelope on a gateway's delivery stream, as field maps. */
export async function deliveries(redis: Redis, keys: KeySpace, gateway: string): Promise<Record<string, string>[]> {
  const entries = await redis.xrange(keys.gatewayDelivery(gateway), '-', '+');
  return entries.map(([, fields]) => {
    const m: Record<string, string> = {};
    for (let i = 0; i + 1 < fields.length; i += 2) m[fields[i]!] = fields[i + 1]!;
    return m;
  });
}
