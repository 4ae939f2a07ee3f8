// Helpers shared by the room worker's tests (not tests themselves).
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { loadConfig, type Config } from '@parley/config';

/** A fresh key prefix for one test file (BullMQ style: every test in its own namespace). */
export function testPrefix(name: string): string {
  return `t-${name}-${randomBytes(4).toString('hex')}:`;
}

/** A configuration for an in-process worker: small shard count, fast heartbeats. */
export function testConfig(redisUrl: string, keyPrefix: string, overrides: Record<string, unknown> = {}): Config {
  return loadConfig({
    env: {},
    overrides: {
      'redis.url': redisUrl,
      'redis.keyPrefix': keyPrefix,
      'muc.shards': 8,
      'roomWorker.leaseTtlMs': 1000,
      'roomWorker.heartbeatMs': 100,
      'log.level': 'debug',
      ...overrides,
    },
  });
}

/** A pino logger that keeps its lines (parsed) in memory; `PARLEY_TEST_LOG=1` echoes them. */
export function memoryLogger(): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line) continue;
        lines.push(JSON.parse(line) as Record<string, unknown>);
        if (process.env.PARLEY_TEST_LOG) process.stderr.write(`${line}\n`);
      }
      cb();
    },
  });
  return { log: pino({ level: 'debug' }, sink), lines };
}

/** Polls `fn` until it returns a truthy value; throws with `what` after `timeoutMs`. */
export async function eventually<T>(what: string, fn: () => Promise<T> | T, timeoutMs = 5000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await fn();
    if (last) return last as NonNullable<T>;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last value: ${JSON.stringify(last)})`);
}
