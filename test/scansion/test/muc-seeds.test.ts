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
import { repoRoot, startMucCluster, type MucCluster } from '@parley/testkit';
import { parseScript } from '../lib/parse-script.js';
import { runScript } from '../lib/run-script.js';

const SEEDS = join(repoRoot(), '..', 'shared', 'scansion', 'seeds');
const OURS = join(repoRoot(), 'test', 'scansion', 'scripts');

let cluster: MucCluster | undefined;
let ports: number[] = [];

before(async () => {
  cluster = await startMucCluster({ name: 'muc-seeds', shards: 16 });
  ports = cluster.gateways.map((g) => g.c2sPort);
});

after(async () => {
  await cluster?.stop();
});

/** Waits until no room is left over from the previous script (its clients have gone, its rooms with them). */
async function noRoomsLeft(): Promise<void> {
  const db = cluster!.redis.client();
  try {
    const deadline = Date.now() + 5000;
    for (;;) {
      const rooms = await db.hkeys(cluster!.keys.roomDirectory());
      if (rooms.length === 0) return;
      assert.ok(Date.now() < deadline, `rooms left over: ${rooms.join(', ')}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    db.disconnect();
  }
}

function logsOnFailure(): string {
  return [...cluster!.gateways, ...cluster!.workers].map((p) => p.output().split('\n').slice(-60).join('\n')).join('\n----\n');
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
