/**
 * A worker thread: owns the clients `i ≡ workerIndex (mod workers)` and runs each phase
 * when told (login, join owners, join others, messages, finish, close), reporting counters
 * every 500 ms and a result at the end of each phase.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import type { BodyStamp } from './body-stamp.js';
import { nowMs } from './clock.js';
import { DeliveryLedger } from './delivery-ledger.js';
import { encodeHistogram, newHistogram, recordUs, type Histogram } from './histogram.js';
import { Layout } from './layout.js';
import type { FromWorker, ToWorker, WireBin, WorkerInit } from './protocol.js';
import { PhaseError, SimClient, type ClientHooks } from './sim-client.js';

const init = workerData as WorkerInit;
const port = parentPort!;
const { scenario } = init;
const layout = new Layout(scenario, init.targets, init.workers, init.runId);
const post = (m: FromWorker) => port.postMessage(m);

// Counts keyed by text that includes what a server sent (error conditions, close reasons):
// objects without a prototype, so no key can reach Object.prototype.
const failures = Object.create(null) as Record<string, number>;
const stanzaErrors = Object.create(null) as Record<string, number>;
let failureCount = 0;
let stanzaErrorCount = 0;
let misrouted = 0;
let currentPhase = 'login';
const fail = (key: string) => {
  failures[key] = (failures[key] ?? 0) + 1;
  failureCount++;
};

// Messaging state (set by the 'messages' command).
let ledger: DeliveryLedger | undefined;
let latency: Histogram = newHistogram(3);
let measureFromUs = Infinity;
let messagingStartMs = 0;
let occupancy: number[] = [];
let sendersSent = 0;
let sendLagMaxMs = 0;
let deferred = 0;
// XEP-0198 drop-and-resume (scenario.resume): deliveries to resuming clients, per sender.
const resumerDistinct = new Map<number, number>();
const resumerDuplicates = new Map<number, number>();
const resumeTime: Histogram = newHistogram(3);
let resumptions = 0;
let resumeFailures = 0;
const resumesInFlight = new Set<Promise<void>>();
let dropTimers: NodeJS.Timeout[] = [];
const bins = new Map<number, { deliveries: number; sent: number; hist: Histogram | undefined }>();
const binAt = (ms: number) => {
  const sec = Math.max(0, Math.floor((ms - messagingStartMs) / 1000));
  let b = bins.get(sec);
  if (!b) {
    b = { deliveries: 0, sent: 0, hist: undefined };
    bins.set(sec, b);
  }
  return b;
};

const hooks: ClientHooks = {
  onDelivery(client: SimClient, stamp: BodyStamp, recvUs: number) {
    if (ledger === undefined) return;
    const room = layout.roomOf(stamp.sender);
    const pos = layout.positionOf(stamp.sender);
    if (room !== client.room || stamp.sender >= layout.clients || !layout.isSender(stamp.sender)) {
      misrouted++;
      return;
    }
    const outcome = ledger.record(client.slot, pos, stamp.sender, stamp.seq);
    if (client.resumable) {
      const books = outcome === 'duplicate' ? resumerDuplicates : resumerDistinct;
      books.set(stamp.sender, (books.get(stamp.sender) ?? 0) + 1);
    }
    if (outcome === 'duplicate') return;
    const lat = recvUs - stamp.sendUs;
    if (stamp.sendUs >= measureFromUs) recordUs(latency, lat);
    const b = binAt(recvUs / 1000);
    b.deliveries++;
    b.hist ??= newHistogram(2);
    recordUs(b.hist, lat);
  },
  onStanzaError(kind: string, condition: string) {
    const key = `${kind}/${condition}`;
    stanzaErrors[key] = (stanzaErrors[key] ?? 0) + 1;
    stanzaErrorCount++;
  },
  onDropped(_client: SimClient, reason: string) {
    fail(`dropped during ${currentPhase}: ${reason}`);
  },
};

const mine = layout.clientsOfWorker(init.workerIndex);
const clients: SimClient[] = mine.map(
  (i, slot) =>
    new SimClient(i, layout.roomOf(i), slot, {
      transport: scenario.transport,
      websocketPath: scenario.websocketPath,
      domain: scenario.domain,
      password: scenario.accounts.password,
      mechanism: scenario.login.mechanism,
      initialPresence: scenario.login.initialPresence,
      runId: init.runId,
      bodyBytes: scenario.messages.bodyBytes,
    }, hooks),
);

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));

/** Starts `count` tasks at `ratePerSec` from `startAtMs`, at most `maxInFlight` at once. */
async function paced(count: number, startAtMs: number, ratePerSec: number, maxInFlight: number, task: (k: number) => Promise<void>): Promise<void> {
  let inFlight = 0;
  let freed: (() => void) | undefined;
  const all: Promise<void>[] = [];
  for (let k = 0; k < count; k++) {
    const due = startAtMs + (k * 1000) / ratePerSec;
    const wait = due - nowMs();
    if (wait > 1) await sleep(wait);
    while (inFlight >= maxInFlight) await new Promise<void>((r) => (freed = r));
    inFlight++;
    all.push(
      task(k).finally(() => {
        inFlight--;
        const f = freed;
        freed = undefined;
        f?.();
      }),
    );
  }
  await Promise.all(all);
}

async function loginPhase(cmd: Extract<ToWorker, { type: 'login' }>): Promise<void> {
  currentPhase = 'login';
  const connect = newHistogram(3);
  const login = newHistogram(3);
  let loggedIn = 0;
  await paced(clients.length, cmd.startAtMs, cmd.ratePerSec, scenario.login.maxInFlight, async (k) => {
    const c = clients[k]!;
    try {
      const sm = layout.isResumer(c.index) ? { ackEvery: scenario.resume.ackEvery } : undefined;
      const t = await c.login(layout.targetOf(c.index), layout.username(c.index), scenario.login.timeoutSec * 1000, sm);
      c.targetIndex = c.index % init.targets.length;
      recordUs(connect, t.connectUs);
      recordUs(login, t.loginUs);
      loggedIn++;
    } catch (err) {
      const e = err instanceof PhaseError ? err : new PhaseError('login', (err as Error).message);
      fail(`${e.phase}: ${e.reason}`);
      c.destroy();
    }
  });
  post({ type: 'login-done', connect: encodeHistogram(connect), login: encodeHistogram(login), loggedIn, failures: { ...failures } });
}

async function joinPhase(cmd: Extract<ToWorker, { type: 'join' }>): Promise<void> {
  currentPhase = 'join';
  const group = clients.filter((c) => c.loggedIn && !c.closed && c.room >= 0 && (layout.positionOf(c.index) === 0) === (cmd.group === 'owners'));
  const hist = newHistogram(3);
  const joined: number[] = [];
  let created = 0;
  let firstSentMs = 0;
  let lastDoneMs = 0;
  const one = async (c: SimClient) => {
    if (firstSentMs === 0) firstSentMs = nowMs();
    try {
      const r = await c.join(layout.roomJid(c.room), layout.nick(c.index), scenario.rooms.configureInstant, scenario.rooms.joinTimeoutSec * 1000, scenario.rooms.config);
      recordUs(hist, r.joinUs);
      joined.push(c.index);
      if (r.created) created++;
      lastDoneMs = Math.max(lastDoneMs, nowMs());
    } catch (err) {
      const e = err instanceof PhaseError ? err : new PhaseError('join', (err as Error).message);
      fail(`${e.phase}: ${e.reason}`);
    }
  };
  if (cmd.pattern === 'storm') {
    const wait = cmd.startAtMs - nowMs();
    if (wait > 0) await sleep(wait);
    await Promise.all(group.map(one));
  } else {
    await paced(group.length, cmd.startAtMs, cmd.ratePerSec, Number.MAX_SAFE_INTEGER, (k) => one(group[k]!));
  }
  post({ type: 'join-done', join: encodeHistogram(hist), joined, created, failures: { ...failures }, firstSentMs, lastDoneMs });
}

let sendingDone: Promise<void> = Promise.resolve();

function messagesPhase(cmd: Extract<ToWorker, { type: 'messages' }>): void {
  currentPhase = 'messaging';
  occupancy = cmd.occupancy;
  messagingStartMs = cmd.startAtMs;
  measureFromUs = cmd.measureFromMs * 1000;
  latency = newHistogram(3);
  ledger = new DeliveryLedger(clients.length, layout.sendersPerRoom, cmd.maxSeq);
  startDrops(cmd.startAtMs, cmd.endAtMs);
  const senders = clients.filter((c) => c.joined && layout.isSender(c.index));
  const interval = 1000 / cmd.ratePerSender;
  // Spread the senders' phases over one interval (golden-ratio sequence), ordered by phase.
  const order = senders.map((c) => ({ c, offset: ((c.index * 0.6180339887498949) % 1) * interval })).sort((a, b) => a.offset - b.offset);
  if (order.length === 0) return;
  let ptr = 0;
  let cycle = 0;
  const due = () => cmd.startAtMs + order[ptr]!.offset + cycle * interval;
  sendingDone = new Promise<void>((resolve) => {
    const tick = () => {
      const now = nowMs();
      for (;;) {
        const d = due();
        if (d >= cmd.endAtMs) {
          resolve();
          return;
        }
        if (d > now) break;
        if (now - d > sendLagMaxMs) sendLagMaxMs = now - d;
        const c = order[ptr]!.c;
        if (c.joined && !c.closed && cmd.deferAboveBytes > 0 && c.pendingBytes > cmd.deferAboveBytes) {
          deferred++; // the server is not reading this sender: a blocking client would not send now
        } else if (c.joined && !c.closed) {
          c.sendGroupchat();
          sendersSent++;
          binAt(now).sent++;
        }
        if (++ptr === order.length) {
          ptr = 0;
          cycle++;
        }
      }
      setTimeout(tick, Math.max(0, due() - nowMs()));
    };
    setTimeout(tick, Math.max(0, due() - nowMs()));
  });
}

/**
 * Schedules the drop-and-resume of every resuming client between `startAtMs` and `endAtMs`:
 * every `resume.everySec`, each client with its own phase (golden-ratio sequence), on the
 * next target of the list.
 */
function startDrops(startAtMs: number, endAtMs: number): void {
  const everyMs = scenario.resume.everySec * 1000;
  for (const c of clients) {
    if (!c.resumable || c.closed) continue;
    const offset = (((c.index + 1) * 0.6180339887498949) % 1) * everyMs;
    let next = startAtMs + offset;
    const arm = () => {
      if (next >= endAtMs) return;
      const timer = setTimeout(() => {
        next += everyMs;
        if (c.closed || c.resuming) return arm();
        const target = (c.targetIndex + 1) % init.targets.length;
        const p = c
          .dropAndResume(init.targets[target]!, target, layout.username(c.index), scenario.resume.timeoutSec * 1000)
          .then(
            (us) => {
              recordUs(resumeTime, us);
              resumptions++;
              arm();
            },
            (err: unknown) => {
              resumeFailures++;
              const e = err instanceof PhaseError ? err : new PhaseError('resume', (err as Error).message);
              fail(`${e.phase}: ${e.reason}`);
            },
          )
          .finally(() => resumesInFlight.delete(p));
        resumesInFlight.add(p);
      }, Math.max(0, next - nowMs()));
      dropTimers.push(timer);
    };
    arm();
  }
}

/** Stops scheduling drops and waits for the resumptions under way. */
async function stopDrops(): Promise<void> {
  for (const t of dropTimers) clearTimeout(t);
  dropTimers = [];
  while (resumesInFlight.size) await Promise.all([...resumesInFlight]);
}

/** Σ sent × occupants over this worker's senders. */
function expectedSoFar(): number {
  let n = 0;
  for (const c of clients) if (c.sent > 0) n += c.sent * (occupancy[c.room] ?? 0);
  return n;
}

/** Completed bins (all when `all`), removed from the map. */
function takeBins(all: boolean): WireBin[] {
  const current = Math.floor((nowMs() - messagingStartMs) / 1000);
  const out: WireBin[] = [];
  for (const [sec, b] of bins) {
    if (!all && sec >= current) continue;
    out.push({ sec, deliveries: b.deliveries, sent: b.sent, hist: b.hist ? encodeHistogram(b.hist) : null });
    bins.delete(sec);
  }
  return out;
}

let elu = performance.eventLoopUtilization();
const progress = setInterval(() => {
  const next = performance.eventLoopUtilization();
  const delta = performance.eventLoopUtilization(next, elu);
  elu = next;
  post({
    type: 'progress',
    counters: {
      loggedIn: clients.reduce((n, c) => n + (c.loggedIn ? 1 : 0), 0),
      joined: clients.reduce((n, c) => n + (c.joined ? 1 : 0), 0),
      sent: sendersSent,
      expected: expectedSoFar(),
      distinct: ledger?.distinct ?? 0,
      duplicates: ledger?.duplicates ?? 0,
      stanzaErrors: stanzaErrorCount,
      failures: failureCount,
      elu: delta.utilization,
    },
    bins: messagingStartMs > 0 ? takeBins(false) : [],
  });
}, 250);

async function finish(): Promise<void> {
  await sendingDone;
  await stopDrops();
  const sent: [number, number][] = [];
  for (const c of clients) if (c.sent > 0) sent.push([c.index, c.sent]);
  post({
    type: 'final',
    sent,
    distinct: [...(ledger?.distinctBySender ?? [])],
    duplicates: [...(ledger?.duplicatesBySender ?? [])],
    latency: encodeHistogram(latency),
    misrouted,
    stanzaErrors: { ...stanzaErrors },
    failures: { ...failures },
    bins: messagingStartMs > 0 ? takeBins(true) : [],
    sendLagMaxMs,
    deferred,
    resumerDistinct: [...resumerDistinct],
    resumerDuplicates: [...resumerDuplicates],
    resumeTime: encodeHistogram(resumeTime),
    resumptions,
    resumeFailures,
  });
}

async function closeAll(): Promise<void> {
  currentPhase = 'close';
  clearInterval(progress);
  await stopDrops();
  await Promise.all(clients.map((c) => c.close()));
  post({ type: 'closed', failures: { ...failures }, stanzaErrors: { ...stanzaErrors }, misrouted });
}

port.on('message', (cmd: ToWorker) => {
  const run = (): Promise<void> | void => {
    switch (cmd.type) {
      case 'login':
        return loginPhase(cmd);
      case 'join':
        return joinPhase(cmd);
      case 'messages':
        return messagesPhase(cmd);
      case 'phase':
        currentPhase = cmd.name;
        return;
      case 'finish':
        currentPhase = 'drain';
        return finish();
      case 'close':
        return closeAll();
    }
  };
  Promise.resolve()
    .then(run)
    .catch((err: unknown) => post({ type: 'fatal', message: (err as Error).stack ?? String(err) }));
});

post({ type: 'ready' });
