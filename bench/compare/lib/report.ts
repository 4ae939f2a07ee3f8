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

export interface Step {
  rate: number;
  deliveriesPerSec: number;
  p50Ms: number;
  p99Ms: number;
  lost: number;
  duplicates: number;
  pass: boolean;
  note?: string;
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

function stepOf(r: RunRecord): Step {
  const m = r.result!.messages;
  const pass = r.result!.ok && m.lost === 0 && m.duplicates === 0 && m.latency.p99Ms <= 100;
  const why = !r.result!.ok ? r.result!.reasons.join('; ') : m.latency.p99Ms > 100 ? 'p99 > 100 ms' : undefined;
  return { rate: r.rate ?? 0, deliveriesPerSec: m.deliveriesPerSec, p50Ms: m.latency.p50Ms, p99Ms: m.latency.p99Ms, lost: m.lost, duplicates: m.duplicates, pass, ...(why ? { note: why } : {}) };
}

/** Figures per (scenario, server) from the raw runs. */
export function summarize(records: readonly RunRecord[], items: readonly PlanItem[], variants: readonly ServerVariant[]): Cell[] {
  const cells: Cell[] = [];
  for (const item of items) {
    for (const v of variants) {
      const runs = records.filter((r) => r.item === item.id && r.server === v.id);
      if (runs.length === 0) continue;
      const cell: Cell = { server: v.id, item: item.id, kind: item.kind, notes: [] };
      for (const r of runs) if (r.error) cell.notes.push(`${r.rate !== undefined ? `rate ${round(r.rate, 3)}: ` : ''}${r.error}`);
      const done = runs.filter((r) => r.result !== undefined);
      cell.generatorSaturated = done.some((r) => r.result!.generator.saturated);
      if (cell.generatorSaturated) cell.notes.push('the generator reported itself saturated in some run');
      if (item.kind === 'throughput') {
        cell.steps = done.map(stepOf);
        const passing = done.filter((r) => stepOf(r).pass);
        const best = passing.sort((a, b) => b.result!.messages.deliveriesPerSec - a.result!.messages.deliveriesPerSec)[0];
        cell.saturation = best ? best.result!.messages.deliveriesPerSec : null;
        if (best) {
          cell.p50Ms = best.result!.messages.latency.p50Ms;
          cell.p99Ms = best.result!.messages.latency.p99Ms;
          cell.cpuSecPerMillion = cpuPerMillion(best);
          cell.unit = unitCosts(best);
        } else if (done.length) {
          // No step passed: the unit costs of the last step still say what a delivery cost.
          const u = unitCosts(done[done.length - 1]!);
          if (u) cell.unit = { ...u, ofFailedStep: true };
        }
        const last = cell.steps[cell.steps.length - 1];
        if (last?.pass && done.length === (items.find((i) => i.id === item.id)?.maxSteps ?? 0)) cell.notes.push('every step passed: saturation is at least this (raise maxSteps)');
        else if (last && !last.pass) cell.notes.push(`stopped at ${last.deliveriesPerSec} deliveries/s: ${last.note ?? 'loss'}`);
      } else {
        const r = done[0];
        if (!r) {
          cells.push(cell);
          continue;
        }
        const res = r.result!;
        if (!res.ok) {
          cell.notOk = true;
          cell.notes.push(res.reasons.join('; '));
        }
        if (item.kind === 'fixed') {
          cell.deliveriesPerSec = res.messages.deliveriesPerSec;
          cell.p50Ms = res.messages.latency.p50Ms;
          cell.p99Ms = res.messages.latency.p99Ms;
          cell.lost = res.messages.lost;
          cell.duplicates = res.messages.duplicates;
          cell.cpuSecPerMillion = cpuPerMillion(r);
          cell.unit = unitCosts(r);
        } else if (item.kind === 'storm') {
          cell.stormMs = res.joins.stormMs;
          cell.stormClients = res.joins.stormClients;
        } else if (item.kind === 'idle') {
          const s = r.serverStats;
          cell.clients = res.clients.joined;
          if (s?.rssIdleBytes !== undefined && res.clients.joined > 0) cell.memPerClientKiB = round((s.rssIdleBytes - s.rssBeforeBytes) / res.clients.joined / 1024, 1);
          if (s?.rssIdleByKind && s.rssBeforeByKind && res.clients.joined > 0) {
            const before = s.rssBeforeByKind;
            cell.memPerClientByKindKiB = Object.fromEntries(Object.entries(s.rssIdleByKind).map(([k, v]) => [k, round((v - (before[k] ?? 0)) / res.clients.joined / 1024, 2)]));
          }
          if (s?.redisUsedMemoryIdleBytes !== undefined && s.redisUsedMemoryBeforeBytes !== undefined && res.clients.joined > 0) {
            cell.redisUsedMemoryPerClientBytes = Math.round((s.redisUsedMemoryIdleBytes - s.redisUsedMemoryBeforeBytes) / res.clients.joined);
          }
        } else if (item.kind === 'logins') {
          cell.loginsPerSec = res.logins.perSec;
          cell.clients = res.logins.count;
        }
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

function figuresFor(items: readonly PlanItem[]): Figure[] {
  const out: Figure[] = [];
  for (const item of items) {
    const id = item.id;
    switch (item.kind) {
      case 'throughput':
        out.push({ item: id, label: `${id}: saturation deliveries/s (p99 ≤ 100 ms)`, better: 'higher', value: (c) => c.saturation ?? undefined, format: (c) => (c.saturation === null ? 'none passed' : c.saturation === undefined ? '–' : int(c.saturation)) });
        out.push({ item: id, label: `${id}: server CPU-s per million deliveries (at saturation)`, better: 'lower', value: (c) => c.cpuSecPerMillion, format: (c) => (c.cpuSecPerMillion === undefined ? '–' : String(c.cpuSecPerMillion)) });
        break;
      case 'fixed':
        out.push({ item: id, label: `${id}: p50 ms`, better: 'lower', value: (c) => c.p50Ms, format: (c) => ms(c.p50Ms) });
        out.push({
          item: id,
          label: `${id}: p99 ms`,
          better: 'lower',
          value: (c) => c.p99Ms,
          format: (c) => `${ms(c.p99Ms)}${c.lost ? ` (lost ${int(c.lost)})` : ''}${c.deliveriesPerSec !== undefined && item.deliveriesPerSec && c.deliveriesPerSec < item.deliveriesPerSec * 0.95 ? ` (only ${int(c.deliveriesPerSec)}/s)` : ''}`,
        });
        out.push({ item: id, label: `${id}: server CPU-s per million deliveries`, better: 'lower', value: (c) => c.cpuSecPerMillion, format: (c) => (c.cpuSecPerMillion === undefined ? '–' : String(c.cpuSecPerMillion)) });
        break;
      case 'storm':
        out.push({
          item: id,
          label: `${id}: join-storm time, ms`,
          better: 'lower',
          value: (c) => (c.notOk ? undefined : (c.stormMs ?? undefined)),
          format: (c) => (c.stormMs == null ? '–' : `${int(c.stormMs)}${c.notOk ? ' (not every client joined: see notes)' : ''}`),
        });
        break;
      case 'idle':
        out.push({ item: id, label: `${id}: memory per joined client, KiB (all server processes)`, better: 'lower', value: (c) => c.memPerClientKiB, format: (c) => (c.memPerClientKiB === undefined ? '–' : c.memPerClientKiB.toFixed(1)) });
        break;
      case 'logins':
        out.push({ item: id, label: `${id}: logins/s`, better: 'higher', value: (c) => c.loginsPerSec, format: (c) => (c.loginsPerSec === undefined ? '–' : int(c.loginsPerSec)) });
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

/** The goals of issue #5, checked for one parley layout. */
function goals(cells: readonly Cell[], ours: string): string[] {
  const get = (item: string, server: string) => cells.find((c) => c.item === item && c.server === server);
  const lines: string[] = [];
  const check = (what: string, ok: boolean | undefined, detail: string) => lines.push(`| ${what} | ${ok === undefined ? 'not measured' : ok ? 'met' : '**missed**'} | ${detail} |`);
  const satItem = cells.find((c) => c.kind === 'throughput')?.item;
  if (satItem) {
    const a = get(satItem, ours)?.saturation;
    const e = get(satItem, 'ejabberd')?.saturation;
    check(`${satItem} saturation ≥ 1.5× ejabberd`, a != null && e != null ? a >= 1.5 * e : undefined, `${a == null ? '–' : int(a)} vs ejabberd ${e == null ? '–' : int(e)} deliveries/s`);
  }
  const f16 = get('fixed-16000', ours);
  check('at 16,000 deliveries/s: p50 ≤ 2 ms, p99 ≤ 10 ms', f16?.p50Ms !== undefined ? f16.p50Ms <= 2 && (f16.p99Ms ?? Infinity) <= 10 && !f16.lost : undefined, `p50 ${ms(f16?.p50Ms)} / p99 ${ms(f16?.p99Ms)} ms`);
  const idle = cells.find((c) => c.kind === 'idle' && c.server === ours);
  check('memory ≤ 16 KiB per connected, joined client', idle?.memPerClientKiB !== undefined ? idle.memPerClientKiB <= 16 : undefined, `${idle?.memPerClientKiB ?? '–'} KiB (${idle?.item ?? '–'})`);
  const storm = cells.find((c) => c.kind === 'storm' && c.server === ours);
  const stormE = storm ? get(storm.item, 'ejabberd') : undefined;
  check(
    `join storm (${storm?.item ?? '–'}) ≤ half of ejabberd's time`,
    storm?.stormMs != null && stormE?.stormMs != null ? storm.stormMs <= stormE.stormMs / 2 : undefined,
    `${storm?.stormMs ?? '–'} ms vs ejabberd ${stormE?.stormMs ?? '–'} ms`,
  );
  const f2 = get('fixed-2000', ours);
  const f2e = get('fixed-2000', 'ejabberd');
  check(
    "at 2,000 deliveries/s: p50 and p99 ≤ ejabberd's + 1 ms",
    f2?.p50Ms !== undefined && f2e?.p50Ms !== undefined ? f2.p50Ms <= f2e.p50Ms + 1 && (f2.p99Ms ?? Infinity) <= (f2e.p99Ms ?? 0) + 1 : undefined,
    `${ms(f2?.p50Ms)} / ${ms(f2?.p99Ms)} ms vs ejabberd ${ms(f2e?.p50Ms)} / ${ms(f2e?.p99Ms)} ms`,
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
  out.push('## Steps of the stepped scenarios', '', 'Each step on a fresh server; the sender rate doubles until p99 > 100 ms or anything is lost.', '');
  for (const item of items.filter((i) => i.kind === 'throughput')) {
    out.push(`### ${item.title}`, '', '| server | msgs/s per sender | deliveries/s | p50 ms | p99 ms | lost | dup | pass |', '|---|---|---|---|---|---|---|---|');
    for (const id of ids) {
      for (const s of cell(item.id, id)?.steps ?? []) out.push(`| ${id} | ${round(s.rate, 3)} | ${int(s.deliveriesPerSec)} | ${ms(s.p50Ms)} | ${ms(s.p99Ms)} | ${int(s.lost)} | ${int(s.duplicates)} | ${s.pass ? 'yes' : `no${s.note ? ` (${s.note})` : ''}`} |`);
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
      '| layout | scenario | deliveries (per s) | CPU-s/M redis | CPU-s/M gateways | CPU-s/M room workers | CPU-s/M total | Redis cmds/delivery | Redis bytes in/delivery | Redis bytes out/delivery | Redis cmds per Redis CPU-s |',
      '|---|---|---|---|---|---|---|---|---|---|---|',
    );
    for (const c of rows) {
      const k = c.unit?.cpuSecPerMillionByKind;
      out.push(
        `| ${c.server} | ${c.item}${c.unit?.ofFailedStep ? ' (no step passed: last step)' : ''}${c.notOk ? ' (run not ok: see notes)' : ''} | ${c.unit ? `${int(c.unit.deliveries)} (${int(c.unit.deliveriesPerSec)})` : dash} | ${num(k?.['redis-server'])} | ${num(k?.gateway)} | ${num(k?.['room-worker'])} | ${num(c.unit?.cpuSecPerMillion ?? c.cpuSecPerMillion)} | ${num(c.unit?.redisCommandsPerDelivery, 3)} | ${num(c.unit?.redisInBytesPerDelivery, 0)} | ${num(c.unit?.redisOutBytesPerDelivery, 0)} | ${c.unit?.redisCommandsPerCpuSecond === undefined ? dash : int(c.unit.redisCommandsPerCpuSecond)} |`,
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
      out.push(`| ${c.server} | ${c.item} | ${c.clients === undefined ? dash : int(c.clients)} | ${num(k?.['redis-server'], 2)} | ${num(k?.gateway, 2)} | ${num(k?.['room-worker'], 2)} | ${num(c.memPerClientKiB)} | ${c.redisUsedMemoryPerClientBytes === undefined ? dash : int(c.redisUsedMemoryPerClientBytes)} |`);
    }
    out.push('');
  }
  return out;
}
