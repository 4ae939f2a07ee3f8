#!/usr/bin/env node
/**
 * Admin API process entry point. Configuration: `--config <file.json>` (or PARLEY_CONFIG)
 * plus the environment variables listed in docs/configuration.md (`adminApi.*`). Connects
 * to Redis, starts the job queue with its workers in this process, listens on
 * `adminApi.bindHost:adminApi.port` and prints one log line `admin api ready` with `url`
 * (`http://127.0.0.1:PORT`) and `port`. SIGINT/SIGTERM stop accepting requests, finish the
 * ones in flight, stop the job workers and exit 0 (1 if that takes over 10 s).
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { AccountStore } from '@parley/accounts';
import { keySpace } from '@parley/bus';
import { RoomCommands, Sessions } from '@parley/control';
import { Jobs } from '@parley/jobs';
import { buildApp } from './app.js';
import { checkSchemaVersionOrExit, createLogger, createRedis, loadServiceConfig, stopOnSignals } from '@parley/service-runtime';

const config = loadServiceConfig('admin-api');
// Refuse data written by a newer parley (one line, exit 78); the first start writes the version.
await checkSchemaVersionOrExit('admin-api', config.redis, keySpace(config.redis.keyPrefix).schemaVersion());

const instance = `adm-${randomBytes(4).toString('hex')}`;
const log = createLogger(config, { service: 'admin-api', instance });
const keys = keySpace(config.redis.keyPrefix);
const redis = createRedis(config.redis, { lazyConnect: true, maxRetriesPerRequest: 2 });
redis.on('error', (err: Error) => log.warn({ err: err.message }, 'redis connection error'));
const accounts = new AccountStore(redis, keys, config.auth.scramIterations);
const sessions = new Sessions(redis, keys);
const rooms = new RoomCommands(redis, keys, { shards: config.muc.shards, timeoutMs: config.adminApi.commandTimeoutMs });
const jobs = new Jobs({ redisUrl: config.redis.url, keys, config, log: log.child({ component: 'jobs' }), accounts, sessions, rooms, runWorkers: true });

let jobsStarted = false;
let stopping = (): boolean => false;
const app = await buildApp({ config, redis, keys, accounts, sessions, rooms, jobs, log, instance, isReady: () => jobsStarted && !stopping() });
stopping = stopOnSignals('admin api', log, async () => {
  await app.close();
  await jobs.stop();
  await redis.quit().catch(() => undefined);
});

try {
  await redis.connect();
  await jobs.start();
  jobsStarted = true;
  const { bindHost, port, tokens, publicEndpoints } = config.adminApi;
  await app.listen({ host: bindHost, port });
  const bound = (app.server.address() as AddressInfo).port;
  const host = ['0.0.0.0', '::', '127.0.0.1', 'localhost'].includes(bindHost) ? '127.0.0.1' : bindHost.includes(':') ? `[${bindHost}]` : bindHost;
  if (tokens.length === 0) log.warn('no adminApi.tokens configured: every route but /healthz answers 401');
  // Launchers and tests wait for this line, so it is written even when the level is above info.
  log.child({}, { level: 'info' }).info({ url: `http://${host}:${bound}`, port: bound, bindHost, tokens: tokens.length, publicEndpoints }, 'admin api ready');
} catch (err) {
  log.fatal({ err }, 'admin api failed to start');
  process.exit(1);
}
