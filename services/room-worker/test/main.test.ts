// The process entry point: configuration errors and the ready line.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { repoRoot, startRedis, startRoomWorker, type RedisServer } from '@parley/testkit';
import { testPrefix } from './support/harness.js';

const main = join(repoRoot(), 'services', 'room-worker', 'dist', 'main.js');
let server: RedisServer;

before(async () => {
  server = await startRedis();
});
after(async () => {
  await server.stop();
});

describe('main.js', () => {
  it('exits 78 (EX_CONFIG) on an invalid configuration', () => {
    assert.ok(existsSync(main), 'build first: npx tsc -b services/room-worker');
    const r = spawnSync(process.execPath, [main], {
      env: { PATH: process.env.PATH, REDIS_URL: server.url, PARLEY_LEASE_TTL_MS: '1000', PARLEY_ROOM_WORKER_HEARTBEAT_MS: '900' },
      encoding: 'utf8',
      timeout: 10_000,
    });
    assert.equal(r.status, 78, r.stderr);
    assert.match(r.stderr, /heartbeatMs must be less than half/);
  });

  it('logs "room worker ready" with its id even at log level warn, and stops on SIGINT with exit 0', async () => {
    const p = await startRoomWorker({ redisUrl: server.url, keyPrefix: testPrefix('main'), env: { PARLEY_LOG_LEVEL: 'warn', PARLEY_ROOM_WORKER_ID: 'rw-main', PARLEY_MUC_SHARDS: '2' } });
    assert.equal(p.workerId, 'rw-main');
    await p.kill('SIGINT');
    assert.equal((await p.exited).code, 0, p.output());
  });
});
