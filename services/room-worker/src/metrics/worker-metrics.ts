/*
 * The room worker's Prometheus metrics (issue #4), in the process registry that
 * `MetricsPublisher` (`@parley/metrics`) writes to Redis. Counters are incremented inline
 * (label children cached); the gauges are read from the worker's state when the registry is
 * read, i.e. once per publication, not on every turn.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { InputKind } from '../shard/shard-actor.js';

/** What the gauges read from the worker when the registry is read. */
export interface WorkerGaugeSource {
  /** Rooms and occupants in memory, over every loaded shard. */
  roomCounts(): { rooms: number; occupants: number };
  /** Shards leased (loaded or loading). */
  shardsHeld(): number;
  /** Entries waiting in each held shard's stream (XLEN: the commit trims what it applied). */
  shardLag(): Promise<Map<number, number>>;
}

/** Buckets of the wait histograms, in seconds: 1 ms to 10 s. */
export const WAIT_BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * `parley_rooms`, `parley_occupants`, `parley_shards_held`, `parley_shard_lag_entries{shard}`
 * (gauges), `parley_room_inputs_total{kind}`, `parley_turns_total` (counters),
 * `parley_room_input_wait_seconds` (histogram: the room worker hop's queueing delay).
 */
export class WorkerMetrics {
  private readonly inputs: Counter<'kind'>;
  private readonly inputChildren = new Map<InputKind, Counter.Internal>();
  private readonly turns: Counter;
  private readonly inputWait: Histogram;

  constructor(registry: Registry, source: WorkerGaugeSource) {
    const registers = [registry];
    this.inputs = new Counter({ name: 'parley_room_inputs_total', help: 'Shard stream entries applied, by kind', labelNames: ['kind'], registers });
    this.turns = new Counter({ name: 'parley_turns_total', help: 'Turns committed (one per batch of entries of one shard)', registers });
    this.inputWait = new Histogram({
      name: 'parley_room_input_wait_seconds',
      help: 'Time from a shard stream entry being added (its id: Redis time) to the turn that applies it (worker clock)',
      buckets: WAIT_BUCKETS_S,
      registers,
    });
    new Gauge({
      name: 'parley_rooms',
      help: 'Rooms in memory on this worker',
      registers,
      collect() {
        this.set(source.roomCounts().rooms);
      },
    });
    new Gauge({
      name: 'parley_occupants',
      help: 'Occupants (nicks) of the rooms in memory on this worker',
      registers,
      collect() {
        this.set(source.roomCounts().occupants);
      },
    });
    new Gauge({
      name: 'parley_shards_held',
      help: 'Shards this worker holds a lease on',
      registers,
      collect() {
        this.set(source.shardsHeld());
      },
    });
    new Gauge({
      name: 'parley_shard_lag_entries',
      help: 'Entries in the stream of each held shard not yet committed (XLEN when the metrics are read)',
      labelNames: ['shard'],
      registers,
      async collect() {
        const lag = await source.shardLag();
        this.reset(); // shards no longer held disappear
        for (const [shard, n] of lag) this.set({ shard: String(shard) }, n);
      },
    });
  }

  /** Counts one shard stream entry of `kind`. */
  input(kind: InputKind): void {
    let child = this.inputChildren.get(kind);
    if (!child) this.inputChildren.set(kind, (child = this.inputs.labels(kind)));
    child.inc();
  }

  /** Records how long an entry waited between its XADD and its turn, in ms (negative: clock skew, counted as 0). */
  waited(ms: number): void {
    this.inputWait.observe(Math.max(0, ms) / 1000);
  }

  /** Counts one committed turn. */
  turn(): void {
    this.turns.inc();
  }
}
