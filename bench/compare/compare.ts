#!/usr/bin/env node
/**
 * `pnpm bench:compare [--quick] [--servers a,b] [--scenarios x,y] [--repeat N] [--out-dir DIR] [--merge] [--keep]`
 *
 * The side-by-side benchmark of issue #5: on this machine, in one run, each server in turn
 * (parley in two layouts, Prosody 0.12 stock and with generational GC, ejabberd 23.01),
 * each run on a fresh private instance with equivalent settings (servers/*.ts), the same
 * scenarios (plan.ts) through the same load generator (@parley/loadgen, one process per run:
 * run-load.ts). Writes bench/results/<date>.json (every raw result) and <date>.md (the
 * table, our ratios to each peer, the goals), and prints the table. `--quick` runs the same
 * kinds at tiny scale (results named <date>-quick.*). The files are rewritten after each
 * server, so an interrupted run keeps what it measured; `--merge` keeps the runs of other
 * servers (and scenarios) already in that day's file, so one server can be re-run alone.
 * `--report-only [--date YYYY-MM-DD]` runs nothing: it renders that day's JSON again as
 * Markdown (after a change to the report). `--repeat N` (N odd, 1–9, default 1) runs every
 * cell N times, each on a fresh server; a stepped scenario runs each step N times and goes on
 * while most of a step's runs pass (report.ts `stepPasses`); the tables give the median and
 * the range (min–max) of each figure, and the goals are checked on the medians.
 *
 * Exit code 0 when every run completed (whatever the numbers), 1 when a server could not be
 * started or the generator failed, 2 for bad arguments.
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LoadResult } from '../../packages/loadgen/src/index.js';
import { ensureDebianPackages, foreignServers } from './lib/debian.js';
import { sample, type ProcSample } from './lib/proc.js';
import { windowOf, type RedisCounters } from './lib/redis-stats.js';
import { probe, registerInBand } from './lib/xmpp-mini.js';
import { renderMarkdown, stepPasses, summarize, type RunRecord } from './lib/report.js';
import { deliveriesPerUnitRate, fullPlan, quickPlan, type PlanItem, type Shape } from './plan.js';
import { ejabberd } from './servers/ejabberd.js';
import { parley } from './servers/parley.js';
import { prosodyGenerational, prosodyStock } from './servers/prosody.js';
import type { AuthMode, RunningServer, ServerVariant } from './servers/server.js';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = join(here, '..', '..');

/**
 * Every server the comparison knows. parley's "best on 2 cores" layout is 1 gateway + 1 room
 * worker: with 2 cores shared by Redis and the generator, more Node processes only add
 * context switches and Redis round trips (see bench/compare/README.md for the trial).
 */
const VARIANTS: ServerVariant[] = [
  parley(1, 1, 'best on 2 cores'),
  parley(2, 2),
  parley(4, 4),
  prosodyStock,
  prosodyGenerational,
  ejabberd,
];

const say = (msg: string) => process.stderr.write(`[compare] ${msg}\n`);

function usage(msg?: string): never {
  if (msg) process.stderr.write(`${msg}\n`);
  process.stderr.write(
    `usage: pnpm bench:compare [--quick] [--servers ${VARIANTS.map((v) => v.id).join(',')}] [--scenarios ${fullPlan()
      .map((p) => p.id)
      .join(',')}] [--repeat N] [--out-dir DIR] [--merge] [--keep] | --report-only [--date YYYY-MM-DD] [--quick]\n` +
      `  --repeat N  run every cell (server × scenario; each step of a stepped scenario) N times, each on a fresh server;\n` +
      `              N odd, ${MIN_REPEAT}–${MAX_REPEAT}, default 1. A step passes when most of its runs pass (p99 ≤ 100 ms, nothing lost or duplicated);\n` +
      `              the tables show median (min–max) over the runs and the goals are checked on the medians (bench/compare/README.md)\n`,
  );
  process.exit(2);
}

/** `--repeat` bounds: runs per cell (odd, so that the median is one of the runs). */
const MIN_REPEAT = 1;
const MAX_REPEAT = 9;

/** `--repeat`'s value: an odd whole number from MIN_REPEAT to MAX_REPEAT (default 1); anything else is a usage error (exit 2). */
function parseRepeat(text: string | undefined): number {
  if (text === undefined) return 1;
  const n = /^\d{1,2}$/.test(text) ? Number(text) : NaN;
  if (!(n >= MIN_REPEAT && n <= MAX_REPEAT && n % 2 === 1)) usage(`--repeat wants an odd whole number from ${MIN_REPEAT} to ${MAX_REPEAT} (runs per cell; odd so that the median is one of the runs), got ${JSON.stringify(text)}`);
  return n;
}

/** The scenario of one run: the plan's shape, the server's targets, the rate. */
function scenarioFor(item: PlanItem, server: RunningServer, rate: number | undefined): Record<string, unknown> {
  const base = item.shape as unknown as Record<string, unknown>;
  const s: Record<string, unknown> = { ...base, targets: server.targets, domain: server.domain, mucService: server.mucDomain };
  if (rate !== undefined) s.messages = { ...(base.messages as object), ratePerSender: rate };
  return s;
}

function accountNames(s: Record<string, unknown>): { usernames: string[]; password: string } {
  const a = s.accounts as { prefix?: string; count: number; password?: string };
  return { usernames: Array.from({ length: a.count }, (_, i) => `${a.prefix ?? 'load'}${i}`), password: a.password ?? 'password' };
}

interface Samples {
  before?: ProcSample;
  /** at the start of each phase (after the `idle` settle for `idle`) */
  phases: Record<string, ProcSample>;
  end?: ProcSample;
  /** the server's Redis counters (parley) at the same instants */
  redisBefore?: RedisCounters;
  redisPhases: Record<string, RedisCounters>;
  redisEnd?: RedisCounters;
}

/** Runs the generator in its own process against `server`, sampling the server at each phase. */
async function runGenerator(scenarioFile: string, outFile: string, server: RunningServer, samples: Samples, logFile: string): Promise<LoadResult> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'run-load.ts'), scenarioFile, outFile], { cwd: repoRoot, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const lines: string[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    lines.push(line);
    const m = /^PHASE (\S+)/.exec(line);
    if (!m) return;
    const phase = m[1]!;
    void (async () => {
      if (phase === 'idle') {
        // Let the server settle (GC, buffers), then take the median of three samples.
        await sleep(1500);
        const three: ProcSample[] = [];
        for (let i = 0; i < 3; i++) {
          three.push(sample(server.pids()));
          await sleep(300);
        }
        three.sort((a, b) => a.rssBytes - b.rssBytes);
        samples.phases[phase] = three[1]!;
      } else {
        samples.phases[phase] = sample(server.pids());
      }
      const rc = server.redisCounters?.();
      if (rc) samples.redisPhases[phase] = rc;
      child.stdin!.write('go\n');
    })();
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  samples.end = sample(server.pids());
  samples.redisEnd = server.redisCounters?.();
  writeFileSync(logFile, `${lines.join('\n')}\n${stderr}`);
  if (code !== 0 || !existsSync(outFile)) throw new Error(`load generator failed (exit ${code}): ${stderr.trim().split('\n').slice(-5).join(' | ')}`);
  return JSON.parse(readFileSync(outFile, 'utf8')) as LoadResult;
}

/**
 * The per-kind figures of the measured window (messaging start → close, as cpuMessagingSeconds):
 * CPU seconds per process kind and Redis's commands and bytes; for idle runs, RSS per kind and
 * Redis's used_memory before the generator and while idle.
 */
function windowStats(samples: Samples): Partial<NonNullable<RunRecord['serverStats']>> {
  const from = samples.phases.messaging;
  const to = samples.phases.close ?? samples.end;
  const out: Partial<NonNullable<RunRecord['serverStats']>> = {};
  if (from && to) {
    const kinds = [...new Set([...Object.keys(from.cpuByKind), ...Object.keys(to.cpuByKind)])].sort();
    out.cpuMessagingByKind = Object.fromEntries(kinds.map((k) => [k, Math.round(((to.cpuByKind[k] ?? 0) - (from.cpuByKind[k] ?? 0)) * 100) / 100]));
  }
  const rFrom = samples.redisPhases.messaging;
  const rTo = samples.redisPhases.close ?? samples.redisEnd;
  if (rFrom && rTo) out.redisMessaging = windowOf(rFrom, rTo);
  if (samples.before) out.rssBeforeByKind = samples.before.rssByKind;
  if (samples.phases.idle) out.rssIdleByKind = samples.phases.idle.rssByKind;
  if (samples.redisBefore) out.redisUsedMemoryBeforeBytes = samples.redisBefore.usedMemoryBytes;
  if (samples.redisPhases.idle) out.redisUsedMemoryIdleBytes = samples.redisPhases.idle.usedMemoryBytes;
  return out;
}

let runCounter = 0;

/**
 * One run: a fresh server, a probe, accounts if needed, the generator, the server stopped.
 * `run`: its 1-based index among the `--repeat` runs of its cell or step (undefined: one run).
 */
async function runOnce(variant: ServerVariant, item: PlanItem, rate: number | undefined, root: string, run?: number): Promise<RunRecord> {
  const n = ++runCounter;
  const workDir = join(root, `${String(n).padStart(3, '0')}-${variant.id}-${item.id}${rate !== undefined ? `-r${rate}` : ''}${run !== undefined ? `-k${run}` : ''}`);
  mkdirSync(workDir, { recursive: true });
  const auth: AuthMode = item.kind === 'logins' ? 'accounts' : 'open';
  const record: RunRecord = { server: variant.id, item: item.id, kind: item.kind, rate, ...(run !== undefined ? { run } : {}), workDir, startedAt: new Date().toISOString() };
  // Accounts are named by the scenario; compute them from a placeholder target first.
  const pre = scenarioFor(item, { id: '', targets: ['127.0.0.1:1'], domain: 'localhost', mucDomain: 'conference.localhost', pids: () => [], stop: async () => undefined }, rate);
  const accounts = auth === 'accounts' ? accountNames(pre) : undefined;
  let server: RunningServer | undefined;
  try {
    server = await variant.start({ workDir, historyLength: 0, auth, accounts, log: say });
    if (accounts && !variant.id.startsWith('parley')) {
      const t0 = Date.now();
      await registerInBand(server.targets[0]!, server.domain, accounts.usernames, accounts.password);
      say(`${variant.id}: ${accounts.usernames.length} accounts registered in-band in ${Date.now() - t0} ms`);
    }
    // Check the instance serves what the run needs (login, room, echo) before measuring.
    record.probeMs = await probe(server.targets[0]!, server.domain, server.mucDomain, accounts ? accounts.usernames[0] : 'probe', accounts ? accounts.password : 'probe');
    await sleep(1000);
    const scenario = scenarioFor(item, server, rate);
    const scenarioFile = join(workDir, 'scenario.json');
    writeFileSync(scenarioFile, `${JSON.stringify(scenario, null, 2)}\n`);
    const samples: Samples = { phases: {}, redisPhases: {} };
    samples.before = sample(server.pids());
    samples.redisBefore = server.redisCounters?.();
    const result = await runGenerator(scenarioFile, join(workDir, 'result.json'), server, samples, join(workDir, 'generator.log'));
    record.result = result;
    record.serverStats = {
      pids: samples.before.pids.length,
      rssBeforeBytes: samples.before.rssBytes,
      rssIdleBytes: samples.phases.idle?.rssBytes,
      rssEndBytes: samples.end?.rssBytes,
      cpuMessagingSeconds:
        samples.phases.messaging && (samples.phases.close ?? samples.end) ? (samples.phases.close ?? samples.end)!.cpuSeconds - samples.phases.messaging.cpuSeconds : undefined,
      cpuRunSeconds: samples.end ? samples.end.cpuSeconds - samples.before.cpuSeconds : undefined,
      ...windowStats(samples),
    };
    const m = result.messages;
    say(
      `${variant.id} ${item.id}${rate !== undefined ? ` rate ${rate}/s/sender` : ''}${run !== undefined ? ` run ${run}` : ''}: ${result.ok ? 'ok' : `NOT OK (${result.reasons.join('; ')})`}` +
        (m.sent > 0 ? `; ${m.deliveriesPerSec} deliveries/s, p50 ${m.latency.p50Ms} p99 ${m.latency.p99Ms} ms, lost ${m.lost}, dup ${m.duplicates}` : '') +
        (result.joins.stormMs !== null ? `; storm ${result.joins.stormMs} ms` : '') +
        (item.kind === 'logins' ? `; ${result.logins.perSec} logins/s` : ''),
    );
  } catch (err) {
    record.error = (err as Error).message;
    say(`${variant.id} ${item.id}: FAILED: ${record.error}`);
  } finally {
    await server?.stop();
    record.finishedAt = new Date().toISOString();
  }
  return record;
}

/** Rate per sender that gives `deliveries`/s with this shape. */
function rateFor(shape: Shape, deliveries: number): number {
  return deliveries / deliveriesPerUnitRate(shape);
}

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs({
      options: {
        quick: { type: 'boolean', default: false },
        servers: { type: 'string' },
        scenarios: { type: 'string' },
        'out-dir': { type: 'string', default: join(repoRoot, 'bench', 'results') },
        keep: { type: 'boolean', default: false },
        merge: { type: 'boolean', default: false },
        'report-only': { type: 'boolean', default: false },
        date: { type: 'string' },
        repeat: { type: 'string' },
        help: { type: 'boolean', default: false },
      },
    }).values;
  } catch (err) {
    usage((err as Error).message);
  }
  if (args.help) usage();
  const repeat = parseRepeat(args.repeat);
  const plan = args.quick ? quickPlan() : fullPlan();
  const pick = <T extends { id: string }>(all: T[], list: string | undefined, what: string): T[] => {
    if (!list) return all;
    const ids = list.split(',').map((s) => s.trim()).filter(Boolean);
    const unknown = ids.filter((id) => !all.some((x) => x.id === id));
    if (unknown.length) usage(`unknown ${what}: ${unknown.join(', ')} (known: ${all.map((x) => x.id).join(', ')})`);
    return all.filter((x) => ids.includes(x.id));
  };
  const variants = pick(VARIANTS, args.servers, 'server');
  const items = pick(plan, args.scenarios, 'scenario');
  if (args['report-only']) {
    const date = args.date ?? new Date().toISOString().slice(0, 10);
    if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) usage(`--date wants YYYY-MM-DD, got ${date}`);
    const base = join(args['out-dir'], `${date}${args.quick ? '-quick' : ''}`);
    if (!existsSync(`${base}.json`)) usage(`no ${base}.json to render`);
    const saved = JSON.parse(readFileSync(`${base}.json`, 'utf8')) as { startedAt: string; finishedAt: string; quick: boolean; machine: string; runs: RunRecord[]; servers?: SavedServer[] };
    const md = writeResults(base, saved.runs, plan, { startedAt: saved.startedAt, finishedAt: saved.finishedAt, quick: saved.quick, machine: saved.machine }, saved.servers);
    process.stdout.write(`${md}\n`);
    return 0;
  }

  const pkgs = [...new Set(variants.flatMap((v) => (v.id.startsWith('prosody') ? ['prosody'] : v.id === 'ejabberd' ? ['ejabberd'] : ['redis-server'])))];
  ensureDebianPackages(pkgs, say);
  for (const f of foreignServers()) say(`note: a system-wide server is running and shares the CPU: ${f}`);
  if (!existsSync(join(repoRoot, 'packages', 'loadgen', 'dist', 'index.js'))) throw new Error('packages/loadgen/dist is missing: run `node scripts/bootstrap.mjs` (the build)');

  const root = mkdtempSync(join(tmpdir(), 'parley-bench-compare-'));
  // Prosody and ejabberd run as their own users: they must reach their work directories.
  chmodSync(root, 0o755);
  say(`work directory ${root}; ${variants.length} servers × ${items.length} scenarios${repeat > 1 ? `, ${repeat} runs each` : ''}${args.quick ? ' (quick)' : ''}`);
  const started = new Date();
  const date = started.toISOString().slice(0, 10);
  const base = join(args['out-dir'], `${date}${args.quick ? '-quick' : ''}`);
  mkdirSync(args['out-dir'], { recursive: true });
  const previous = args.merge ? previousRuns(`${base}.json`, variants, items) : { runs: [], startedAt: undefined, servers: [] };
  if (previous.runs.length) say(`merging ${previous.runs.length} earlier runs from ${base}.json`);
  const records: RunRecord[] = [];
  const write = () =>
    writeResults(base, [...previous.runs, ...records], plan, {
      startedAt: previous.startedAt ?? started.toISOString(),
      finishedAt: new Date().toISOString(),
      quick: args.quick,
      machine: machineLine(),
    }, previous.servers.filter((s) => !variants.some((v) => v.id === s.id)));
  for (const v of variants) {
    say(`=== ${v.label}`);
    /** The `repeat` runs of one cell or step, each recorded; returns them. */
    const runCell = async (item: PlanItem, rate: number | undefined): Promise<RunRecord[]> => {
      const made: RunRecord[] = [];
      for (let k = 1; k <= repeat; k++) {
        const r = await runOnce(v, item, rate, root, repeat > 1 ? k : undefined);
        records.push(r);
        made.push(r);
      }
      return made;
    };
    for (const item of items) {
      if (item.kind === 'throughput') {
        let rate = item.startRate ?? 1;
        for (let step = 0; step < (item.maxSteps ?? 6); step++, rate *= 2) {
          const runs = await runCell(item, rate);
          if (!stepPasses(runs)) break;
        }
      } else if (item.kind === 'fixed') {
        await runCell(item, rateFor(item.shape, item.deliveriesPerSec ?? 2000));
      } else {
        await runCell(item, undefined);
      }
    }
    write();
    say(`${v.id} done; wrote ${base}.json and ${base}.md`);
  }
  process.stdout.write(`${write()}\n`);
  if (!args.keep) rmSync(root, { recursive: true, force: true });
  else say(`kept ${root}`);
  return records.some((r) => r.error !== undefined) ? 1 : 0;
}

/**
 * Writes `<base>.json` (meta, summary, every run) and `<base>.md` (the table) for `runs`,
 * over the servers and plan items they cover; returns the Markdown.
 */
/** A server as a result file records it (its label names the version that ran). */
interface SavedServer {
  id: string;
  label: string;
}

/**
 * Writes `<base>.json` and `<base>.md` for `runs`. A server's label comes from `recorded` when
 * its runs were read from a result file (`--report-only`, the earlier runs of `--merge`): the
 * label names the version that ran (ejabberd's from dpkg), which need not be installed now.
 */
function writeResults(base: string, runs: RunRecord[], plan: readonly PlanItem[], meta0: { startedAt: string; finishedAt: string; quick: boolean; machine: string }, recorded: readonly SavedServer[] = []): string {
  const ran = VARIANTS.filter((v) => runs.some((r) => r.server === v.id));
  const planned = plan.filter((p) => runs.some((r) => r.item === p.id));
  const summary = summarize(runs, planned, ran);
  const label = (v: ServerVariant) => recorded.find((s) => s.id === v.id)?.label ?? v.label;
  const meta = { ...meta0, servers: ran.map((v) => ({ id: v.id, label: label(v), settings: v.settings })), plan: planned };
  writeFileSync(`${base}.json`, `${JSON.stringify({ ...meta, summary, runs }, null, 2)}\n`);
  const md = renderMarkdown(meta, summary, planned, ran);
  writeFileSync(`${base}.md`, md);
  return md;
}

/**
 * The runs of an earlier result file that this run does not replace: every run of a server
 * not run now, and every run of a scenario not run now. Throws when the file is unreadable.
 */
function previousRuns(file: string, variants: readonly ServerVariant[], items: readonly PlanItem[]): { runs: RunRecord[]; startedAt: string | undefined; servers: SavedServer[] } {
  if (!existsSync(file)) return { runs: [], startedAt: undefined, servers: [] };
  const old = JSON.parse(readFileSync(file, 'utf8')) as { startedAt?: string; runs?: RunRecord[]; servers?: SavedServer[] };
  const now = (r: RunRecord) => variants.some((v) => v.id === r.server) && items.some((i) => i.id === r.item);
  return { runs: (old.runs ?? []).filter((r) => !now(r)), startedAt: old.startedAt, servers: old.servers ?? [] };
}

function machineLine(): string {
  let cpu = 'unknown CPU';
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    cpu = /model name\s*:\s*(.*)/.exec(info)?.[1] ?? cpu;
  } catch {
    // not Linux
  }
  return `${availableParallelism()} vCPU ${cpu}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.versions.node}; generator and server share the machine`;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    say(`failed: ${(err as Error).stack ?? String(err)}`);
    process.exit(1);
  },
);
