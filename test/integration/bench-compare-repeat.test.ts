/*
 * `pnpm bench:compare --repeat N` (issue #15, "keep the goal table honest"): with N runs per
 * cell the report gives the median and the range (min–max) of each figure, a step of a stepped
 * scenario passes when most of its runs pass, the goals are checked on the medians; one run
 * per cell prints exactly what it printed before, and the committed result files render as
 * they were committed. Synthetic run records only: no benchmark is run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, ranged, renderMarkdown, runPasses, stepPasses, summarize, unitCostTables, type RunRecord } from '../../bench/compare/lib/report.js';
import { fullPlan, type Kind } from '../../bench/compare/plan.js';
import type { ServerVariant } from '../../bench/compare/servers/server.js';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const compareTs = join(repoRoot, 'bench', 'compare', 'compare.ts');

const variant = (id: string): ServerVariant => ({ id, label: `${id} (synthetic)`, settings: [], start: async () => { throw new Error('unused'); } });
const ours = variant('parley-1g1w');
const ejabberd = variant('ejabberd');

interface Fig {
  server?: string;
  item: string;
  kind: Kind;
  rate?: number;
  run?: number;
  p50?: number;
  p99?: number;
  dps?: number;
  lost?: number;
  dup?: number;
  reasons?: string[];
  /** CPU seconds over the messaging window; deliveries = dps × 20 */
  cpu?: number;
  stormMs?: number;
  loginsPerSec?: number;
  /** idle: RSS growth per joined client, KiB (1,000 joined) */
  kib?: number;
  error?: string;
}

/** A run record with the fields the report reads, shaped like compare.ts writes them. */
function rec(f: Fig): RunRecord {
  const dps = f.dps ?? 0;
  const delivered = dps * 20;
  const reasons = f.reasons ?? [];
  const r = {
    server: f.server ?? ours.id,
    item: f.item,
    kind: f.kind,
    rate: f.rate,
    ...(f.run !== undefined ? { run: f.run } : {}),
    workDir: '/synthetic',
    startedAt: '2026-12-31T00:00:00Z',
  } as RunRecord;
  if (f.error) return { ...r, error: f.error };
  return {
    ...r,
    result: {
      ok: reasons.length === 0,
      reasons,
      generator: { saturated: false },
      joins: { stormMs: f.stormMs ?? null, stormClients: 500 },
      clients: { joined: 1000 },
      logins: { perSec: f.loginsPerSec ?? 0, count: 2000 },
      messages: { sent: delivered / 10, delivered, deliveriesPerSec: dps, lost: f.lost ?? 0, duplicates: f.dup ?? 0, latency: { p50Ms: f.p50 ?? 0, p99Ms: f.p99 ?? 0 } },
    },
    serverStats: {
      pids: 3,
      rssBeforeBytes: 100 * 2 ** 20,
      ...(f.kib !== undefined ? { rssIdleBytes: 100 * 2 ** 20 + 1000 * f.kib * 1024 } : {}),
      ...(f.cpu !== undefined ? { cpuMessagingSeconds: f.cpu, cpuMessagingByKind: { 'redis-server': f.cpu / 4, gateway: f.cpu / 2, 'room-worker': f.cpu / 4 } } : {}),
    },
  } as unknown as RunRecord;
}

const plan = fullPlan().filter((p) => ['ref-100x10', 'fixed-2000', 'fixed-16000', 'storm-500', 's1-idle-10000', 'logins-plain'].includes(p.id));
const meta = { startedAt: '2026-12-31T00:00:00Z', finishedAt: '2026-12-31T01:00:00Z', quick: false, machine: 'synthetic', servers: [ours, ejabberd].map((v) => ({ id: v.id, label: v.label, settings: v.settings })) };

/** Three runs of every cell: medians chosen so that a one-run reading of the worst run would miss goals the median meets. */
function threeRuns(): RunRecord[] {
  const runs: RunRecord[] = [];
  const three = (f: Fig, vary: Array<Partial<Fig>>) => vary.forEach((v, i) => runs.push(rec({ ...f, ...v, run: i + 1 })));
  // ref-100x10, parley: rate 2 all pass; rate 4 two of three pass; rate 8 one of three.
  three({ item: 'ref-100x10', kind: 'throughput', rate: 2, p50: 1, p99: 5, cpu: 4 }, [{ dps: 2000 }, { dps: 1990 }, { dps: 2010 }]);
  three({ item: 'ref-100x10', kind: 'throughput', rate: 4 }, [
    { dps: 4000, p50: 2, p99: 40, cpu: 16 },
    { dps: 3950, p50: 9, p99: 150, cpu: 20 },
    { dps: 4010, p50: 3, p99: 60, cpu: 12 },
  ]);
  three({ item: 'ref-100x10', kind: 'throughput', rate: 8, cpu: 40 }, [
    { dps: 8000, p50: 5, p99: 90 },
    { dps: 7000, p50: 30, p99: 300 },
    { dps: 7900, p50: 4, p99: 80, lost: 3 },
  ]);
  // ref-100x10, ejabberd: rate 2 passes, rate 4 fails in every run.
  three({ server: 'ejabberd', item: 'ref-100x10', kind: 'throughput', rate: 2, p50: 1, p99: 8, dps: 2000, cpu: 2 }, [{}, {}, {}]);
  three({ server: 'ejabberd', item: 'ref-100x10', kind: 'throughput', rate: 4, p50: 50, p99: 200, dps: 3000, cpu: 6 }, [{}, {}, {}]);
  // fixed-16000: p50 ≤ 2 and p99 ≤ 10 in the median run only.
  three({ item: 'fixed-16000', kind: 'fixed', rate: 16 }, [
    { dps: 16000, p50: 1.5, p99: 8, cpu: 64 },
    { dps: 15800, p50: 3.4, p99: 30, cpu: 96 },
    { dps: 16100, p50: 1.8, p99: 9.5, cpu: 48 },
  ]);
  three({ item: 'fixed-2000', kind: 'fixed', rate: 2, dps: 2000, cpu: 8 }, [{ p50: 1, p99: 3 }, { p50: 1.2, p99: 4 }, { p50: 0.9, p99: 2.5 }]);
  three({ server: 'ejabberd', item: 'fixed-2000', kind: 'fixed', rate: 2, dps: 2000, cpu: 4 }, [{ p50: 0.5, p99: 2 }, { p50: 0.6, p99: 3.5 }, { p50: 0.4, p99: 2.2 }]);
  three({ item: 'storm-500', kind: 'storm' }, [{ stormMs: 400 }, { stormMs: 900 }, { stormMs: 600 }]);
  three({ server: 'ejabberd', item: 'storm-500', kind: 'storm' }, [{ stormMs: 1200 }, { stormMs: 1000 }, { stormMs: 1100 }]);
  three({ item: 's1-idle-10000', kind: 'idle' }, [{ kib: 15 }, { kib: 18 }, { kib: 14 }]);
  three({ item: 'logins-plain', kind: 'logins' }, [{ loginsPerSec: 900 }, { loginsPerSec: 1100 }, { loginsPerSec: 1000 }]);
  return runs;
}

/** The first run of every cell and step, as a one-run invocation records it (no `run` index). */
function firstRuns(runs: readonly RunRecord[]): RunRecord[] {
  return runs.filter((r) => r.run === 1).map(({ run: _run, ...r }) => r);
}

test('median: the middle value, the mean of the middle two for an even count; ranged prints median (min–max) only with a range', () => {
  assert.equal(median([]), undefined);
  assert.equal(median([7]), 7);
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(ranged(2.43, { min: 2.1, max: 3 }, (n) => n.toFixed(2)), '2.43 (2.10–3.00)');
  assert.equal(ranged(2.43, undefined, (n) => n.toFixed(2)), '2.43');
  assert.equal(ranged(undefined, { min: 1, max: 2 }, String), '–');
});

test('step rule: a step passes when most of its runs pass; a run without a result, with loss or with p99 > 100 ms fails', () => {
  const ok = rec({ item: 'ref-100x10', kind: 'throughput', rate: 2, dps: 2000, p99: 100 });
  const slow = rec({ item: 'ref-100x10', kind: 'throughput', rate: 2, dps: 2000, p99: 100.5 });
  const lossy = rec({ item: 'ref-100x10', kind: 'throughput', rate: 2, dps: 2000, p99: 5, lost: 1 });
  const dup = rec({ item: 'ref-100x10', kind: 'throughput', rate: 2, dps: 2000, p99: 5, dup: 1 });
  const notOk = rec({ item: 'ref-100x10', kind: 'throughput', rate: 2, dps: 2000, p99: 5, reasons: ['3 clients failed to log in'] });
  const errored = rec({ item: 'ref-100x10', kind: 'throughput', rate: 2, error: 'server did not start' });
  assert.deepEqual([ok, slow, lossy, dup, notOk, errored].map(runPasses), [true, false, false, false, false, false]);
  assert.equal(stepPasses([ok]), true);
  assert.equal(stepPasses([slow]), false);
  assert.equal(stepPasses([ok, slow, ok]), true, '2 of 3');
  assert.equal(stepPasses([slow, ok, lossy]), false, '1 of 3');
  assert.equal(stepPasses([ok, ok, errored]), true, 'an errored run counts as failing, 2 of 3 still pass');
  assert.equal(stepPasses([ok, errored, errored]), false);
  assert.equal(stepPasses([ok, ok, dup, notOk, slow]), false, '2 of 5');
  assert.equal(stepPasses([ok, ok, ok, notOk, slow]), true, '3 of 5');
});

test('three runs per cell: medians and ranges in the results, the steps and the unit costs; saturation at the last step most runs passed', () => {
  const runs = threeRuns();
  const cells = summarize(runs, plan, [ours, ejabberd]);
  const get = (item: string, server = ours.id) => cells.find((c) => c.item === item && c.server === server)!;

  const ref = get('ref-100x10');
  assert.deepEqual(ref.steps!.map((s) => [s.rate, s.pass, s.passedRuns]), [[2, true, 3], [4, true, 2], [8, false, 1]]);
  assert.equal(ref.saturation, 4000, 'median deliveries/s of the rate-4 step (3,950, 4,000, 4,010)');
  assert.deepEqual(ref.spread?.deliveriesPerSec, { min: 3950, max: 4010 });
  assert.equal(ref.p99Ms, 60);
  assert.deepEqual(ref.spread?.p99Ms, { min: 40, max: 150 });
  assert.equal(ref.cpuSecPerMillion, 200, 'CPU-s per million: median of 200, 253.2, 149.6');
  const s8 = ref.steps![2]!;
  assert.equal(s8.lost, 3, 'a step\'s loss is the most any run lost');
  assert.equal(s8.note, '1 of 3 runs passed; p99 > 100 ms; loss');
  assert.ok(ref.notes.includes('stopped at 7900 deliveries/s: 1 of 3 runs passed; p99 > 100 ms; loss'), ref.notes.join(' | '));

  const f16 = get('fixed-16000');
  assert.equal(f16.p50Ms, 1.8);
  assert.deepEqual(f16.spread, { runs: 3, deliveriesPerSec: { min: 15800, max: 16100 }, p50Ms: { min: 1.5, max: 3.4 }, p99Ms: { min: 8, max: 30 }, cpuSecPerMillion: { min: 149.1, max: 303.8 } });
  assert.equal(get('storm-500').stormMs, 600);
  assert.deepEqual(get('storm-500').spread?.stormMs, { min: 400, max: 900 });
  assert.equal(get('s1-idle-10000').memPerClientKiB, 15);
  assert.equal(get('logins-plain').loginsPerSec, 1000);

  const md = renderMarkdown(meta, cells, plan, [ours, ejabberd]);
  assert.match(md, /Some cells were run several times \(`--repeat N`/);
  assert.ok(md.includes('| ref-100x10: saturation deliveries/s (p99 ≤ 100 ms) | 4,000 (3,950–4,010) | 2,000 (2,000–2,000) |'), md);
  assert.ok(md.includes('| ref-100x10: server CPU-s per million deliveries (at saturation) | 200 (149.6–253.2) | 50 (50–50) |'));
  assert.ok(md.includes('| fixed-16000: p50 ms | 1.80 (1.50–3.40) | – |'));
  assert.ok(md.includes('| fixed-16000: p99 ms | 9.50 (8.00–30.0) | – |'));
  assert.ok(md.includes('| storm-500: join-storm time, ms | 600 (400–900) | 1,100 (1,000–1,200) |'));
  assert.ok(md.includes('| s1-idle-10000: memory per joined client, KiB (all server processes) | 15.0 (14.0–18.0) | – |'));
  assert.ok(md.includes('| logins-plain: logins/s | 1,000 (900–1,100) | – |'));
  // Steps: every rate once, its runs summed up.
  assert.ok(md.includes('| parley-1g1w | 4 | 4,000 (3,950–4,010) | 3.00 (2.00–9.00) | 60.0 (40.0–150.0) | 0 | 0 | yes (2 of 3 runs passed; p99 > 100 ms) |'), md);
  assert.ok(md.includes('| parley-1g1w | 8 | 7,900 (7,000–8,000) | 5.00 (4.00–30.0) | 90.0 (80.0–300.0) | 3 | 0 | no (1 of 3 runs passed; p99 > 100 ms; loss) |'));
  assert.ok(md.includes('| parley-1g1w | 2 | 2,000 (1,990–2,010) | 1.00 (1.00–1.00) | 5.00 (5.00–5.00) | 0 | 0 | yes (3 of 3 runs passed) |'));
  assert.equal(md.split('\n').filter((l) => l.startsWith('| parley-1g1w | 4 |')).length, 1, 'one row per step, not per run');
  // Goals on the medians (the worst fixed-16000 run alone would miss them), with the ranges shown.
  assert.ok(md.includes('| at 16,000 deliveries/s: p50 ≤ 2 ms, p99 ≤ 10 ms | met | p50 1.80 (1.50–3.40) / p99 9.50 (8.00–30.0) ms |'), md);
  assert.ok(md.includes('| ref-100x10 saturation ≥ 1.5× ejabberd | met | 4,000 (3,950–4,010) vs ejabberd 2,000 (2,000–2,000) deliveries/s |'));
  assert.ok(md.includes("| join storm (storm-500) ≤ half of ejabberd's time | **missed** | 600 (400–900) ms vs ejabberd 1100 (1000–1200) ms |"), 'a 600 ms median storm is not half of 1,100 ms (its fastest run, 400 ms, would be)');
  assert.ok(md.includes('| memory ≤ 16 KiB per connected, joined client | met | 15 (14–18) KiB (s1-idle-10000) |'));
  assert.ok(md.includes("| at 2,000 deliveries/s: p50 and p99 ≤ ejabberd's + 1 ms | met | 1.00 (0.90–1.20) / 3.00 (2.50–4.00) ms vs ejabberd 0.50 (0.40–0.60) / 2.20 (2.00–3.50) ms |"));
  assert.ok(md.includes('| zero lost or duplicated messages in every run (below saturation) | met |'), 'the lossy rate-8 run is above saturation');

  const units = unitCostTables(cells, plan, [ours.id]).join('\n');
  assert.match(units, /Cells run several times: deliveries\/s and CPU-s\/M total are the median/);
  // fixed-16000: the run with the median CPU-s/M (64 s over 320,000) gives the deliveries and the per-kind columns.
  assert.ok(units.includes('| parley-1g1w | fixed-16000 | 320,000 (16,000 (15,800–16,100)) | 50.0 | 100.0 | 50.0 | 200.0 (149.1–303.8) |'), units);
});

test('a loss in one of three runs of a fixed load misses the goals that allow none, whatever the median', () => {
  const runs = threeRuns().map((r) => (r.item === 'fixed-16000' && r.run === 3 ? rec({ item: 'fixed-16000', kind: 'fixed', rate: 16, run: 3, dps: 16100, p50: 1.8, p99: 9.5, cpu: 48, lost: 2 }) : r));
  const md = renderMarkdown(meta, summarize(runs, plan, [ours, ejabberd]), plan, [ours, ejabberd]);
  assert.ok(md.includes('| fixed-16000: p99 ms | 9.50 (8.00–30.0) (lost 2) | – |'), md);
  assert.ok(md.includes('| at 16,000 deliveries/s: p50 ≤ 2 ms, p99 ≤ 10 ms | **missed** |'));
  assert.ok(md.includes('| zero lost or duplicated messages in every run (below saturation) | **missed** | fixed-16000 |'));
});

test('one run per cell: the report prints what it printed before --repeat (no ranges, no run counts, no repeat note)', () => {
  const cells = summarize(firstRuns(threeRuns()), plan, [ours, ejabberd]);
  assert.ok(cells.every((c) => c.spread === undefined && c.unit?.spread === undefined && (c.steps ?? []).every((s) => s.spread === undefined && s.passedRuns === undefined)));
  const md = renderMarkdown(meta, cells, plan, [ours, ejabberd]);
  assert.doesNotMatch(md, /--repeat|runs passed|–\d/);
  assert.ok(md.includes('Each step on a fresh server; the sender rate doubles until p99 > 100 ms or anything is lost.\n'));
  assert.ok(md.includes('| ref-100x10: saturation deliveries/s (p99 ≤ 100 ms) | 8,000 | 2,000 |'), md);
  assert.ok(md.includes('| parley-1g1w | 4 | 4,000 | 2.00 | 40.0 | 0 | 0 | yes |'));
  assert.ok(md.includes('| parley-1g1w | 8 | 8,000 | 5.00 | 90.0 | 0 | 0 | yes |'));
  assert.ok(md.includes('| ejabberd | 4 | 3,000 | 50.0 | 200.0 | 0 | 0 | no (p99 > 100 ms) |'));
  assert.ok(md.includes('| fixed-16000: p50 ms | 1.50 | – |'));
  assert.ok(md.includes('| at 16,000 deliveries/s: p50 ≤ 2 ms, p99 ≤ 10 ms | met | p50 1.50 / p99 8.00 ms |'));
  assert.ok(md.includes('| memory ≤ 16 KiB per connected, joined client | met | 15 KiB (s1-idle-10000) |'));
  assert.ok(unitCostTables(cells, plan, [ours.id]).includes('| parley-1g1w | fixed-16000 | 320,000 (16,000) | 50.0 | 100.0 | 50.0 | 200.0 | — | — | — | — |'));
});

/** Runs compare.ts with `args`; returns its exit status, stdout and stderr. */
function compare(args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', compareTs, ...args], { cwd: repoRoot, encoding: 'utf8' });
}

test('--report-only renders the committed 2026-12-07 results line for line as committed (the settings lines aside)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'compare-repeat-'));
  try {
    copyFileSync(join(repoRoot, 'bench', 'results', '2026-12-07.json'), join(dir, '2026-12-07.json'));
    const r = compare(['--report-only', '--date', '2026-12-07', '--out-dir', dir]);
    assert.equal(r.status, 0, r.stderr);
    // The settings lines come from today's variants (servers/*.ts), not from the JSON.
    const lines = (text: string) => text.split('\n').filter((l) => !l.startsWith('- **parley-'));
    assert.deepEqual(lines(readFileSync(join(dir, '2026-12-07.md'), 'utf8')), lines(readFileSync(join(repoRoot, 'bench', 'results', '2026-12-07.md'), 'utf8')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--report-only renders a result file with three runs per cell; --repeat takes only an odd number from 1 to 9', () => {
  const dir = mkdtempSync(join(tmpdir(), 'compare-repeat-'));
  try {
    writeFileSync(join(dir, '2026-12-31.json'), JSON.stringify({ startedAt: meta.startedAt, finishedAt: meta.finishedAt, quick: false, machine: 'synthetic', runs: threeRuns() }));
    const r = compare(['--report-only', '--date', '2026-12-31', '--out-dir', dir]);
    assert.equal(r.status, 0, r.stderr);
    const md = readFileSync(join(dir, '2026-12-31.md'), 'utf8');
    assert.ok(md.includes('| fixed-16000: p50 ms | 1.80 (1.50–3.40) | – |'), md);
    const saved = JSON.parse(readFileSync(join(dir, '2026-12-31.json'), 'utf8')) as { runs: RunRecord[] };
    assert.equal(saved.runs.length, threeRuns().length, 'every run kept');
    assert.deepEqual([...new Set(saved.runs.map((x) => x.run))], [1, 2, 3]);
    for (const bad of ['0', '2', '4', '11', 'x', '3.0', '-1', '']) {
      const b = compare([`--repeat=${bad}`, '--report-only', '--date', '2026-12-31', '--out-dir', dir]);
      assert.equal(b.status, 2, `--repeat ${JSON.stringify(bad)}`);
      assert.match(b.stderr, /--repeat wants an odd whole number from 1 to 9/);
    }
    const help = compare(['--help']);
    assert.match(help.stderr, /--repeat N +run every cell/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
