// From raw runs to figures per scenario and server, our ratios to each peer, the issue #5
// goals, and the Markdown table.
import type { LoadResult } from '../../../packages/loadgen/src/index.js';
import type { Kind, PlanItem } from '../plan.js';
import type { ServerVariant } from '../servers/server.js';
import type { RedisWindow } from './redis-stats.js';

/** One run of the generator against one fresh server instance. */
export interface RunRecord {
  server: string;
  item: string;
  kind: Kind;
  /** messages/s per sender (throughput and fixed runs) */
  rate?: number;
  /** 1-based index of this run among the `--repeat N` runs of its cell (or step); absent when each cell ran once, as in files before `--repeat` */
  run?: number;
  workDir: string;
  startedAt: string;
  finishedAt?: string;
  /** the pre-run check (login, room, echo), ms */
  probeMs?: number;
  result?: LoadResult;
  /** the server's processes, from /proc */
  serverStats?: {
    pids: number;
    rssBeforeBytes: number;
    /** median of three samples 1.5 s into the idle phase */
    rssIdleBytes?: number;
    rssEndBytes?: number;
    /** CPU seconds from the start of messaging (warm-up included) to the end of the drain */
    cpuMessagingSeconds?: number;
    cpuRunSeconds?: number;
    /** cpuMessagingSeconds split by process kind (lib/proc.ts processKind); absent in runs before 2026-12-07 */
    cpuMessagingByKind?: Record<string, number>;
    /** the server's Redis over the same window (parley; lib/redis-stats.ts); absent before 2026-12-07 */
    redisMessaging?: RedisWindow;
    /** RSS per process kind before the generator and while idle (median sample), bytes */
    rssBeforeByKind?: Record<string, number>;
    rssIdleByKind?: Record<string, number>;
    /** Redis used_memory before the generator and while idle, bytes */
    redisUsedMemoryBeforeBytes?: number;
    redisUsedMemoryIdleBytes?: number;
  };
  /** why the run could not be made (server did not start, generator failed) */
  error?: string;
}

/** The least and the greatest value of one figure over the runs of a cell or step. */
export interface Range {
  min: number;
  max: number;
}

/**
 * With several runs of one cell or step (`--repeat N`): how many runs have a result, and the
 * range over them of each figure the cell or step gives as a median. Absent with one run.
 */
export interface Spread {
  runs: number;
  deliveriesPerSec?: Range;
  p50Ms?: Range;
  p99Ms?: Range;
  cpuSecPerMillion?: Range;
  stormMs?: Range;
  memPerClientKiB?: Range;
  loginsPerSec?: Range;
}

type SpreadKey = Exclude<keyof Spread, 'runs'>;

/**
 * One rate of a stepped scenario. With several runs at that rate: deliveries/s, p50 and p99 are
 * medians over the runs with a result, lost and duplicates the most any run had, `pass` is
 * `stepPasses` over every run of the step, and `note` says how many runs passed.
 */
export interface Step {
  rate: number;
  deliveriesPerSec: number;
  p50Ms: number;
  p99Ms: number;
  lost: number;
  duplicates: number;
  pass: boolean;
  note?: string;
  /** several runs: how many passed (`runPasses`) */
  passedRuns?: number;
  spread?: Spread;
}

/** The figures of one scenario on one server. */
export interface Cell {
  server: string;
  item: string;
  kind: Kind;
  /** throughput: best deliveries/s with p99 ≤ 100 ms and nothing lost (null: no step passed) */
  saturation?: number | null;
  steps?: Step[];
  deliveriesPerSec?: number;
  p50Ms?: number;
  p99Ms?: number;
  lost?: number;
  duplicates?: number;
  stormMs?: number | null;
  stormClients?: number;
  memPerClientKiB?: number;
  clients?: number;
  cpuSecPerMillion?: number;
  loginsPerSec?: number;
  /** fixed and throughput (at saturation): unit costs of the measured window (runs from 2026-12-07 on) */
  unit?: UnitCosts;
  /** idle: RSS growth per joined client by process kind, KiB, and Redis used_memory growth per client, bytes */
  memPerClientByKindKiB?: Record<string, number>;
  redisUsedMemoryPerClientBytes?: number;
  generatorSaturated?: boolean;
  /** fixed, storm, idle, logins: the run completed but not cleanly (failures, loss); its figure gets no ratio */
  notOk?: boolean;
  /**
   * Several runs (`--repeat N`; throughput: at the saturation step): the figures above are medians
   * over the runs (lost and duplicates: the most any run had) and this gives their ranges
   */
  spread?: Spread;
  notes: string[];
}

const round = (n: number, d = 2) => Math.round(n * 10 ** d) / 10 ** d;

/** What a delivery cost over one run's measured window (messaging start → end of drain). */
export interface UnitCosts {
  deliveries: number;
  /** deliveries/s of that run */
  deliveriesPerSec: number;
  /** CPU seconds per million deliveries, all processes */
  cpuSecPerMillion?: number;
  /** stepped scenarios where no step passed: the costs are those of the last step run */
  ofFailedStep?: boolean;
  /** CPU seconds per million deliveries by process kind (redis-server, gateway, room-worker, …) */
  cpuSecPerMillionByKind?: Record<string, number>;
  /** Redis per delivery: commands, bytes received and sent, µs inside commands */
  redisCommandsPerDelivery?: number;
  redisInBytesPerDelivery?: number;
  redisOutBytesPerDelivery?: number;
  redisCommandUsecPerDelivery?: number;
  /** Redis commands per second of redis-server CPU over the window: what one single-threaded shard serves at this command mix */
  redisCommandsPerCpuSecond?: number;
  /** the commands with most calls: calls per delivery, µs per call */
  redisTop?: Array<{ command: string; callsPerDelivery: number; usecPerCall: number }>;
  /**
   * Several runs: deliveriesPerSec and cpuSecPerMillion are medians over them (ranges here);
   * every other field is that of the run with the median CPU-s per million (`unitOf`)
   */
  spread?: Spread;
}

function unitCosts(r: RunRecord): UnitCosts | undefined {
  const s = r.serverStats;
  const deliveries = r.result?.messages.delivered ?? 0;
  if (!s || deliveries <= 0 || (!s.cpuMessagingByKind && !s.redisMessaging)) return undefined;
  const u: UnitCosts = { deliveries, deliveriesPerSec: r.result!.messages.deliveriesPerSec, cpuSecPerMillion: cpuPerMillion(r) };
  if (s.cpuMessagingByKind) u.cpuSecPerMillionByKind = Object.fromEntries(Object.entries(s.cpuMessagingByKind).map(([k, v]) => [k, round((v / deliveries) * 1e6, 1)]));
  const w = s.redisMessaging;
  if (w) {
    u.redisCommandsPerDelivery = round(w.commands / deliveries, 3);
    u.redisInBytesPerDelivery = round(w.netInputBytes / deliveries, 1);
    u.redisOutBytesPerDelivery = round(w.netOutputBytes / deliveries, 1);
    u.redisCommandUsecPerDelivery = round(w.commandUsec / deliveries, 3);
    const redisCpu = s.cpuMessagingByKind?.['redis-server'];
    if (redisCpu !== undefined && redisCpu > 0) u.redisCommandsPerCpuSecond = Math.round(w.commands / redisCpu);
    u.redisTop = w.top.slice(0, 5).map((t) => ({ command: t.command, callsPerDelivery: round(t.calls / deliveries, 3), usecPerCall: round(t.usec / Math.max(1, t.calls), 2) }));
  }
  return u;
}

function cpuPerMillion(r: RunRecord): number | undefined {
  const cpu = r.serverStats?.cpuMessagingSeconds;
  const delivered = r.result?.messages.delivered ?? 0;
  return cpu !== undefined && delivered > 0 ? round((cpu / delivered) * 1e6, 1) : undefined;
}

/** The median of `xs` (the mean of the two middle values when their number is even); undefined for none. */
export function median(xs: readonly number[]): number | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : round((s[m - 1]! + s[m]!) / 2, 3);
}

/**
 * The median over `runs` of the figure `of` reads (runs where it is undefined are left out), and
 * its min–max in `spread[key]` when `spread` is given (several runs) and some run has it.
 */
function medianOf(runs: readonly RunRecord[], key: SpreadKey, of: (r: RunRecord) => number | undefined, spread: Spread | undefined): number | undefined {
  const xs = runs.map(of).filter((x): x is number => x !== undefined);
  if (spread && xs.length) spread[key] = { min: Math.min(...xs), max: Math.max(...xs) };
  return median(xs);
}

/** The run whose figure `of` is the median (the lower of the middle two of an even number); the first run when none has it. `runs` is not empty. */
function medianRun(runs: readonly RunRecord[], of: (r: RunRecord) => number | undefined): RunRecord {
  const has = runs.filter((r) => of(r) !== undefined).sort((a, b) => of(a)! - of(b)!);
  return has[(has.length - 1) >> 1] ?? runs[0]!;
}

/**
 * The unit costs of a cell or step from its runs with a result: one run's as `unitCosts`; with
 * several, those of the run with the median CPU-s per million, with deliveries/s and CPU-s per
 * million replaced by their medians over every run that has unit costs, ranges in `spread`.
 */
function unitOf(runs: readonly RunRecord[]): UnitCosts | undefined {
  const costed = runs.filter((r) => unitCosts(r) !== undefined);
  if (costed.length <= 1) return runs.length === 1 ? unitCosts(runs[0]!) : costed[0] && unitCosts(costed[0]);
  const spread: Spread = { runs: costed.length };
  const deliveriesPerSec = medianOf(costed, 'deliveriesPerSec', (r) => r.result!.messages.deliveriesPerSec, spread)!;
  const cpuSecPerMillion = medianOf(costed, 'cpuSecPerMillion', cpuPerMillion, spread);
  return { ...unitCosts(medianRun(costed, cpuPerMillion))!, deliveriesPerSec, cpuSecPerMillion, spread };
}

/** The message figures of runs at one rate (a fixed cell, a step): medians of deliveries/s, p50, p99 and CPU-s per million, the most lost and duplicated. `done`: runs with a result, not empty. */
function rateFigures(done: readonly RunRecord[]): { deliveriesPerSec: number; p50Ms: number; p99Ms: number; lost: number; duplicates: number; cpuSecPerMillion: number | undefined; spread: Spread | undefined } {
  const spread: Spread | undefined = done.length > 1 ? { runs: done.length } : undefined;
  const m = (r: RunRecord) => r.result!.messages;
  return {
    deliveriesPerSec: medianOf(done, 'deliveriesPerSec', (r) => m(r).deliveriesPerSec, spread)!,
    p50Ms: medianOf(done, 'p50Ms', (r) => m(r).latency.p50Ms, spread)!,
    p99Ms: medianOf(done, 'p99Ms', (r) => m(r).latency.p99Ms, spread)!,
    lost: Math.max(...done.map((r) => m(r).lost)),
    duplicates: Math.max(...done.map((r) => m(r).duplicates)),
    cpuSecPerMillion: medianOf(done, 'cpuSecPerMillion', cpuPerMillion, spread),
    spread,
  };
}

/** Whether one run passes its step: it has a result that is ok, with nothing lost or duplicated and p99 ≤ 100 ms. */
export function runPasses(r: RunRecord): boolean {
  const res = r.result;
  return res !== undefined && res.ok && res.messages.lost === 0 && res.messages.duplicates === 0 && res.messages.latency.p99Ms <= 100;
}

/**
 * Whether a step of a stepped scenario passes, from every run made at its rate (a run without a
 * result fails): when more than half of them pass (`runPasses`). With an odd number of runs
 * (`--repeat` allows only that) this is "the median run passes", runs ordered by p99 with every
 * failing run after the passing ones; with one run, that run passes. Compare.ts stops stepping
 * at the first step that does not pass; the report marks steps with the same rule.
 */
export function stepPasses(runs: readonly RunRecord[]): boolean {
  return runs.filter(runPasses).length * 2 > runs.length;
}

/** Why a run did not pass its step, in a few words. */
function failureOf(r: RunRecord): string {
  const res = r.result;
  if (!res) return r.error ?? 'no result';
  if (!res.ok) return res.reasons.join('; ');
  return res.messages.latency.p99Ms > 100 ? 'p99 > 100 ms' : res.messages.lost > 0 ? 'loss' : 'duplicates';
}

/** The step made of every run at one rate (`group`, in run order; at least one has a result). */
function stepOf(group: readonly RunRecord[]): Step {
  const done = group.filter((r) => r.result !== undefined);
  const f = rateFigures(done);
  const pass = stepPasses(group);
  let why: string | undefined;
  let passedRuns: number | undefined;
  if (group.length === 1) {
    const res = done[0]!.result!;
    why = !res.ok ? res.reasons.join('; ') : res.messages.latency.p99Ms > 100 ? 'p99 > 100 ms' : undefined;
  } else {
    passedRuns = group.filter(runPasses).length;
    const failures = [...new Set(group.filter((r) => !runPasses(r)).map(failureOf))];
    why = `${passedRuns} of ${group.length} runs passed${failures.length ? `; ${failures.join('; ')}` : ''}`;
  }
  return {
    rate: group[0]!.rate ?? 0,
    deliveriesPerSec: f.deliveriesPerSec,
    p50Ms: f.p50Ms,
    p99Ms: f.p99Ms,
    lost: f.lost,
    duplicates: f.duplicates,
    pass,
    ...(why ? { note: why } : {}),
    ...(passedRuns !== undefined ? { passedRuns } : {}),
    ...(f.spread ? { spread: f.spread } : {}),
  };
}

/** The runs of a stepped cell grouped by rate, in the order the rates were first run. */
function byRate(runs: readonly RunRecord[]): RunRecord[][] {
  const groups = new Map<number | undefined, RunRecord[]>();
  for (const r of runs) {
    const g = groups.get(r.rate);
    if (g) g.push(r);
    else groups.set(r.rate, [r]);
  }
  return [...groups.values()];
}

/** Memory per joined client of one idle run, KiB (undefined: not measured). */
function idleKiB(r: RunRecord): number | undefined {
  const s = r.serverStats;
  const joined = r.result?.clients.joined ?? 0;
  return s?.rssIdleBytes !== undefined && joined > 0 ? round((s.rssIdleBytes - s.rssBeforeBytes) / joined / 1024, 1) : undefined;
}

/**
 * Figures per (scenario, server) from the raw runs. A cell run several times (`--repeat N`)
 * gives the median of each figure over its runs with a result and the ranges in `spread`; a
 * stepped cell's steps are its rates, each `stepOf` the runs at that rate. With one run per
 * cell (and step) the cells are exactly those of one run.
 */
export function summarize(records: readonly RunRecord[], items: readonly PlanItem[], variants: readonly ServerVariant[]): Cell[] {
  const cells: Cell[] = [];
  for (const item of items) {
    for (const v of variants) {
      const runs = records.filter((r) => r.item === item.id && r.server === v.id);
      if (runs.length === 0) continue;
      const cell: Cell = { server: v.id, item: item.id, kind: item.kind, notes: [] };
      for (const r of runs) if (r.error) cell.notes.push(`${r.rate !== undefined ? `rate ${round(r.rate, 3)}: ` : ''}${r.run !== undefined ? `run ${r.run}: ` : ''}${r.error}`);
      const done = runs.filter((r) => r.result !== undefined);
      cell.generatorSaturated = done.some((r) => r.result!.generator.saturated);
      if (cell.generatorSaturated) cell.notes.push('the generator reported itself saturated in some run');
      if (item.kind === 'throughput') {
        const groups = byRate(runs).filter((g) => g.some((r) => r.result !== undefined));
        const steps = groups.map(stepOf);
        cell.steps = steps;
        let best: number | undefined;
        steps.forEach((s, i) => {
          if (s.pass && (best === undefined || s.deliveriesPerSec > steps[best]!.deliveriesPerSec)) best = i;
        });
        cell.saturation = best !== undefined ? steps[best]!.deliveriesPerSec : null;
        if (best !== undefined) {
          const f = rateFigures(groups[best]!.filter((r) => r.result !== undefined));
          cell.p50Ms = f.p50Ms;
          cell.p99Ms = f.p99Ms;
          cell.cpuSecPerMillion = f.cpuSecPerMillion;
          cell.unit = unitOf(groups[best]!.filter((r) => r.result !== undefined));
          if (f.spread) cell.spread = f.spread;
        } else if (groups.length) {
          // No step passed: the unit costs of the last step still say what a delivery cost.
          const u = unitOf(groups[groups.length - 1]!.filter((r) => r.result !== undefined));
          if (u) cell.unit = { ...u, ofFailedStep: true };
        }
        const last = steps[steps.length - 1];
        if (last?.pass && steps.length === (items.find((i) => i.id === item.id)?.maxSteps ?? 0)) cell.notes.push('every step passed: saturation is at least this (raise maxSteps)');
        else if (last && !last.pass) cell.notes.push(`stopped at ${last.deliveriesPerSec} deliveries/s: ${last.note ?? 'loss'}`);
      } else {
        if (done.length === 0) {
          cells.push(cell);
          continue;
        }
        const spread: Spread | undefined = done.length > 1 ? { runs: done.length } : undefined;
        done.forEach((r, i) => {
          const res = r.result!;
          if (res.ok) return;
          cell.notOk = true;
          cell.notes.push(`${spread ? `run ${r.run ?? i + 1}: ` : ''}${res.reasons.join('; ')}`);
        });
        if (item.kind === 'fixed') {
          const f = rateFigures(done);
          cell.deliveriesPerSec = f.deliveriesPerSec;
          cell.p50Ms = f.p50Ms;
          cell.p99Ms = f.p99Ms;
          cell.lost = f.lost;
          cell.duplicates = f.duplicates;
          cell.cpuSecPerMillion = f.cpuSecPerMillion;
          cell.unit = unitOf(done);
          if (f.spread) cell.spread = f.spread;
        } else if (item.kind === 'storm') {
          const stormOf = (r: RunRecord) => r.result!.joins.stormMs ?? undefined;
          cell.stormMs = medianOf(done, 'stormMs', stormOf, spread) ?? null;
          cell.stormClients = medianRun(done, stormOf).result!.joins.stormClients;
        } else if (item.kind === 'idle') {
          // Clients, memory by kind and Redis growth are the median run's (by memory per client).
          const r = medianRun(done, idleKiB);
          const res = r.result!;
          const s = r.serverStats;
          cell.clients = res.clients.joined;
          const kib = medianOf(done, 'memPerClientKiB', idleKiB, spread);
          if (kib !== undefined) cell.memPerClientKiB = kib;
          if (s?.rssIdleByKind && s.rssBeforeByKind && res.clients.joined > 0) {
            const before = s.rssBeforeByKind;
            cell.memPerClientByKindKiB = Object.fromEntries(Object.entries(s.rssIdleByKind).map(([k, v]) => [k, round((v - (before[k] ?? 0)) / res.clients.joined / 1024, 2)]));
          }
          if (s?.redisUsedMemoryIdleBytes !== undefined && s.redisUsedMemoryBeforeBytes !== undefined && res.clients.joined > 0) {
            cell.redisUsedMemoryPerClientBytes = Math.round((s.redisUsedMemoryIdleBytes - s.redisUsedMemoryBeforeBytes) / res.clients.joined);
          }
        } else if (item.kind === 'logins') {
          const loginsOf = (r: RunRecord) => r.result!.logins.perSec;
          cell.loginsPerSec = medianOf(done, 'loginsPerSec', loginsOf, spread);
          cell.clients = medianRun(done, loginsOf).result!.logins.count;
        }
        if (spread && item.kind !== 'fixed') cell.spread = spread;
      }
      cells.push(cell);
    }
  }
  return cells;
}

/** A headline figure: one scenario, one number per server, and which way is better. */
interface Figure {
  item: string;
  label: string;
  better: 'higher' | 'lower';
  value(c: Cell): number | undefined;
  format(c: Cell): string;
}

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (n: number | undefined) => (n === undefined ? '–' : n < 10 ? n.toFixed(2) : n.toFixed(1));

/**
 * A figure as the tables print it: `f(v)`, and with a range (several runs: `v` is their median)
 * `f(v) (f(min)–f(max))`, e.g. `2.43 (2.10–3.00)`; `none` when there is no figure.
 */
export function ranged(v: number | undefined, range: Range | undefined, f: (n: number) => string, none = '–'): string {
  if (v === undefined) return none;
  return range ? `${f(v)} (${f(range.min)}–${f(range.max)})` : f(v);
}

function figuresFor(items: readonly PlanItem[]): Figure[] {
  const out: Figure[] = [];
  for (const item of items) {
    const id = item.id;
    switch (item.kind) {
      case 'throughput':
        out.push({ item: id, label: `${id}: saturation deliveries/s (p99 ≤ 100 ms)`, better: 'higher', value: (c) => c.saturation ?? undefined, format: (c) => (c.saturation === null ? 'none passed' : ranged(c.saturation, c.spread?.deliveriesPerSec, int)) });
        out.push({ item: id, label: `${id}: server CPU-s per million deliveries (at saturation)`, better: 'lower', value: (c) => c.cpuSecPerMillion, format: (c) => ranged(c.cpuSecPerMillion, c.spread?.cpuSecPerMillion, String) });
        break;
      case 'fixed':
        out.push({ item: id, label: `${id}: p50 ms`, better: 'lower', value: (c) => c.p50Ms, format: (c) => ranged(c.p50Ms, c.spread?.p50Ms, ms) });
        out.push({
          item: id,
          label: `${id}: p99 ms`,
          better: 'lower',
          value: (c) => c.p99Ms,
          format: (c) => `${ranged(c.p99Ms, c.spread?.p99Ms, ms)}${c.lost ? ` (lost ${int(c.lost)})` : ''}${c.deliveriesPerSec !== undefined && item.deliveriesPerSec && c.deliveriesPerSec < item.deliveriesPerSec * 0.95 ? ` (only ${int(c.deliveriesPerSec)}/s)` : ''}`,
        });
        out.push({ item: id, label: `${id}: server CPU-s per million deliveries`, better: 'lower', value: (c) => c.cpuSecPerMillion, format: (c) => ranged(c.cpuSecPerMillion, c.spread?.cpuSecPerMillion, String) });
        break;
      case 'storm':
        out.push({
          item: id,
          label: `${id}: join-storm time, ms`,
          better: 'lower',
          value: (c) => (c.notOk ? undefined : (c.stormMs ?? undefined)),
          format: (c) => (c.stormMs == null ? '–' : `${ranged(c.stormMs, c.spread?.stormMs, int)}${c.notOk ? ' (not every client joined: see notes)' : ''}`),
        });
        break;
      case 'idle':
        out.push({ item: id, label: `${id}: memory per joined client, KiB (all server processes)`, better: 'lower', value: (c) => c.memPerClientKiB, format: (c) => ranged(c.memPerClientKiB, c.spread?.memPerClientKiB, (n) => n.toFixed(1)) });
        break;
      case 'logins':
        out.push({ item: id, label: `${id}: logins/s`, better: 'higher', value: (c) => c.loginsPerSec, format: (c) => ranged(c.loginsPerSec, c.spread?.loginsPerSec, int) });
        break;
    }
  }
  return out;
}

/** ours ÷ peer, with ✓ when that is better for us. */
function ratio(f: Figure, ours: Cell | undefined, peer: Cell | undefined): string {
  const a = ours && f.value(ours);
  const b = peer && f.value(peer);
  // A stepped scenario where the peer passed no step at all, and we did.
  if (a !== undefined && a > 0 && peer?.saturation === null && f.label.endsWith('saturation deliveries/s (p99 ≤ 100 ms)')) return 'peer: none passed ✓';
  if (a === undefined || b === undefined || b === 0) return '–';
  const r = a / b;
  const good = f.better === 'higher' ? r >= 1 : r <= 1;
  return `${r >= 10 ? r.toFixed(0) : r >= 0.1 ? r.toFixed(2) : r.toPrecision(1)}×${good ? ' ✓' : ''}`;
}

interface Meta {
  startedAt: string;
  finishedAt: string;
  quick: boolean;
  machine: string;
  servers: Array<{ id: string; label: string; settings: string[] }>;
}

/**
 * The goals of issue #5, checked for one parley layout: on the cells' figures, i.e. on the
 * medians when a cell ran several times (lost and duplicated: the most any run had); the
 * "measured" column gives each figure's range over the runs as well.
 */
function goals(cells: readonly Cell[], ours: string): string[] {
  const get = (item: string, server: string) => cells.find((c) => c.item === item && c.server === server);
  const lines: string[] = [];
  const check = (what: string, ok: boolean | undefined, detail: string) => lines.push(`| ${what} | ${ok === undefined ? 'not measured' : ok ? 'met' : '**missed**'} | ${detail} |`);
  const satItem = cells.find((c) => c.kind === 'throughput')?.item;
  if (satItem) {
    const oc = get(satItem, ours);
    const ec = get(satItem, 'ejabberd');
    const a = oc?.saturation;
    const e = ec?.saturation;
    check(`${satItem} saturation ≥ 1.5× ejabberd`, a != null && e != null ? a >= 1.5 * e : undefined, `${ranged(a ?? undefined, oc?.spread?.deliveriesPerSec, int)} vs ejabberd ${ranged(e ?? undefined, ec?.spread?.deliveriesPerSec, int)} deliveries/s`);
  }
  const f16 = get('fixed-16000', ours);
  check('at 16,000 deliveries/s: p50 ≤ 2 ms, p99 ≤ 10 ms', f16?.p50Ms !== undefined ? f16.p50Ms <= 2 && (f16.p99Ms ?? Infinity) <= 10 && !f16.lost : undefined, `p50 ${ranged(f16?.p50Ms, f16?.spread?.p50Ms, ms)} / p99 ${ranged(f16?.p99Ms, f16?.spread?.p99Ms, ms)} ms`);
  const idle = cells.find((c) => c.kind === 'idle' && c.server === ours);
  check('memory ≤ 16 KiB per connected, joined client', idle?.memPerClientKiB !== undefined ? idle.memPerClientKiB <= 16 : undefined, `${ranged(idle?.memPerClientKiB, idle?.spread?.memPerClientKiB, String)} KiB (${idle?.item ?? '–'})`);
  const storm = cells.find((c) => c.kind === 'storm' && c.server === ours);
  const stormE = storm ? get(storm.item, 'ejabberd') : undefined;
  check(
    `join storm (${storm?.item ?? '–'}) ≤ half of ejabberd's time`,
    storm?.stormMs != null && stormE?.stormMs != null ? storm.stormMs <= stormE.stormMs / 2 : undefined,
    `${ranged(storm?.stormMs ?? undefined, storm?.spread?.stormMs, String)} ms vs ejabberd ${ranged(stormE?.stormMs ?? undefined, stormE?.spread?.stormMs, String)} ms`,
  );
  const f2 = get('fixed-2000', ours);
  const f2e = get('fixed-2000', 'ejabberd');
  check(
    "at 2,000 deliveries/s: p50 and p99 ≤ ejabberd's + 1 ms",
    f2?.p50Ms !== undefined && f2e?.p50Ms !== undefined ? f2.p50Ms <= f2e.p50Ms + 1 && (f2.p99Ms ?? Infinity) <= (f2e.p99Ms ?? 0) + 1 : undefined,
    `${ranged(f2?.p50Ms, f2?.spread?.p50Ms, ms)} / ${ranged(f2?.p99Ms, f2?.spread?.p99Ms, ms)} ms vs ejabberd ${ranged(f2e?.p50Ms, f2e?.spread?.p50Ms, ms)} / ${ranged(f2e?.p99Ms, f2e?.spread?.p99Ms, ms)} ms`,
  );
  const ourCells = cells.filter((c) => c.server === ours);
  const lossy = ourCells.filter((c) => (c.lost ?? 0) > 0 || (c.duplicates ?? 0) > 0 || (c.steps ?? []).some((s) => s.duplicates > 0));
  check('zero lost or duplicated messages in every run (below saturation)', ourCells.length ? lossy.length === 0 : undefined, lossy.length ? lossy.map((c) => c.item).join(', ') : 'none lost below saturation');
  return lines;
}

export function renderMarkdown(meta: Meta, cells: readonly Cell[], items: readonly PlanItem[], variants: readonly ServerVariant[]): string {
  const ids = variants.map((v) => v.id);
  const ours = ids.filter((id) => id.startsWith('parley'));
  const peers = ids.filter((id) => !id.startsWith('parley'));
  const cell = (item: string, server: string) => cells.find((c) => c.item === item && c.server === server);
  const figs = figuresFor(items);
  const out: string[] = [];
  out.push(`# Side-by-side benchmark${meta.quick ? ' (quick smoke run: tiny scale, not a measurement)' : ''}, ${meta.startedAt.slice(0, 10)}`, '');
  out.push(
    `Machine: ${meta.machine}. Runs ${meta.startedAt} – ${meta.finishedAt} by \`pnpm bench:compare${meta.quick ? ' --quick' : ''}\` (bench/compare/README.md); ` +
      'servers measured in separate invocations are merged with `--merge`, and each run\'s start time and raw result are in the JSON.',
    '',
  );
  const repeated = cells.some((c) => c.spread !== undefined || c.unit?.spread !== undefined || (c.steps ?? []).some((s) => s.passedRuns !== undefined));
  if (repeated) {
    out.push(
      'Some cells were run several times (`--repeat N`, a fresh server each time): their figures are the median over the runs with the range in brackets, ' +
        'median (min–max); lost and duplicated messages are the most any run had; the goals are checked on the medians. ' +
        'A step of a stepped scenario passes when most of its runs pass (the median run passes).',
      '',
    );
  }
  out.push('| id | server |', '|---|---|', ...meta.servers.map((s) => `| ${s.id} | ${s.label} |`), '');
  out.push('## Results', '', `| | ${ids.join(' | ')} |`, `|---|${ids.map(() => '---').join('|')}|`);
  for (const f of figs) out.push(`| ${f.label} | ${ids.map((id) => { const c = cell(f.item, id); return c ? f.format(c) : '–'; }).join(' | ')} |`);
  out.push('');
  if (ours.length && peers.length) {
    out.push('## Our ratio to each peer', '', 'ours ÷ peer; ✓ where that favours us (higher is better for deliveries/s and logins/s, lower for latency, time, memory and CPU).', '');
    const cols = ours.flatMap((o) => peers.map((p) => ({ o, p })));
    out.push(`| | ${cols.map(({ o, p }) => `${o} ÷ ${p}`).join(' | ')} |`, `|---|${cols.map(() => '---').join('|')}|`);
    for (const f of figs) out.push(`| ${f.label} | ${cols.map(({ o, p }) => ratio(f, cell(f.item, o), cell(f.item, p))).join(' | ')} |`);
    out.push('');
  }
  for (const o of ours) {
    out.push(`## Goals of issue #5 for ${o}`, '', '| goal | | measured |', '|---|---|---|', ...goals(cells, o), '');
  }
  out.push(...unitCostTables(cells, items, ours));
  out.push('## Steps of the stepped scenarios', '', `Each step on a fresh server; the sender rate doubles until p99 > 100 ms or anything is lost.${repeated ? ' With several runs per step: median (min–max) over its runs, lost and dup the most in any run.' : ''}`, '');
  for (const item of items.filter((i) => i.kind === 'throughput')) {
    out.push(`### ${item.title}`, '', '| server | msgs/s per sender | deliveries/s | p50 ms | p99 ms | lost | dup | pass |', '|---|---|---|---|---|---|---|---|');
    for (const id of ids) {
      for (const s of cell(item.id, id)?.steps ?? []) out.push(`| ${id} | ${round(s.rate, 3)} | ${ranged(s.deliveriesPerSec, s.spread?.deliveriesPerSec, int)} | ${ranged(s.p50Ms, s.spread?.p50Ms, ms)} | ${ranged(s.p99Ms, s.spread?.p99Ms, ms)} | ${int(s.lost)} | ${int(s.duplicates)} | ${s.pass ? 'yes' : 'no'}${s.note ? ` (${s.note})` : ''} |`);
    }
    out.push('');
  }
  const notes = cells.filter((c) => c.notes.length);
  if (notes.length) {
    out.push('## Notes', '');
    for (const c of notes) out.push(`- ${c.server}, ${c.item}: ${c.notes.join('; ')}`);
    out.push('');
  }
  out.push('## Scenarios', '', ...items.map((i) => `- **${i.id}** (${i.kind}): ${i.title}`), '');
  out.push('## Settings (fairness)', '');
  for (const s of meta.servers) out.push(`- **${s.id}**: ${s.settings.join('; ')}`);
  out.push('');
  return out.join('\n');
}

const dash = '—';
const num = (n: number | undefined, d = 1) => (n === undefined ? dash : n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }));

/**
 * The unit-cost tables (issue #15 item 4): per parley layout and scenario, CPU seconds per
 * million deliveries by process kind and Redis's commands, bytes and command time per delivery
 * over the measured window; for idle runs, memory per joined client by process kind. Runs
 * recorded before these fields existed show "—".
 */
export function unitCostTables(cells: readonly Cell[], items: readonly PlanItem[], ours: readonly string[]): string[] {
  if (ours.length === 0) return [];
  const out: string[] = [];
  const rated = items.filter((i) => i.kind === 'fixed' || i.kind === 'throughput');
  const rows = rated.flatMap((i) => ours.map((o) => cells.find((c) => c.item === i.id && c.server === o)).filter((c): c is Cell => c !== undefined));
  if (rows.length) {
    out.push(
      '## Unit costs per layout',
      '',
      'Over the measured window (messaging start, warm-up included, to the end of the drain; stepped scenarios: the saturation step, or the last step when none passed). ' +
        'CPU seconds per million deliveries by process kind (utime + stime from /proc), and Redis per delivery: commands (`total_commands_processed`), ' +
        'bytes in and out (`total_net_input_bytes`, `total_net_output_bytes`), and commands per second of redis-server CPU (what one single-threaded shard serves at this mix). ' +
        'CPU-s and Redis counts per delivery depend much less than the latencies above on what else runs on the machine (batch sizes still do). "—": not recorded (runs before 2026-12-07).',
      '',
    );
    if (rows.some((c) => c.unit?.spread)) {
      out.push(
        'Cells run several times: deliveries/s and CPU-s/M total are the median (min–max) over the runs; the deliveries and every other column are those of the run with the median CPU-s/M total.',
        '',
      );
    }
    out.push(
      '| layout | scenario | deliveries (per s) | CPU-s/M redis | CPU-s/M gateways | CPU-s/M room workers | CPU-s/M total | Redis cmds/delivery | Redis bytes in/delivery | Redis bytes out/delivery | Redis cmds per Redis CPU-s |',
      '|---|---|---|---|---|---|---|---|---|---|---|',
    );
    for (const c of rows) {
      const k = c.unit?.cpuSecPerMillionByKind;
      out.push(
        `| ${c.server} | ${c.item}${c.unit?.ofFailedStep ? ' (no step passed: last step)' : ''}${c.notOk ? ' (run not ok: see notes)' : ''} | ${c.unit ? `${int(c.unit.deliveries)} (${ranged(c.unit.deliveriesPerSec, c.unit.spread?.deliveriesPerSec, int)})` : dash} | ${num(k?.['redis-server'])} | ${num(k?.gateway)} | ${num(k?.['room-worker'])} | ${ranged(c.unit?.cpuSecPerMillion ?? c.cpuSecPerMillion, c.unit ? c.unit.spread?.cpuSecPerMillion : c.spread?.cpuSecPerMillion, (n) => num(n), dash)} | ${num(c.unit?.redisCommandsPerDelivery, 3)} | ${num(c.unit?.redisInBytesPerDelivery, 0)} | ${num(c.unit?.redisOutBytesPerDelivery, 0)} | ${c.unit?.redisCommandsPerCpuSecond === undefined ? dash : int(c.unit.redisCommandsPerCpuSecond)} |`,
      );
    }
    out.push('', 'Top Redis commands by calls (calls per delivery × µs per call; `INFO commandstats` usec is wall time inside the command, so it grows when the CPU is shared, and a command run by a Lua script counts both on its own and inside EVALSHA):', '', '| layout | scenario | commands |', '|---|---|---|');
    for (const c of rows) out.push(`| ${c.server} | ${c.item} | ${c.unit?.redisTop?.length ? c.unit.redisTop.map((t) => `${t.command} ${t.callsPerDelivery} × ${t.usecPerCall} µs`).join('; ') : dash} |`);
    out.push('');
  }
  const idle = items.filter((i) => i.kind === 'idle').flatMap((i) => ours.map((o) => cells.find((c) => c.item === i.id && c.server === o)).filter((c): c is Cell => c !== undefined));
  if (idle.length) {
    out.push(
      '### Memory per joined client by process kind',
      '',
      'RSS growth from before the generator to the idle phase, ÷ clients joined, KiB; Redis `used_memory` growth (its data, without allocator slack), bytes per client.',
      '',
      '| layout | scenario | clients | redis-server KiB | gateways KiB | room workers KiB | total KiB | Redis used_memory B/client |',
      '|---|---|---|---|---|---|---|---|',
    );
    for (const c of idle) {
      const k = c.memPerClientByKindKiB;
      out.push(`| ${c.server} | ${c.item} | ${c.clients === undefined ? dash : int(c.clients)} | ${num(k?.['redis-server'], 2)} | ${num(k?.gateway, 2)} | ${num(k?.['room-worker'], 2)} | ${ranged(c.memPerClientKiB, c.spread?.memPerClientKiB, (n) => num(n), dash)} | ${c.redisUsedMemoryPerClientBytes === undefined ? dash : int(c.redisUsedMemoryPerClientBytes)} |`);
    }
    out.push('');
  }
  return out;
}
