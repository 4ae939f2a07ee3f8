/*
 * The room worker's part of the per-hop trace of groupchat messages (issue #15 item 1, the
 * `debug.hopTrace` setting; format and points in @parley/bus hop-trace.ts): a traced shard
 * entry gets `wk.read` when the XREAD that returned it came back, `wk.step` when its turn has
 * applied it, and `wk.sent` when its deliveries are queued on the turn's pipeline, which carry
 * the trace on to the gateways. The pipeline's reply, off the message's path, is logged as a
 * `hop trace ack` line. The turn loop calls these only when `hopTracing.on`.
 */
import type { Logger } from 'pino';
import { extendHopTrace, hopNowUs, type Envelope, type HopTrace } from '@parley/bus';
import type { PendingEntry, StreamEntry } from './shard-actor.js';

/** Most entries remembered between their read and their turn (a trace that overflows is dropped). */
const MAX_TRACED = 4096;

export class WorkerHopTrace {
  /** Entry id → when the XREAD that returned it came back (µs). */
  private readonly reads = new Map<string, number>();
  /** Entry id → its trace up to `wk.step`. */
  private readonly stepped = new Map<string, HopTrace>();
  /** Traces whose deliveries are queued on the pipeline being built, with `wk.sent`. */
  private queued: Array<{ id: string; sent: number }> = [];

  constructor(private readonly log: Logger) {}

  /** An XREAD came back with `entries`: remembers when, for those that carry a trace. */
  read(entries: readonly StreamEntry[]): void {
    const at = hopNowUs();
    for (const [id, fields] of entries) {
      if (!fields.includes('hop')) continue;
      if (this.reads.size >= MAX_TRACED) this.reads.clear();
      this.reads.set(id, at);
    }
  }

  /** A turn has applied `entries` (the room core's `step`). */
  applied(entries: readonly PendingEntry[]): void {
    const at = hopNowUs();
    for (const e of entries) {
      const hop = e.input?.kind === 'stanza' ? e.input.hop : undefined;
      if (hop === undefined) continue;
      const read = this.reads.get(e.id) ?? at;
      this.reads.delete(e.id);
      if (this.stepped.size >= MAX_TRACED) this.stepped.clear();
      this.stepped.set(e.id, extendHopTrace(hop, read, at));
    }
  }

  /** The envelope a turn writes for `entry`, with the entry's trace (plus `wk.sent`) when it has one. */
  envelope(envelope: Envelope, entry: string): Envelope {
    const hop = this.stepped.get(entry);
    if (hop === undefined || (envelope.kind !== 'stanza' && envelope.kind !== 'stanzas' && envelope.kind !== 'fanout')) return envelope;
    // One `wk.sent` per entry and pipeline: its envelopes all go out in that one write.
    let q = this.queued.find((x) => x.id === hop.id);
    if (q === undefined) this.queued.push((q = { id: hop.id, sent: hopNowUs() }));
    return { ...envelope, hop: extendHopTrace(hop, q.sent) };
  }

  /** The pipeline built since the last call is being sent: its traced entries, forgotten here. */
  takeQueued(): Array<{ id: string; sent: number }> {
    const q = this.queued;
    this.queued = [];
    return q;
  }

  /** Forgets the traces of entries whose deliveries have been queued. */
  done(entries: Iterable<string>): void {
    for (const e of entries) this.stepped.delete(e);
  }

  /** The pipeline that carried `queued` has replied (µs now). */
  acked(queued: ReadonlyArray<{ id: string; sent: number }>): void {
    const reply = hopNowUs();
    for (const { id, sent } of queued) this.log.info({ hopTrace: id, point: 'wk.sent', sent, reply }, 'hop trace ack');
  }
}
