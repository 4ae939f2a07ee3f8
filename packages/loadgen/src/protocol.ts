/**
 * Messages between the orchestrating thread ({@link runScenario}) and the worker threads
 * (worker.ts). Times are epoch milliseconds on the shared clock ({@link nowMs}).
 */
import type { Scenario } from './scenario.js';

/** `workerData` of a worker thread. */
export interface WorkerInit {
  scenario: Scenario;
  runId: string;
  workerIndex: number;
  workers: number;
  targets: string[];
}

/** Commands to a worker. */
export type ToWorker =
  | { type: 'login'; startAtMs: number; ratePerSec: number }
  | { type: 'join'; group: 'owners' | 'others'; pattern: 'ramp' | 'storm'; startAtMs: number; ratePerSec: number }
  | { type: 'messages'; occupancy: number[]; startAtMs: number; measureFromMs: number; endAtMs: number; ratePerSender: number; maxSeq: number; deferAboveBytes: number }
  | { type: 'phase'; name: string }
  | { type: 'finish' }
  | { type: 'close' };

/** One second of the messaging timeline, as one worker saw it. */
export interface WireBin {
  /** Seconds since the messaging start. */
  sec: number;
  /** Distinct deliveries received in this second. */
  deliveries: number;
  /** Messages sent in this second. */
  sent: number;
  /** Latency histogram (µs, encoded) of those deliveries; null when none. */
  hist: string | null;
}

/** Counters sent with every progress report (cumulative since the worker started). */
export interface WorkerCounters {
  loggedIn: number;
  joined: number;
  sent: number;
  /** Σ over this worker's senders of sent × occupants of the room. */
  expected: number;
  distinct: number;
  duplicates: number;
  stanzaErrors: number;
  failures: number;
  /** Event-loop utilisation since the previous report, 0..1. */
  elu: number;
}

/** Reports from a worker. */
export type FromWorker =
  | { type: 'ready' }
  | { type: 'progress'; counters: WorkerCounters; bins: WireBin[] }
  | { type: 'login-done'; connect: string; login: string; loggedIn: number; failures: Record<string, number> }
  | { type: 'join-done'; join: string; joined: number[]; created: number; failures: Record<string, number>; firstSentMs: number; lastDoneMs: number }
  | {
      type: 'final';
      sent: [number, number][];
      distinct: [number, number][];
      duplicates: [number, number][];
      latency: string;
      misrouted: number;
      stanzaErrors: Record<string, number>;
      failures: Record<string, number>;
      bins: WireBin[];
      sendLagMaxMs: number;
      /** Scheduled sends skipped because the sender's socket still held unsent bytes. */
      deferred: number;
      /** Deliveries to this worker's resuming clients (XEP-0198 drop-and-resume), per sender. */
      resumerDistinct: [number, number][];
      resumerDuplicates: [number, number][];
      /** Drop → `<resumed/>` times, µs (encoded histogram). */
      resumeTime: string;
      /** Resumptions done / failed. */
      resumptions: number;
      resumeFailures: number;
    }
  | { type: 'closed'; failures: Record<string, number>; stanzaErrors: Record<string, number>; misrouted: number }
  | { type: 'fatal'; message: string };
