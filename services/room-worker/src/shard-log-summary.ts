import type { Logger, LogFn } from 'pino';

/** Per-shard lines of the room worker that are logged at debug instead of info. */
const PER_SHARD = new Map<string, 'acquired' | 'released' | 'handedOver'>([
  ['shard acquired', 'acquired'],
  ['shard released', 'released'],
  ['handing shard over', 'handedOver'],
]);

/** The message of a pino call's arguments: `(msg, ...)` or `(obj, msg, ...)`. */
function messageOf(args: readonly unknown[]): string | undefined {
  if (typeof args[0] === 'string') return args[0];
  return typeof args[1] === 'string' ? args[1] : undefined;
}

/**
 * One info line instead of one per shard (issue #14 item 4). A room worker acquires, hands
 * over and releases shards one by one: 64 shards over a few workers made hundreds of info
 * lines at each start or rebalance. With {@link hook} installed as the pino `logMethod` hook,
 * the info lines `shard acquired`, `handing shard over` and `shard released` are logged at
 * debug (with all their fields, for `log.level: debug`), counted, and `debounceMs` after the
 * last of a burst one info line sums them up:
 * `{ acquired, handedOver, released, holding: [shard numbers], holdingCount, shards }`
 * with the message `room shards changed`. `shard lost` (warn) stays one line per shard.
 */
export class ShardLogSummary {
  private counts = { acquired: 0, released: 0, handedOver: 0 };
  private timer: NodeJS.Timeout | undefined;
  private target: Logger | undefined;
  private holding: () => readonly number[] = () => [];

  /** The pino `hooks.logMethod`: demotes and counts the per-shard lines. */
  readonly hook: (this: Logger, args: Parameters<LogFn>, method: LogFn, level: number) => void;

  constructor(private readonly totalShards: number, private readonly debounceMs = 1000) {
    const count = (kind: 'acquired' | 'released' | 'handedOver') => this.count(kind);
    this.hook = function (this: Logger, args: Parameters<LogFn>, method: LogFn, level: number): void {
      const kind = level === 30 ? PER_SHARD.get(messageOf(args) ?? '') : undefined;
      if (kind === undefined) {
        method.apply(this, args);
        return;
      }
      count(kind);
      (this.debug as (...a: unknown[]) => void)(...args);
    };
  }

  /** Where the summary goes (the worker's logger) and how to read the shards held now. */
  attach(target: Logger, holding: () => readonly number[]): void {
    this.target = target;
    this.holding = holding;
  }

  /** Logs the pending summary now (e.g. at stop), if anything changed since the last one. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const c = this.counts;
    if (c.acquired + c.released + c.handedOver === 0 || !this.target) return;
    this.counts = { acquired: 0, released: 0, handedOver: 0 };
    const holding = [...this.holding()].sort((a, b) => a - b);
    this.target.info({ ...c, holdingCount: holding.length, holding, shards: this.totalShards }, 'room shards changed');
  }

  private count(kind: 'acquired' | 'released' | 'handedOver'): void {
    this.counts[kind]++;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.flush(), this.debounceMs);
    this.timer.unref();
  }
}
