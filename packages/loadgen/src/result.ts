/**
 * The shape of a run's result: what {@link runScenario} resolves with and what `--out`
 * writes as JSON. Durations are milliseconds unless the name says otherwise; latency
 * summaries come from HDR histograms recorded in microseconds.
 */
import type { Accounting } from './accounting.js';
import type { LatencySummary } from './histogram.js';
import type { Scenario } from './scenario.js';

/** One second of the messaging phase. */
export interface TimelinePoint {
  /** Seconds since sending started (the warm-up is `t < scenario.messages.warmupSec`). */
  t: number;
  /** Distinct deliveries received during this second (deliveries/s). */
  deliveries: number;
  /** Messages sent during this second. */
  sent: number;
  /** Latency of this second's deliveries, ms (0 when none). */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** The generator process's CPU during this second, % of one core (all threads). */
  cpuPct: number;
}

/** The result of one run. */
export interface LoadResult {
  version: 1;
  tool: '@parley/loadgen';
  /** Zero failures, zero loss, zero duplicates, zero stanza errors. */
  ok: boolean;
  /** Why not ok, one sentence each (empty when ok). */
  reasons: string[];
  runId: string;
  /** The scenario as run (defaults and overrides applied). */
  scenario: Scenario;
  targets: string[];
  transport: 'tcp' | 'websocket';
  /** Worker threads used. */
  workers: number;
  startedAt: string;
  finishedAt: string;
  /** Wall time of each phase, ms. `joinOwners`: rooms' first occupants (and instant-room forms); `join`: everyone else. */
  phasesMs: { login: number; joinOwners: number; join: number; idle: number; messaging: number; drain: number; close: number; total: number };
  clients: { planned: number; loggedIn: number; joined: number; roomsCreated: number };
  logins: {
    /** Successful logins. */
    count: number;
    /** Successful logins per second of the login phase. */
    perSec: number;
    /** TCP connect (or WebSocket handshake) time. */
    connect: LatencySummary;
    /** Stream open → SASL → bind (→ session) done. */
    login: LatencySummary;
  };
  joins: {
    count: number;
    /** Presence sent → own self-presence (status 110) received (+ instant-room form for creators). */
    latency: LatencySummary;
    /** `storm` only: first non-owner join sent → last one's self-presence received, ms; null for `ramp`. */
    stormMs: number | null;
    /** Clients in the storm. */
    stormClients: number;
  };
  messages: Accounting & {
    senders: number;
    ratePerSender: number;
    warmupSec: number;
    durationSec: number;
    /** Distinct deliveries per second over the measured window (after warm-up). */
    deliveriesPerSec: number;
    /** Messages sent per second over the measured window. */
    sendsPerSec: number;
    /** Delivery latency of messages sent after the warm-up (send stamp → receipt), ms. */
    latency: LatencySummary;
    /** Worst lateness of a send against its schedule, ms (large values: the generator fell behind). */
    maxSendLagMs: number;
    /** Scheduled sends skipped while the sender's socket held unsent bytes (`messages.deferAboveBytes`; backpressure). */
    deferred: number;
  };
  /**
   * XEP-0198 drop-and-resume (`scenario.resume`), null when no client resumes: the books of
   * the groupchat deliveries addressed to resuming clients that had joined (exactly once
   * across resumptions: `lost` and `duplicates` must be 0), and the resumption time (socket
   * destroyed → `<resumed/>` received on the next target: connect, SASL, resume).
   */
  resume: {
    /** Resuming clients that joined a room. */
    clients: number;
    resumptions: number;
    /** Resumptions that failed (`<failed/>`, timeout, connection refused); also in `errors.failures`. */
    failed: number;
    time: LatencySummary;
    expected: number;
    delivered: number;
    lost: number;
    duplicates: number;
    unexpected: number;
  } | null;
  /** Per second of the messaging phase. */
  timeline: TimelinePoint[];
  errors: {
    /** Stanza errors received, by `<message|presence|iq|stream>/<condition>`. */
    stanza: Record<string, number>;
    /** Client failures by `<phase>: <reason>` (connect, login, bind, join, configure, dropped during …). */
    failures: Record<string, number>;
    /** Deliveries from a sender of another room. */
    misrouted: number;
  };
  /** The generator's own resource use (all threads of its process). */
  generator: {
    cores: number;
    cpuUserMs: number;
    cpuSystemMs: number;
    /** Average over the whole run, % of one core. */
    cpuPctOfOneCore: number;
    /** Average over the messaging phase, % of one core. */
    messagingCpuPctOfOneCore: number;
    /** Highest per-second CPU during messaging, % of one core. */
    peakCpuPctOfOneCore: number;
    /** Highest event-loop utilisation of any worker over a 250 ms report (0..1) during messaging. */
    peakWorkerElu: number;
    maxRssBytes: number;
    /** Heuristic: a worker's event loop was ≥ 90% busy or sends fell > 50 ms behind: the numbers may measure the generator. */
    saturated: boolean;
    /** Why `saturated` is set (busy event loop, or late sends: the generator was saturated or starved of CPU by other processes); null when not. */
    saturationNote: string | null;
  };
}
