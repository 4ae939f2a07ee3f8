// Memory of one big room, sampled by phase while the load generator runs a scenario against
// a local cluster that is already running (`pnpm cluster --open-auth ...`).
//
//   node --import tsx bench/room-size.ts --scenario bench/scenarios/s6-1x10000.json \
//     --launcher-pid <pid of `node deploy/local/dist/cli.js`> --redis-url <url from READY> \
//     [--rate X] [--out result.json] [--snapshot-dir DIR]
//
// At the start of the phases `login` (nothing connected), `join-owners` (every client logged
// in, nobody joined), `idle` (every occupant joined), `messaging` (the end of the idle time:
// give the scenario `idleSec` > `metrics.publishMs`, 5 s by default) and `drain`, and after
// the run, it records: the heap used by each gateway and room worker (their published
// metrics), VmRSS (/proc/<pid>/status, KiB) of each
// gateway and room worker under the launcher, Redis `used_memory` (INFO memory, bytes), and
// for the scenario's room: the length of its JSON state in its shard's rooms hash (HSTRLEN,
// bytes), MEMORY USAGE of that hash, of the room's occupants hash and of its history list (bytes). It prints one
// JSON object: the samples plus the load generator's result summary.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { keySpace } from '../packages/bus/src/keys.js';
import type { LoadResult } from '../packages/loadgen/src/index.js';
import { processTree } from './compare/lib/proc.js';

// The built generator (compiled worker threads), as bench/compare/run-load.ts uses it; run `npx tsc -b` first.
const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const { loadScenarioFile, runScenario } = (await import(pathToFileURL(join(repoRoot, 'packages', 'loadgen', 'dist', 'index.js')).href)) as typeof import('../packages/loadgen/src/index.js');

const { values } = parseArgs({
  options: {
    scenario: { type: 'string' },
    'launcher-pid': { type: 'string' },
    'redis-url': { type: 'string' },
    rate: { type: 'string' },
    out: { type: 'string' },
    shards: { type: 'string', default: '64' },
    prefix: { type: 'string', default: 'parley:' },
    'snapshot-dir': { type: 'string' },
  },
});
if (!values.scenario || !values['launcher-pid'] || !values['redis-url']) {
  console.error('usage: room-size.ts --scenario F --launcher-pid P --redis-url U [--rate X] [--out F]');
  process.exit(2);
}
const launcherPid = Number(values['launcher-pid']);
const redisUrl = values['redis-url'];
const keys = keySpace(values.prefix!);
const shards = Number(values.shards);

function redis(...args: string[]): string {
  const r = spawnSync('redis-cli', ['-u', redisUrl, '--no-auth-warning', ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`redis-cli ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

/** Gateways and room workers under the launcher: role (from the command line) and RSS in KiB. */
function processes(): { pid: number; role: string; rssKiB: number }[] {
  const out: { pid: number; role: string; rssKiB: number }[] = [];
  for (const pid of processTree(launcherPid).slice(1)) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      const role = /gateway/.test(cmd) ? 'gateway' : /room-worker/.test(cmd) ? 'room-worker' : /redis-server/.test(cmd) ? 'redis' : cmd.slice(0, 60);
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      out.push({ pid, role, rssKiB: m ? Number(m[1]) : 0 });
    } catch {
      // gone
    }
  }
  return out;
}

/** The scenario's (largest) room: the shard hash holding it, its JSON length, MEMORY USAGE of the hash and its history. */
function room(namePrefix: string) {
  for (let s = 0; s < shards; s++) {
    const key = keys.shardRooms(s);
    const fields = redis('--raw', 'HKEYS', key).split('\n').filter((f) => f.startsWith(namePrefix));
    if (fields.length === 0) continue;
    // Earlier runs' rooms may still be there (room names carry the run id): take the largest.
    const jid = fields.map((f) => ({ f, n: Number(redis('HSTRLEN', key, f)) })).sort((a, b) => b.n - a.n)[0]!.f;
    const hist = keys.roomHistory(s, jid);
    const occ = keys.roomOccupants(s, jid);
    return {
      jid,
      shard: s,
      fieldsInHash: Number(redis('HLEN', key)),
      stateJsonBytes: Number(redis('HSTRLEN', key, jid)),
      hashMemoryUsageBytes: Number(redis('MEMORY', 'USAGE', key, 'SAMPLES', '0')),
      // Occupants in their own hash since issue #15 item 2 (0 for rooms stored before).
      occupantsInHash: Number(redis('HLEN', occ)),
      occupantsMemoryUsageBytes: Number(redis('MEMORY', 'USAGE', occ, 'SAMPLES', '0')) || 0,
      historyEntries: Number(redis('LLEN', hist)),
      historyMemoryUsageBytes: Number(redis('MEMORY', 'USAGE', hist, 'SAMPLES', '0')) || 0,
    };
  }
  return null;
}

/**
 * Heap used (`nodejs_heap_size_used_bytes`, bytes) of each gateway and room worker, from the
 * Prometheus metrics each process writes to Redis every `metrics.publishMs` (up to that old).
 */
function heaps(): { key: string; heapUsedBytes: number; rssBytes: number }[] {
  const out: { key: string; heapUsedBytes: number; rssBytes: number }[] = [];
  for (const key of redis('--raw', 'SMEMBERS', keys.metricsIndex()).split('\n').filter(Boolean)) {
    const text = redis('--raw', 'GET', key);
    if (!text) continue;
    const metrics = JSON.parse(text) as { name: string; values: { value: number }[] }[];
    const value = (name: string) => metrics.find((m) => m.name === name)?.values[0]?.value ?? NaN;
    out.push({ key, heapUsedBytes: value('nodejs_heap_size_used_bytes'), rssBytes: value('process_resident_memory_bytes') });
  }
  return out;
}

/**
 * With `--snapshot-dir` (the cluster's working directory, its processes started with
 * NODE_OPTIONS=--heapsnapshot-signal=SIGUSR2): SIGUSR2 to every gateway and room worker, which
 * makes each run a full GC and write a heap snapshot there; waits until the snapshots are
 * complete and the processes have published their metrics again, so that the heap figures
 * sampled next are after a full GC (what the room really retains, not garbage).
 */
async function fullGc(): Promise<void> {
  const dir = values['snapshot-dir'];
  if (!dir) return;
  const list = () => readdirSync(dir).filter((f) => f.endsWith('.heapsnapshot'));
  const before = new Set(list());
  const targets = processes().filter((p) => p.role === 'gateway' || p.role === 'room-worker');
  for (const p of targets) process.kill(p.pid, 'SIGUSR2');
  const t0 = Date.now();
  let last = '';
  for (;;) {
    await new Promise((r) => setTimeout(r, 2000));
    const fresh = list().filter((f) => !before.has(f));
    const sizes = fresh.map((f) => statSync(`${dir}/${f}`).size).join(',');
    if (fresh.length >= targets.length && sizes === last) break;
    last = sizes;
    if (Date.now() - t0 > 300_000) throw new Error('heap snapshots not written after 300 s');
  }
  console.error(`[room-size] heap snapshots written in ${Date.now() - t0} ms`);
  await new Promise((r) => setTimeout(r, 6000)); // > metrics.publishMs (5 s default)
}

const scenario = await loadScenarioFile(values.scenario);
const samples: Record<string, unknown> = {};
const sample = (label: string) => {
  const info = redis('INFO', 'memory');
  const used = Number(/used_memory:(\d+)/.exec(info)?.[1] ?? NaN);
  samples[label] = { at: new Date().toISOString(), processes: processes(), heaps: heaps(), redisUsedMemory: used, room: room(scenario.rooms.namePrefix) };
  console.error(`[room-size] ${label}: ${JSON.stringify(samples[label])}`);
};

const result: LoadResult = await runScenario(scenario, {
  rate: values.rate ? Number(values.rate) : undefined,
  onPhase: async (phase) => {
    if (phase === 'join-owners' || phase === 'messaging') await fullGc();
    if (phase === 'login' || phase === 'join-owners' || phase === 'idle' || phase === 'messaging' || phase === 'drain') sample(phase);
  },
  onProgress: (p) => console.error(`[load] ${JSON.stringify(p)}`),
});
sample('after');
const summary = { ok: result.ok, reasons: result.reasons, phasesMs: result.phasesMs, clients: result.clients, joins: result.joins, messages: result.messages, errors: result.errors, generator: result.generator };
const out = { scenario: values.scenario, rate: values.rate ?? scenario.messages.ratePerSender, samples, summary };
if (values.out) writeFileSync(values.out, JSON.stringify({ ...out, result }, null, 2));
console.log(JSON.stringify(out, null, 2));
process.exit(result.ok ? 0 : 1);
