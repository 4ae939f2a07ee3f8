/**
 * Bounded input per client session (issue #10): token buckets on bytes and elements read,
 * and a bound on parsed-but-unhandled elements. When any of them is exhausted the session
 * stops reading its socket (the kernel's receive window then fills and TCP backpressure
 * slows the client down); reading resumes once tokens are back or the queue has drained.
 * Nothing is dropped and nobody is disconnected: this is shaping, like Prosody's
 * mod_limits and ejabberd's shapers, not policing.
 *
 * The buckets are our own few lines rather than a library (rate-limiter-flexible's
 * memory limiter allocates a promise and a record per call): they run on every socket
 * read and every element, on the hot path.
 */

/**
 * A token bucket that may go into debt: `take(n)` always succeeds and may leave the level
 * negative (a read has already happened when it is counted), and the owner waits
 * {@link msUntilPositive} before taking more. The level refills at `ratePerSec` up to `burst`.
 */
export class TokenBucket {
  private level: number;
  private last: number;

  /**
   * @param ratePerSec - tokens added per second (> 0)
   * @param burst - the most tokens held (the bucket starts full)
   * @param now - a monotonic clock in ms
   */
  constructor(
    private readonly ratePerSec: number,
    private readonly burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.level = burst;
    this.last = now();
  }

  /** Takes `n` tokens (possibly into debt); returns the level afterwards. */
  take(n: number): number {
    this.refill();
    this.level -= n;
    return this.level;
  }

  /** Milliseconds until the level is back above zero; 0 when it is already. */
  msUntilPositive(): number {
    this.refill();
    return this.level > 0 ? 0 : Math.ceil(((1 - this.level) * 1000) / this.ratePerSec);
  }

  private refill(): void {
    const t = this.now();
    const elapsed = t - this.last;
    this.last = t;
    if (elapsed > 0) this.level = Math.min(this.burst, this.level + (elapsed * this.ratePerSec) / 1000);
  }
}

/** What an {@link InputFlow} pauses and resumes: the transport's socket reading. */
export interface Readable {
  pauseReading(): void;
  resumeReading(): void;
}

/** Settings of an {@link InputFlow} (the `limits.*` configuration). */
export interface InputFlowOptions {
  bytesPerSecond: number;
  burstBytes: number;
  stanzasPerSecond: number;
  burstStanzas: number;
  /** Reading pauses at this many queued elements and resumes at half of it. */
  maxQueued: number;
}

/**
 * Decides when one session's socket is read. The transport reports bytes read
 * ({@link onBytes}); the session reports each element it queues and each it has handled.
 * The queue can exceed `maxQueued` by the elements of the read chunk in progress (the
 * parser emits a chunk's elements synchronously); transports feed the parser in bounded
 * slices, which bounds that excess too.
 */
export class InputFlow {
  private readonly bytes: TokenBucket;
  private readonly stanzas: TokenBucket;
  private queued = 0;
  private queueFull = false;
  private paused = false;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly target: Readable, private readonly opts: InputFlowOptions, now?: () => number) {
    this.bytes = new TokenBucket(opts.bytesPerSecond, opts.burstBytes, now);
    this.stanzas = new TokenBucket(opts.stanzasPerSecond, opts.burstStanzas, now);
  }

  /** Elements parsed but not yet handled. */
  get queueLength(): number {
    return this.queued;
  }

  /** `n` bytes were read from the client. */
  onBytes(n: number): void {
    if (this.bytes.take(n) <= 0) this.update();
  }

  /** An element was parsed and queued for handling. */
  onQueued(): void {
    this.queued += 1;
    if (this.queued >= this.opts.maxQueued) this.queueFull = true;
    if (this.stanzas.take(1) <= 0 || this.queueFull) this.update();
  }

  /** A queued element has been handled. */
  onHandled(): void {
    this.queued -= 1;
    if (this.queueFull && this.queued <= this.opts.maxQueued >> 1) {
      this.queueFull = false;
      this.update();
    }
  }

  /** The session is over: no more timers, reading stays as it is. */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private update(): void {
    if (this.stopped) return;
    const wait = Math.max(this.bytes.msUntilPositive(), this.stanzas.msUntilPositive());
    const pause = this.queueFull || wait > 0;
    if (pause && !this.paused) {
      this.paused = true;
      this.target.pauseReading();
    } else if (!pause && this.paused) {
      this.paused = false;
      this.target.resumeReading();
    }
    if (wait > 0 && !this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.update();
      }, wait);
    }
  }
}
