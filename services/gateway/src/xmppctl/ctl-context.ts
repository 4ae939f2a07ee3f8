// What the operations commands of xmppctl (rooms.ts, session-kick.ts, status.ts, check.ts)
// need from xmppctl.ts: the configuration, the usage-error factory, the exit code, and one
// Redis connection per command.
import type { Command } from 'commander';
import type { Redis } from 'ioredis';
import { keySpace, type KeySpace } from '@parley/bus';
import type { Config } from '@parley/config';
import { createRedis } from '@parley/service-runtime';

/** Handed to each `register*` function by xmppctl.ts. */
export interface CtlContext {
  /** The configuration of the command being run (loaded once; ConfigError → exit 78). */
  cfg(cmd: Command): Config;
  /** The error xmppctl reports as a usage error (exit 2). */
  usage(message: string): Error;
  /** Sets the process exit code (0 done, 1 refused or failed, 78 bad configuration). */
  exit(code: number): void;
}

/** Runs `fn` with a connection to the cluster's Redis (`redis.url` or Sentinel), closed after. */
export async function withRedis<T>(config: Config, fn: (redis: Redis, keys: KeySpace) => Promise<T>): Promise<T> {
  const redis = createRedis(config.redis, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    return await fn(redis, keySpace(config.redis.keyPrefix));
  } finally {
    redis.disconnect();
  }
}

/** Writes one line to standard output. */
export const out = (line: string): void => void process.stdout.write(`${line}\n`);
/** Writes `xmppctl: <line>` to standard error. */
export const err = (line: string): void => void process.stderr.write(`xmppctl: ${line}\n`);
