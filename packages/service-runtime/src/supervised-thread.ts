import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { RedisOptions } from 'ioredis';

/** What {@link SupervisedThread} needs. */
export interface SupervisedThreadOptions<Out> {
  /** What the thread is, for log lines (e.g. `heartbeat thread`). */
  name: string;
  /**
   * The built thread module (`dist/…/x.js`). Callers running from source (tests through tsx)
   * pass the built file all the same: Node 20 does not apply the main thread's loader hooks
   * to worker threads.
   */
  url: URL;
  /** `workerData` of every start. */
  workerData: unknown;
  log: Logger;
  onMessage(message: Out): void;
  /** Called after each start (the first included), e.g. to send the thread the state it must know. */
  onStart?(): void;
}

/**
 * A worker thread that is started again whenever it exits unexpectedly (logged at error
 * level), unref'd so that it never keeps the process alive. Used for the liveness work that
 * must not wait behind a busy main thread: the gateway's heartbeat, the room worker's lease
 * renewals.
 */
export class SupervisedThread<In, Out> {
  private worker: Worker | undefined;
  private stopped = false;

  constructor(private readonly opts: SupervisedThreadOptions<Out>) {}

  start(): void {
    const worker = new Worker(this.opts.url, { workerData: this.opts.workerData, execArgv: [] });
    worker.unref();
    worker.on('message', (m: Out) => this.opts.onMessage(m));
    worker.on('error', (err) => this.opts.log.error({ err }, `${this.opts.name} failed`));
    worker.on('exit', (code) => {
      if (this.stopped || this.worker !== worker) return;
      this.opts.log.error({ code }, `${this.opts.name} exited; starting it again`);
      this.start();
    });
    this.worker = worker;
    this.opts.onStart?.();
  }

  /** Posts to the thread (dropped while none runs). */
  post(message: In): void {
    this.worker?.postMessage(message);
  }

  /** Posts `last` (the thread's own stop message) and stops supervising: no restart after this. */
  stop(last: In): void {
    this.stopped = true;
    this.post(last);
    this.worker = undefined;
  }
}

/**
 * ioredis options for a liveness thread's own connection: no offline queue and no retries,
 * so that a heartbeat or lease renewal that cannot be sent now fails at once (it is worthless
 * later), no auto-pipelining (its writes never wait behind others), a connect timeout of
 * max(1 s, `periodMs`) and reconnects every 50–500 ms.
 * @param periodMs - how often the thread writes, ms
 */
export function livenessRedisOptions(periodMs: number): RedisOptions {
  return {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    enableAutoPipelining: false,
    connectTimeout: Math.max(1000, periodMs),
    retryStrategy: (times) => Math.min(times * 50, 500),
  };
}
