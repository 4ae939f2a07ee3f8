// What the comparison measures: the issue #5 scenarios (S1–S5, logins) and issue #15's S7
// (1,000 rooms × 10 with 1 % of the clients sending), each as a load
// generator scenario (packages/loadgen/src/scenario.ts) without targets, and how it is run:
//
//   throughput  stepped: the sender rate doubles each step (fresh server each time) until
//               p99 > 100 ms or any loss/duplicate/failure; saturation = best passing step
//   fixed       one run at a given total deliveries/s (the common-load latency figures)
//   storm       one run; the join-storm time
//   idle        one run; server RSS before vs while N clients sit joined and idle
//   logins      one run with stored accounts; logins/s
//
// `--repeat N` makes each of those runs (each throughput step) N runs, each on a fresh server:
// a step then passes when most of its runs pass (lib/report.ts `stepPasses`), and the report
// gives medians with their ranges (bench/compare/README.md "Repeated runs").
//
// The shapes here are the comparison's own (bench/scenarios/ holds the same scenarios for
// `pnpm load` by hand, with their own targets and login rates).
import type { ScenarioInput } from '../../packages/loadgen/src/index.js';

export type Kind = 'throughput' | 'fixed' | 'storm' | 'idle' | 'logins';

/** A scenario without targets (the harness adds the server's). */
export type Shape = Omit<ScenarioInput, 'targets'>;

export interface PlanItem {
  id: string;
  title: string;
  kind: Kind;
  shape: Shape;
  /** throughput: first sender rate (msgs/s per sender) and most steps */
  startRate?: number;
  maxSteps?: number;
  /** fixed: total deliveries/s wanted (the sender rate is derived from the shape) */
  deliveriesPerSec?: number;
}

/** Deliveries per second one message/s per sender produces with this shape (only the `sendingRooms` send). */
export function deliveriesPerUnitRate(s: Shape): number {
  const rooms = s.messages?.sendingRooms ?? s.rooms?.count ?? 0;
  const occupants = s.rooms?.occupantsPerRoom ?? 1;
  const senders = s.messages?.sendersPerRoom ?? 0;
  return rooms * senders * occupants;
}

const common = { domain: 'localhost', transport: 'tcp' as const };

/**
 * `count` rooms of `occupants`, one sender in each of `o.sendingRooms` of them (spread evenly,
 * loadgen's `messages.sendingRooms`; default every room), the others joined and quiet.
 */
function rooms(name: string, prefix: string, count: number, occupants: number, o: { window: number; warmup: number; loginRate: number; joinRate: number; sendingRooms?: number }): Shape {
  return {
    ...common,
    name,
    accounts: { prefix, count: count * occupants, mode: 'open' },
    login: { ratePerSec: o.loginRate, mechanism: 'PLAIN', initialPresence: true },
    rooms: { count, occupantsPerRoom: occupants, namePrefix: prefix, joinPattern: 'ramp', joinRatePerSec: o.joinRate },
    messages: { sendersPerRoom: 1, ...(o.sendingRooms !== undefined ? { sendingRooms: o.sendingRooms } : {}), ratePerSender: 1, bodyBytes: 64, warmupSec: o.warmup, durationSec: o.window, drainTimeoutSec: 10 },
  };
}

function storm(name: string, prefix: string, count: number, occupants: number, loginRate: number): Shape {
  return {
    ...common,
    name,
    accounts: { prefix, count: count * occupants, mode: 'open' },
    login: { ratePerSec: loginRate, mechanism: 'PLAIN' },
    rooms: { count, occupantsPerRoom: occupants, namePrefix: prefix, joinPattern: 'storm', joinTimeoutSec: 120 },
  };
}

function idle(name: string, prefix: string, clients: number, idleSec: number, loginRate: number): Shape {
  return {
    ...common,
    name,
    accounts: { prefix, count: clients, mode: 'open' },
    login: { ratePerSec: loginRate, mechanism: 'PLAIN' },
    rooms: { count: clients / 10, occupantsPerRoom: 10, namePrefix: prefix, joinPattern: 'ramp', joinRatePerSec: loginRate },
    idleSec,
  };
}

function logins(name: string, prefix: string, mechanism: 'PLAIN' | 'SCRAM-SHA-1', count: number): Shape {
  return {
    ...common,
    name,
    accounts: { prefix, count, password: 'bench-password', mode: 'pre-created' },
    login: { ratePerSec: 100_000, mechanism, initialPresence: false, maxInFlight: 100 },
  };
}

/** The full comparison (issue #5): on demand, about a quarter of an hour per server. */
export function fullPlan(): PlanItem[] {
  // The reference probe and the fixed loads keep the 20 s windows; the large stepped
  // scenarios (10,000 clients logged in per step) measure 10 s windows to keep a run short.
  const t = { window: 20, warmup: 5, loginRate: 1000, joinRate: 1000 };
  const big = { window: 10, warmup: 3, loginRate: 1000, joinRate: 1000 };
  return [
    { id: 'ref-100x10', title: '100 rooms × 10, one sender per room (the issue\'s reference probe)', kind: 'throughput', shape: rooms('ref-100x10', 'ref', 100, 10, t), startRate: 2, maxSteps: 7 },
    { id: 'fixed-2000', title: '100 rooms × 10 at 2,000 deliveries/s', kind: 'fixed', shape: rooms('fixed-2000', 'fx', 100, 10, t), deliveriesPerSec: 2000 },
    { id: 'fixed-16000', title: '100 rooms × 10 at 16,000 deliveries/s', kind: 'fixed', shape: rooms('fixed-16000', 'fx', 100, 10, t), deliveriesPerSec: 16000 },
    { id: 's2-1000x10', title: 'S2: 1,000 rooms × 10', kind: 'throughput', shape: rooms('s2-1000x10', 's2', 1000, 10, big), startRate: 0.25, maxSteps: 7 },
    { id: 's3-100x100', title: 'S3: 100 rooms × 100', kind: 'throughput', shape: rooms('s3-100x100', 's3', 100, 100, big), startRate: 0.25, maxSteps: 7 },
    { id: 's4-1x1000', title: 'S4: one room of 1,000, sender rate stepped', kind: 'throughput', shape: rooms('s4-1x1000', 's4', 1, 1000, big), startRate: 2, maxSteps: 7 },
    // Issue #15: 10,000 clients joined in 1,000 rooms of 10, 1 % sending (one sender in each of
    // 100 rooms, 900 rooms idle): 1,000 deliveries/s per message/s per sender, from 1,000/s to 64,000/s.
    { id: 's7-idle-1pct', title: 'S7: 10,000 clients in 1,000 rooms × 10, 1 % sending (100 rooms)', kind: 'throughput', shape: rooms('s7-idle-1pct', 's7', 1000, 10, { ...big, sendingRooms: 100 }), startRate: 1, maxSteps: 7 },
    { id: 'storm-500', title: 'Join storm: 500 clients into one room', kind: 'storm', shape: storm('storm-500', 'st5', 1, 500, 1000) },
    { id: 's5a-storm-1000', title: 'S5a: join storm, 1,000 clients into one room', kind: 'storm', shape: storm('s5a-storm-1000', 'st10', 1, 1000, 1000) },
    { id: 's5b-storm-100x100', title: 'S5b: join storm, 100 rooms × 100 at once', kind: 'storm', shape: storm('s5b-storm-100x100', 'st100', 100, 100, 1000) },
    { id: 's1-idle-10000', title: 'S1: 10,000 idle clients in rooms of 10 (memory per joined client)', kind: 'idle', shape: idle('s1-idle-10000', 's1', 10_000, 10, 1000) },
    { id: 'logins-plain', title: 'Logins/s, SASL PLAIN (stored accounts)', kind: 'logins', shape: logins('logins-plain', 'lp', 'PLAIN', 2000) },
    { id: 'logins-scram-sha-1', title: 'Logins/s, SASL SCRAM-SHA-1 (stored accounts)', kind: 'logins', shape: logins('logins-scram-sha-1', 'ls', 'SCRAM-SHA-1', 2000) },
  ];
}

/** `--quick`: the same kinds at tiny scale, a few seconds each, to check the harness works end to end. */
export function quickPlan(): PlanItem[] {
  const t = { window: 3, warmup: 1, loginRate: 500, joinRate: 500 };
  return [
    { id: 'ref-10x10', title: '10 rooms × 10, one sender per room (quick)', kind: 'throughput', shape: rooms('ref-10x10', 'qref', 10, 10, t), startRate: 5, maxSteps: 2 },
    { id: 'fixed-2000', title: '10 rooms × 10 at 2,000 deliveries/s (quick)', kind: 'fixed', shape: rooms('fixed-2000', 'qfx', 10, 10, t), deliveriesPerSec: 2000 },
    { id: 'fixed-16000', title: '10 rooms × 10 at 16,000 deliveries/s (quick)', kind: 'fixed', shape: rooms('fixed-16000', 'qfx', 10, 10, t), deliveriesPerSec: 16000 },
    { id: 'storm-50', title: 'Join storm: 50 clients into one room (quick)', kind: 'storm', shape: storm('storm-50', 'qst', 1, 50, 500) },
    { id: 'idle-200', title: '200 idle clients in rooms of 10 (quick)', kind: 'idle', shape: idle('idle-200', 'qidle', 200, 2, 500) },
    { id: 'logins-plain', title: 'Logins/s, SASL PLAIN (quick, 100 stored accounts)', kind: 'logins', shape: logins('logins-plain', 'qlp', 'PLAIN', 100) },
    { id: 'logins-scram-sha-1', title: 'Logins/s, SASL SCRAM-SHA-1 (quick, 100 stored accounts)', kind: 'logins', shape: logins('logins-scram-sha-1', 'qls', 'SCRAM-SHA-1', 100) },
  ];
}
