/**
 * XEP-0198 stream management (v1.6.3) counters and the queue of unacknowledged stanzas of
 * one session, without I/O.
 */

/** The XEP-0198 namespace (version 3 of the protocol, XEP-0198 §2). */
export const SM_NS = 'urn:xmpp:sm:3';

/** Sequence numbers wrap from 2^32 - 1 back to zero (XEP-0198 §4). */
const MOD = 2 ** 32;

/**
 * Parses an `h` attribute: an xs:unsignedInt (0 .. 2^32 - 1, decimal digits only, XEP-0198 §4).
 * @returns the number, or undefined for anything else (missing, signed, too large, not digits)
 */
export function parseH(text: string | undefined): number | undefined {
  if (text === undefined || !/^[0-9]{1,10}$/.test(text)) return undefined;
  const n = Number(text);
  return n < MOD ? n : undefined;
}

/** The outcome of an `h` from the client (XEP-0198 §4 `<a/>`, §5 `<resume/>`). */
export type AckResult<T> =
  | { ok: true; acked: T[] }
  /** `h` acknowledges more than was sent (XEP-0198 §6 handled-count-too-high): `sent` is our count. */
  | { ok: false; sent: number };

/**
 * Both counters of one stream-management session (XEP-0198 §4): `inbound` is the `h` of
 * stanzas handled from the client; outbound stanzas stay in the queue until the client
 * acknowledges them. Invariant: stanzas sent = last acknowledged `h` + queue length (mod 2^32);
 * stanzas queued while the session is detached count as sent (they go out on resumption).
 * @typeParam T - what the session keeps of a sent stanza to re-send or re-route it
 */
export class SmState<T> {
  /** Stanzas handled from the client, mod 2^32 (the `h` of our `<a/>` and `<resumed/>`). */
  inbound = 0;
  /** The last `h` the client acknowledged, mod 2^32. */
  private ackedH = 0;
  private queue: T[] = [];
  private head = 0;

  /** @param max - most unacknowledged stanzas (`sm.maxUnacked`) before {@link push} says full */
  constructor(readonly max: number) {}

  /** Counts one stanza handled from the client (XEP-0198 §4). */
  handled(): void {
    this.inbound = (this.inbound + 1) % MOD;
  }

  /** Stanzas sent and not yet acknowledged. */
  get unacked(): number {
    return this.queue.length - this.head;
  }

  /** Our count of stanzas sent, mod 2^32. */
  get sent(): number {
    return (this.ackedH + this.unacked) % MOD;
  }

  /**
   * Appends one sent (or queued) stanza.
   * @returns false when the queue now holds more than `max` (the caller ends the session)
   */
  push(item: T): boolean {
    this.queue.push(item);
    return this.unacked <= this.max;
  }

  /**
   * Applies the client's `h`: the stanzas up to it leave the queue. An `h` older than the
   * last one counts as too high (it would acknowledge more than 2^32 - queue stanzas).
   */
  ack(h: number): AckResult<T> {
    const n = (h - this.ackedH + MOD) % MOD;
    if (n > this.unacked) return { ok: false, sent: this.sent };
    const acked = this.queue.slice(this.head, this.head + n);
    this.head += n;
    this.ackedH = h;
    if (this.head > 64 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    return { ok: true, acked };
  }

  /** The unacknowledged stanzas, oldest first (to re-send after resumption, XEP-0198 §5). */
  pending(): T[] {
    return this.queue.slice(this.head);
  }

  /** The counters and the unacknowledged stanzas, to hand the session to another gateway (XEP-0198 §5). */
  snapshot(): { inbound: number; acked: number; items: T[] } {
    return { inbound: this.inbound, acked: this.ackedH, items: this.pending() };
  }

  /** Rebuilds the state a {@link snapshot} described (counters are taken mod 2^32). */
  static restore<T>(max: number, snap: { inbound: number; acked: number; items: T[] }): SmState<T> {
    const sm = new SmState<T>(max);
    sm.inbound = snap.inbound % MOD;
    sm.ackedH = snap.acked % MOD;
    sm.queue = [...snap.items];
    return sm;
  }

  /** Removes and returns every unacknowledged stanza (to handle them as undelivered, XEP-0198 §4). */
  drain(): T[] {
    const out = this.pending();
    this.ackedH = (this.ackedH + out.length) % MOD;
    this.queue = [];
    this.head = 0;
    return out;
  }
}
