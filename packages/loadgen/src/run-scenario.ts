/**
 * Runs a scenario: starts the worker threads, then drives the phases in order — login
 * (ramped), room owners join (ramped; new rooms configured), everyone else joins (ramp or
 * storm), idle, messaging (warm-up + measured window), drain (until every expected
 * delivery arrived or the drain timeout), close — and merges the threads' histograms and
 * books into a {@link LoadResult}.
 */
import { availableParallelism } from 'node:os';
import { randomBytes } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { accountDeliveries, verdict } from './accounting.js';
import { nowMs } from './clock.js';
import { LoadgenError } from './errors.js';
import { decodeHistogram, mergeHistograms, newHistogram, summarize, type Histogram } from './histogram.js';
import { Layout } from './layout.js';
import type { FromWorker, ToWorker, WireBin, WorkerCounters, WorkerInit } from './protocol.js';
import type { LoadResult, TimelinePoint } from './result.js';
import { parseScenario, type Scenario } from './scenario.js';

/** Live figures handed to {@link RunOptions.onProgress} about once a second. */
export interface Progress {
  phase: string;
  /** Seconds since the run started. */
  elapsedSec: number;
  planned: number;
  loggedIn: number;
  joined: number;
  sent: number;
  expected: number;
  delivered: number;
  duplicates: number;
  /** Deliveries during the last second. */
  deliveriesPerSec: number;
  /** Cumulative latency so far (all deliveries, warm-up included), ms. */
  p50Ms: number;
  p99Ms: number;
  stanzaErrors: number;
  failures: number;
  /** Generator CPU over the last second, % of one core. */
  cpuPct: number;
}

/** Options of {@link runScenario}; each overrides the scenario's field of the same meaning. */
export interface RunOptions {
  /** `host:port` list replacing `scenario.targets`. */
  targets?: string[];
  transport?: 'tcp' | 'websocket';
  /** Worker threads (default: the number of cores; never more than clients). */
  workers?: number;
  /** Messages/s per sender, replacing `messages.ratePerSender`. */
  rate?: number;
  /** Replaces `messages.deferAboveBytes` (skip sends while the socket holds more unsent bytes). */
  deferAboveBytes?: number;
  /** Measured seconds, replacing `messages.durationSec`. */
  duration?: number;
  /** Called about once a second. */
  onProgress?: (p: Progress) => void;
  /** Called when a phase starts: login, join-owners, join, idle, messaging, drain, close (e.g. to sample server memory while idle). */
  onPhase?: (phase: string) => void | Promise<void>;
}

interface WorkerHandle {
  worker: Worker;
  counters: WorkerCounters;
  /** Time of the last progress report, ms. */
  reportedAtMs: number;
  inbox: FromWorker[];
  wake: (() => void) | undefined;
}

const emptyCounters = (): WorkerCounters => ({ loggedIn: 0, joined: 0, sent: 0, expected: 0, distinct: 0, duplicates: 0, stanzaErrors: 0, failures: 0, elu: 0 });

/** Applies {@link RunOptions} overrides and re-validates. @throws LoadgenError `BAD_SCENARIO` */
export function applyOverrides(scenario: Scenario, opts: RunOptions): Scenario {
  return parseScenario(
    {
      ...scenario,
      targets: opts.targets ?? scenario.targets,
      transport: opts.transport ?? scenario.transport,
      messages: { ...scenario.messages, ratePerSender: opts.rate ?? scenario.messages.ratePerSender, durationSec: opts.duration ?? scenario.messages.durationSec, deferAboveBytes: opts.deferAboveBytes ?? scenario.messages.deferAboveBytes },
    },
    'scenario with command-line overrides',
  );
}

/**
 * Runs `scenario` against its targets and resolves with the result (it does not throw
 * because clients fail: failures are counted in the result).
 * @throws LoadgenError `BAD_SCENARIO` (overrides invalid), `BAD_OPTION`, `WORKER_FAILED`
 */
export async function runScenario(input: Scenario, opts: RunOptions = {}): Promise<LoadResult> {
  const scenario = applyOverrides(input, opts);
  if (opts.workers !== undefined && (!Number.isInteger(opts.workers) || opts.workers < 1)) throw new LoadgenError('BAD_OPTION', `workers must be a positive integer, got ${opts.workers}`);
  const cores = availableParallelism();
  const workerCount = Math.max(1, Math.min(opts.workers ?? cores, scenario.accounts.count));
  const runId = randomBytes(4).readUInt32BE(0).toString(36);
  const layout = new Layout(scenario, scenario.targets, workerCount, runId);
  const startedAt = new Date();
  const t0 = nowMs();
  const cpu0 = process.cpuUsage();

  const fromSource = import.meta.url.endsWith('.ts');
  const workerUrl = new URL(fromSource ? './worker.ts' : './worker.js', import.meta.url);
  const handles: WorkerHandle[] = [];
  let fatal: Error | undefined;
  const stopAll = () => Promise.all(handles.map((h) => h.worker.terminate()));

  // Timeline and progress state.
  let phase = 'start';
  let messagingStartMs = 0;
  const binsBySec = new Map<number, { deliveries: number; sent: number; hists: string[] }>();
  const cumulative = newHistogram(2);
  const cpuBySec = new Map<number, number>();
  let peakElu = 0;
  let lastDelivered = 0;
  let lastCpu = process.cpuUsage();
  let lastTick = nowMs();

  for (let w = 0; w < workerCount; w++) {
    const init: WorkerInit = { scenario, runId, workerIndex: w, workers: workerCount, targets: scenario.targets };
    const worker = fromSource ? sourceWorker(workerUrl, init) : new Worker(workerUrl, { workerData: init });
    const h: WorkerHandle = { worker, counters: emptyCounters(), reportedAtMs: 0, inbox: [], wake: undefined };
    worker.on('message', (m: FromWorker) => {
      if (m.type === 'progress') {
        h.counters = m.counters;
        h.reportedAtMs = nowMs();
        if (phase === 'messaging' || phase === 'drain') peakElu = Math.max(peakElu, m.counters.elu);
        addBins(m.bins);
        return;
      }
      if (m.type === 'fatal') fatal ??= new LoadgenError('WORKER_FAILED', `worker ${w}: ${m.message}`);
      h.inbox.push(m);
      h.wake?.();
    });
    worker.on('error', (err) => {
      fatal ??= new LoadgenError('WORKER_FAILED', `worker ${w}: ${err.stack ?? err.message}`);
      h.wake?.();
    });
    worker.on('exit', (code) => {
      if (phase !== 'done') fatal ??= new LoadgenError('WORKER_FAILED', `worker ${w} exited (${code})`);
      h.wake?.();
    });
    handles.push(h);
  }

  function addBins(bins: WireBin[]): void {
    for (const b of bins) {
      let acc = binsBySec.get(b.sec);
      if (!acc) {
        acc = { deliveries: 0, sent: 0, hists: [] };
        binsBySec.set(b.sec, acc);
      }
      acc.deliveries += b.deliveries;
      acc.sent += b.sent;
      if (b.hist) {
        acc.hists.push(b.hist);
        cumulative.add(decodeHistogram(b.hist));
      }
    }
  }

  async function receive<T extends FromWorker['type']>(h: WorkerHandle, type: T): Promise<Extract<FromWorker, { type: T }>> {
    for (;;) {
      if (fatal) throw fatal;
      const i = h.inbox.findIndex((m) => m.type === type);
      if (i >= 0) return h.inbox.splice(i, 1)[0] as Extract<FromWorker, { type: T }>;
      await new Promise<void>((resolve) => (h.wake = resolve));
      h.wake = undefined;
    }
  }
  const all = <T extends FromWorker['type']>(type: T, cmd?: ToWorker) => {
    if (cmd) for (const h of handles) h.worker.postMessage(cmd);
    return Promise.all(handles.map((h) => receive(h, type)));
  };
  const sum = (k: keyof WorkerCounters) => handles.reduce((n, h) => n + h.counters[k], 0);

  const ticker = setInterval(() => {
    const now = nowMs();
    const cpu = process.cpuUsage();
    const cpuPct = ((cpu.user - lastCpu.user + cpu.system - lastCpu.system) / 1000 / (now - lastTick)) * 100;
    if (messagingStartMs > 0) cpuBySec.set(Math.floor((lastTick + (now - lastTick) / 2 - messagingStartMs) / 1000), cpuPct);
    lastCpu = cpu;
    lastTick = now;
    const delivered = sum('distinct');
    opts.onProgress?.({
      phase,
      elapsedSec: (now - t0) / 1000,
      planned: scenario.accounts.count,
      loggedIn: sum('loggedIn'),
      joined: sum('joined'),
      sent: sum('sent'),
      expected: sum('expected'),
      delivered,
      duplicates: sum('duplicates'),
      deliveriesPerSec: delivered - lastDelivered,
      p50Ms: cumulative.totalCount ? cumulative.getValueAtPercentile(50) / 1000 : 0,
      p99Ms: cumulative.totalCount ? cumulative.getValueAtPercentile(99) / 1000 : 0,
      stanzaErrors: sum('stanzaErrors'),
      failures: sum('failures'),
      cpuPct,
    });
    lastDelivered = delivered;
  }, 1000);

  const enter = async (name: string) => {
    phase = name;
    for (const h of handles) h.worker.postMessage({ type: 'phase', name } satisfies ToWorker);
    await opts.onPhase?.(name);
  };

  try {
    await all('ready');
    const phasesMs = { login: 0, joinOwners: 0, join: 0, idle: 0, messaging: 0, drain: 0, close: 0, total: 0 };

    // Login.
    await enter('login');
    let t = nowMs();
    const logins = await all('login-done', { type: 'login', startAtMs: t + 50, ratePerSec: scenario.login.ratePerSec / workerCount });
    phasesMs.login = nowMs() - t;
    const loggedIn = logins.reduce((n, r) => n + r.loggedIn, 0);

    // Joins: owners first (ramped), then the others (ramp or storm).
    const joined: number[] = [];
    let roomsCreated = 0;
    const joinHists: string[] = [];
    let stormMs: number | null = null;
    let stormClients = 0;
    if (scenario.rooms.count > 0) {
      await enter('join-owners');
      t = nowMs();
      const owners = await all('join-done', { type: 'join', group: 'owners', pattern: 'ramp', startAtMs: t + 20, ratePerSec: scenario.rooms.joinRatePerSec / workerCount });
      phasesMs.joinOwners = nowMs() - t;
      for (const r of owners) {
        joined.push(...r.joined);
        roomsCreated += r.created;
        joinHists.push(r.join);
      }
      if (scenario.rooms.occupantsPerRoom > 1) {
        await enter('join');
        t = nowMs();
        const storm = scenario.rooms.joinPattern === 'storm';
        const others = await all('join-done', { type: 'join', group: 'others', pattern: scenario.rooms.joinPattern, startAtMs: t + 50, ratePerSec: scenario.rooms.joinRatePerSec / workerCount });
        phasesMs.join = nowMs() - t;
        for (const r of others) {
          joined.push(...r.joined);
          joinHists.push(r.join);
        }
        if (storm) {
          const first = Math.min(...others.map((r) => r.firstSentMs).filter((x) => x > 0));
          const last = Math.max(...others.map((r) => r.lastDoneMs));
          stormClients = others.reduce((n, r) => n + r.joined.length, 0);
          stormMs = Number.isFinite(first) && last > 0 ? last - first : 0;
        }
      }
    }
    const occupancy = new Array<number>(scenario.rooms.count).fill(0);
    for (const i of joined) occupancy[layout.roomOf(i)]! += 1;

    // Idle.
    if (scenario.idleSec > 0) {
      await enter('idle');
      t = nowMs();
      await new Promise((r) => setTimeout(r, scenario.idleSec * 1000));
      phasesMs.idle = nowMs() - t;
    }

    // Messaging, then drain.
    const m = scenario.messages;
    const sending = m.durationSec + m.warmupSec > 0 && m.sendersPerRoom > 0 && m.sendingRooms !== 0 && scenario.rooms.count > 0;
    let finals: Extract<FromWorker, { type: 'final' }>[] = [];
    let cpuMessaging = { user: 0, system: 0 };
    if (sending) {
      await enter('messaging');
      const startAtMs = nowMs() + 300;
      const measureFromMs = startAtMs + m.warmupSec * 1000;
      const endAtMs = measureFromMs + m.durationSec * 1000;
      messagingStartMs = startAtMs;
      const cpuStart = process.cpuUsage();
      const maxSeq = Math.ceil(m.ratePerSender * (m.warmupSec + m.durationSec)) + 2;
      for (const h of handles) h.worker.postMessage({ type: 'messages', occupancy, startAtMs, measureFromMs, endAtMs, ratePerSender: m.ratePerSender, maxSeq, deferAboveBytes: m.deferAboveBytes } satisfies ToWorker);
      await sleepUntil(endAtMs, () => fatal);
      phasesMs.messaging = nowMs() - startAtMs;
      cpuMessaging = process.cpuUsage(cpuStart);
      await enter('drain');
      t = nowMs();
      const drainDeadline = t + m.drainTimeoutSec * 1000;
      const reportsAfter = t + 50;
      while (nowMs() < drainDeadline) {
        if (fatal) throw fatal;
        const fresh = handles.every((h) => h.reportedAtMs > reportsAfter);
        if (fresh && sum('distinct') >= sum('expected')) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      await new Promise((r) => setTimeout(r, 300)); // let late duplicates show
      phasesMs.drain = nowMs() - t;
      finals = await all('final', { type: 'finish' });
    }

    await enter('close');
    t = nowMs();
    const closed = await all('closed', { type: 'close' });
    phasesMs.close = nowMs() - t;
    phase = 'done';
    clearInterval(ticker);
    phasesMs.total = nowMs() - t0;
    const cpuAll = process.cpuUsage(cpu0);

    // Books.
    const toMap = (pairs: [number, number][][]) => {
      const out = new Map<number, number>();
      for (const list of pairs) for (const [k, v] of list) out.set(k, (out.get(k) ?? 0) + v);
      return out;
    };
    const accounting = accountDeliveries({
      sent: toMap(finals.map((f) => f.sent)),
      roomOfSender: (s) => layout.roomOf(s),
      occupancy,
      distinct: toMap(finals.map((f) => f.distinct)),
      duplicates: toMap(finals.map((f) => f.duplicates)),
    });
    // XEP-0198 drop-and-resume: the same books over the deliveries to resuming clients only.
    const resumerOccupancy = new Array<number>(scenario.rooms.count).fill(0);
    for (const i of joined) if (layout.isResumer(i)) resumerOccupancy[layout.roomOf(i)]! += 1;
    const resumeBooks = accountDeliveries({
      sent: toMap(finals.map((f) => f.sent)),
      roomOfSender: (s) => layout.roomOf(s),
      occupancy: resumerOccupancy,
      distinct: toMap(finals.map((f) => f.resumerDistinct)),
      duplicates: toMap(finals.map((f) => f.resumerDuplicates)),
    });
    // Keys carry server text (error conditions, close reasons): no prototype to reach.
    const failures = Object.create(null) as Record<string, number>;
    const stanza = Object.create(null) as Record<string, number>;
    const mergeInto = (into: Record<string, number>, from: Record<string, number>) => {
      for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
    };
    // The 'closed' reports carry each worker's cumulative failures and errors.
    for (const c of closed) {
      mergeInto(failures, c.failures);
      mergeInto(stanza, c.stanzaErrors);
    }
    const misrouted = closed.reduce((n, c) => n + c.misrouted, 0);

    for (const f of finals) addBins(f.bins);
    const timeline: TimelinePoint[] = [];
    const lastSec = Math.max(-1, ...binsBySec.keys());
    for (let sec = 0; sec <= lastSec; sec++) {
      const b = binsBySec.get(sec);
      const h: Histogram | undefined = b && b.hists.length ? mergeHistograms(b.hists, 2) : undefined;
      const s = h ? summarize(h) : undefined;
      timeline.push({ t: sec, deliveries: b?.deliveries ?? 0, sent: b?.sent ?? 0, p50Ms: s?.p50Ms ?? 0, p99Ms: s?.p99Ms ?? 0, maxMs: s?.maxMs ?? 0, cpuPct: round1(cpuBySec.get(sec) ?? 0) });
    }
    const measured = timeline.filter((p) => p.t >= m.warmupSec && p.t < m.warmupSec + m.durationSec);
    const measuredSecs = Math.max(1e-9, m.durationSec);
    const latency = summarize(mergeHistograms(finals.map((f) => f.latency)));
    const maxSendLagMs = Math.max(0, ...finals.map((f) => f.sendLagMaxMs));
    const messagingCpu = phasesMs.messaging > 0 ? ((cpuMessaging.user + cpuMessaging.system) / 1000 / phasesMs.messaging) * 100 : 0;
    // Plain objects in the result (spread defines own properties: no key reaches a prototype).
    const errors = { stanza: { ...stanza }, failures: { ...failures }, misrouted };
    const v = verdict({ accounting, failures, stanzaErrors: stanza, misrouted });

    const result: LoadResult = {
      version: 1,
      tool: '@parley/loadgen',
      ok: v.ok,
      reasons: v.reasons,
      runId,
      scenario,
      targets: scenario.targets,
      transport: scenario.transport,
      workers: workerCount,
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      phasesMs: mapValues(phasesMs, Math.round),
      clients: { planned: scenario.accounts.count, loggedIn, joined: joined.length, roomsCreated },
      logins: {
        count: loggedIn,
        perSec: phasesMs.login > 0 ? round1(loggedIn / (phasesMs.login / 1000)) : 0,
        connect: summarize(mergeHistograms(logins.map((l) => l.connect))),
        login: summarize(mergeHistograms(logins.map((l) => l.login))),
      },
      joins: { count: joined.length, latency: summarize(mergeHistograms(joinHists)), stormMs: stormMs === null ? null : Math.round(stormMs), stormClients },
      messages: {
        ...accounting,
        senders: finals.reduce((n, f) => n + f.sent.length, 0),
        ratePerSender: m.ratePerSender,
        warmupSec: m.warmupSec,
        durationSec: m.durationSec,
        deliveriesPerSec: round1(measured.reduce((n, p) => n + p.deliveries, 0) / measuredSecs),
        sendsPerSec: round1(measured.reduce((n, p) => n + p.sent, 0) / measuredSecs),
        latency,
        maxSendLagMs: round1(maxSendLagMs),
        deferred: finals.reduce((n, f) => n + f.deferred, 0),
      },
      resume:
        scenario.resume.share > 0
          ? {
              clients: resumerOccupancy.reduce((n, x) => n + x, 0),
              resumptions: finals.reduce((n, f) => n + f.resumptions, 0),
              failed: finals.reduce((n, f) => n + f.resumeFailures, 0),
              time: summarize(mergeHistograms(finals.map((f) => f.resumeTime))),
              expected: resumeBooks.expected,
              delivered: resumeBooks.delivered,
              lost: resumeBooks.lost,
              duplicates: resumeBooks.duplicates,
              unexpected: resumeBooks.unexpected,
            }
          : null,
      timeline,
      errors,
      generator: {
        cores,
        cpuUserMs: Math.round(cpuAll.user / 1000),
        cpuSystemMs: Math.round(cpuAll.system / 1000),
        cpuPctOfOneCore: round1(((cpuAll.user + cpuAll.system) / 1000 / phasesMs.total) * 100),
        messagingCpuPctOfOneCore: round1(messagingCpu),
        peakCpuPctOfOneCore: round1(Math.max(0, ...timeline.map((p) => p.cpuPct))),
        peakWorkerElu: Math.round(peakElu * 1000) / 1000,
        maxRssBytes: process.resourceUsage().maxRSS * 1024,
        saturated: peakElu >= 0.9 || maxSendLagMs > 50,
        saturationNote: saturationNote(peakElu, maxSendLagMs),
      },
    };
    return result;
  } finally {
    phase = 'done';
    clearInterval(ticker);
    await stopAll();
  }
}

/**
 * Running from TypeScript source (tests, under tsx): Node 20 does not apply the main
 * thread's `--import tsx` loader to worker threads, so the worker registers tsx first.
 */
function sourceWorker(url: URL, init: WorkerInit): Worker {
  const tsx = import.meta.resolve('tsx/esm/api');
  const code = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}); });`;
  return new Worker(code, { eval: true, workerData: init });
}

function saturationNote(peakElu: number, lagMs: number): string | null {
  const notes: string[] = [];
  if (peakElu >= 0.9) notes.push(`a worker's event loop was ${Math.round(peakElu * 100)}% busy (add --workers or lower the load)`);
  if (lagMs > 50) notes.push(`a send ran ${Math.round(lagMs)} ms late: the generator was saturated or starved of CPU by other processes`);
  return notes.length ? notes.join('; ') : null;
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

function mapValues<T extends Record<string, number>>(o: T, f: (v: number) => number): T {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, f(v)])) as T;
}

async function sleepUntil(atMs: number, abort: () => Error | undefined): Promise<void> {
  for (;;) {
    const err = abort();
    if (err) throw err;
    const left = atMs - nowMs();
    if (left <= 0) return;
    await new Promise((r) => setTimeout(r, Math.min(left, 100)));
  }
}
