/*
 * The launcher as an operator runs it (issue #14 item 4):
 * - Ctrl-C (SIGINT to the launcher's process group, as a terminal sends it) stops the
 *   gateways first, then the room workers and the admin API, then Redis: no ECONNREFUSED,
 *   no "clean stop timed out", exit 0, no process left;
 * - the next start with the same data directory reuses the Redis port and password and the
 *   development admin token (xmppctl keeps working with the printed REDIS_URL) and reaps no
 *   gateway of the previous run;
 * - an idle start logs one summary line per change of a worker's shards, not one per shard;
 * - each gateway and room worker has a health listener on a free port, printed, answering
 *   /readyz without a token, as does the admin API;
 * - a launcher killed with SIGKILL takes its services and its Redis with it.
 * Run as `node deploy/local/dist/cli.js` with 2 gateways, 2 room workers and the admin API.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, freePorts, xmppctl } from '@parley/testkit';
import { spawnLauncher } from './support/launcher.js';

const root = mkdtempSync(join(tmpdir(), 'parley-launcher-ops-'));
const dataDir = join(root, 'data');
const started: ChildProcess[] = [];

after(() => {
  for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

/** Whether `pid` is a running process (a zombie counts as gone). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

async function waitGone(pids: readonly number[], ms: number): Promise<number[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const left = pids.filter(alive);
    if (left.length === 0 || Date.now() > deadline) return left;
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface Run {
  child: ChildProcess;
  output: string[];
  redisUrl: string;
  token: string;
  /** pids of the services (from their JSON log lines) and of redis-server. */
  pids: number[];
}

/** The JSON log records among the launcher's output. */
function records(output: readonly string[]): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const chunk of output) {
    for (const line of chunk.split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        out.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // partial line on stderr
      }
    }
  }
  return out;
}

async function start(): Promise<Run> {
  const launched = spawnLauncher(['--gateways', '2', '--workers', '2', '--c2s-port', String(await freePorts(2)), '--ws-port', String(await freePorts(2)),
    '--admin-port', '0', '--direct-tls-port', '0', '--no-tls', '--data-dir', dataDir, '--json'], { detached: true });
  started.push(launched.child);
  const line = await launched.ready;
  const redisUrl = /redis=(\S+)/.exec(line)?.[1];
  const token = launched.output.map((l) => /dev token: (\S+)/.exec(l)?.[1]).find((t) => t !== undefined);
  assert.ok(redisUrl && token, launched.output.join('\n'));
  // Let the workers' shard summaries (debounced 1 s) come out.
  await new Promise((r) => setTimeout(r, 2500));
  const db = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  const redisPid = Number(/process_id:(\d+)/.exec(await db.info('server'))?.[1]);
  db.disconnect();
  const pids = [...new Set(records(launched.output).map((r) => Number(r.pid)))].filter((p) => p > 0);
  assert.equal(pids.length, 5, `2 gateways, 2 workers, the admin API: ${pids.join(',')}`);
  return { child: launched.child, output: launched.output, redisUrl, token, pids: [...pids, redisPid] };
}

/** SIGINT to the launcher's process group, as Ctrl-C in a terminal; resolves with its exit code. */
async function ctrlC(run: Run): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => run.child.once('exit', (code) => resolve(code)));
  process.kill(-run.child.pid!, 'SIGINT');
  return exited;
}

test('Ctrl-C stops services before Redis; the next start keeps the Redis URL and token and reaps nothing', async () => {
  const first = await start();
  const recs = records(first.output);
  // An idle start: no per-shard line at info, one summary per burst of changes per worker.
  assert.equal(recs.filter((r) => r.level === 30 && /^(shard acquired|shard released|handing shard over)$/.test(String(r.msg))).length, 0);
  const summaries = recs.filter((r) => r.msg === 'room shards changed');
  assert.ok(summaries.length >= 2 && summaries.length <= 8, `summary lines: ${summaries.length}`);
  const holding = new Map<unknown, number>();
  for (const s of summaries) holding.set(s.workerId, Number(s.holdingCount));
  assert.equal([...holding.values()].reduce((a, b) => a + b, 0), 64, 'the last summaries of both workers cover the 64 shards');
  assert.ok(first.output.length < 60, `an idle start prints ${first.output.length} lines`);

  // Health listeners on free ports, printed; probes need no token (the admin API's /readyz too).
  const healthUrls = first.output.flatMap((l) => [...l.matchAll(/health (http:\/\/127\.0\.0\.1:\d+\/readyz)/g)].map((m) => m[1]!));
  assert.equal(healthUrls.length, 4, first.output.join('\n'));
  for (const url of healthUrls) assert.equal((await fetch(url)).status, 200, url);
  const firstAdmin = /admin API (\S+)/.exec(first.output.join('\n'))?.[1];
  assert.equal((await fetch(`${firstAdmin}/readyz`)).status, 200);

  // An account made through the printed URL.
  const added = await xmppctl(['user', 'add', 'ops-user@localhost'], { redisUrl: first.redisUrl, keyPrefix: 'parley:', stdin: 'ops-pw\n' });
  assert.equal(added.code, 0, added.stderr);

  const before = first.output.length;
  assert.equal(await ctrlC(first), 0, first.output.slice(-30).join('\n'));
  const stopLines = first.output.slice(before).join('\n');
  assert.doesNotMatch(stopLines, /ECONNREFUSED|clean stop timed out|Unhandled error/, stopLines);
  const stopRecs = records(first.output.slice(before));
  const at = (msg: string) => stopRecs.map((r, i) => (r.msg === msg ? i : -1)).filter((i) => i >= 0);
  assert.equal(at('gateway stopped').length, 2, stopLines);
  assert.equal(at('room worker stopped').length, 2, stopLines);
  assert.equal(at('admin api stopped').length, 1, stopLines);
  // Gateways stopped (sessions ended, rooms told) before any worker began to stop.
  assert.ok(Math.max(...at('gateway stopped')) < Math.min(...at('room worker stopping')), stopLines);
  // Each service got SIGTERM from the launcher, not the group's SIGINT.
  assert.deepEqual([...new Set(stopRecs.filter((r) => String(r.msg).endsWith(' stopping')).map((r) => r.signal))], ['SIGTERM']);
  assert.deepEqual(await waitGone(first.pids, 5000), [], 'no process left');

  const state = JSON.parse(readFileSync(join(dataDir, 'launcher.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(statSync(join(dataDir, 'launcher.json')).mode & 0o777, 0o600);
  assert.equal(state.adminToken, first.token);

  const second = await start();
  assert.equal(second.redisUrl, first.redisUrl, 'same port and password');
  assert.equal(second.token, first.token, 'same development token');
  const text = second.output.join('\n');
  assert.match(text, /the password of the previous start/);
  assert.doesNotMatch(text, /dead gateway|reaped|shard lost/, 'the previous run left nothing to reap');
  // xmppctl with the URL printed by the first run.
  const listed = await xmppctl(['user', 'list'], { redisUrl: first.redisUrl, keyPrefix: 'parley:' });
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, /ops-user@localhost/);
  // The token still works on the new admin API.
  const adminUrl = /admin API (\S+)/.exec(text)?.[1];
  const res = await fetch(`${adminUrl}/v1/cluster`, { headers: { authorization: `Bearer ${second.token}` } });
  assert.equal(res.status, 200);

  // A second launcher on the same data directory is refused.
  const third = spawnLauncher(['--gateways', '1', '--workers', '0', '--no-admin', '--no-tls', '--c2s-port', String(await freePort()), '--ws-port', String(await freePort()), '--data-dir', dataDir, '--json']);
  started.push(third.child);
  await assert.rejects(third.ready, /is in use by the launcher with pid/);

  // SIGKILL of the launcher alone: its services see their stdin end and stop; Redis stops too.
  second.child.kill('SIGKILL');
  assert.deepEqual(await waitGone(second.pids, 15_000), [], 'the services and Redis stop when the launcher dies');
  assert.ok(existsSync(join(dataDir, 'appendonlydir')));
});
