/*
 * XEP-0045 conformance on a multi-process cluster: redis-server, two gateways and two room
 * workers (separate processes), with open test authentication as the seeds assume
 * (../shared/scansion/README.md). Runs Prosody's seed scripts (read from
 * ../shared/scansion/seeds when present) and our own MUC scripts (test/scansion/scripts),
 * each with its clients spread round-robin over both gateways.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { keySpace } from '@parley/bus';
import {
  repoRoot,
  startGateway,
  startRedis,
  startRoomWorker,
  type GatewayProcess,
  type RedisServer,
  type RoomWorkerProcess,
} from '@parley/testkit';
import { parseScript } from '../lib/parse-script.js';
import { runScript } from '../lib/run-script.js';

const ENV = { PARLEY_AUTH_BACKEND: 'open-insecure-test-only', PARLEY_ALLOW_PLAIN_WITHOUT_TLS: 'true', PARLEY_MUC_SHARDS: '16' };
const SEEDS = join(repoRoot(), '..', 'shared', 'scansion', 'seeds');
const OURS = join(repoRoot(), 'test', 'scansion', 'scripts');

let redis: RedisServer | undefined;
const gateways: GatewayProcess[] = [];
const workers: RoomWorkerProcess[] = [];
let ports: number[] = [];
const keyPrefix = `it:muc-seeds:${randomBytes(3).toString('hex')}:`;
const keys = keySpace(keyPrefix);

before(async () => {
  redis = await startRedis();
  const opts = { redisUrl: redis.url, keyPrefix, env: ENV };
  const started = await Promise.all([startGateway(opts), startGateway(opts), startRoomWorker(opts), startRoomWorker(opts)]);
  gateways.push(started[0], started[1]);
  workers.push(started[2], started[3]);
  ports = gateways.map((g) => g.c2sPort);
  await allShardsOwned(16);
});

after(async () => {
  for (const g of gateways) await g.stop();
  for (const w of workers) await w.stop();
  await redis?.stop();
});

async function allShardsOwned(shards: number): Promise<void> {
  const db = redis!.client();
  try {
    const leases = Array.from({ length: shards }, (_, s) => keys.shardLease(s));
    const deadline = Date.now() + 30_000;
    while ((await db.exists(...leases)) < shards) {
      assert.ok(Date.now() < deadline, 'not every shard got an owner');
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    db.disconnect();
  }
}

/** Waits until no room is left over from the previous script (its clients have gone, its rooms with them). */
async function noRoomsLeft(): Promise<void> {
  const db = redis!.client();
  try {
    const deadline = Date.now() + 5000;
    for (;;) {
      const rooms = await db.hkeys(keys.roomDirectory());
      if (rooms.length === 0) return;
      assert.ok(Date.now() < deadline, `rooms left over: ${rooms.join(', ')}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    db.disconnect();
  }
}

function logsOnFailure(): string {
  return [...gateways, ...workers].map((p) => p.output().split('\n').slice(-60).join('\n')).join('\n----\n');
}

const scripts = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.scs')).sort().map((f) => join(dir, f)) : []);

test('the seed scripts are present beside the repository', () => {
  assert.ok(scripts(SEEDS).length >= 4, `expected Prosody's seed scripts in ${SEEDS}`);
});

for (const file of [...scripts(SEEDS), ...scripts(OURS)]) {
  test(`${file.includes(SEEDS) ? 'seed' : 'ours'}: ${file.split('/').pop()}`, async () => {
    await noRoomsLeft();
    const result = await runScript(parseScript(readFileSync(file, 'utf8')), { host: '127.0.0.1', ports });
    for (const w of result.warnings) process.stderr.write(`    warning: ${w}\n`);
    assert.equal(result.error, undefined, `${result.error}\n${logsOnFailure()}`);
    assert.equal(result.ok, true);
  });
}
