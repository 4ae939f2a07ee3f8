/**
 * Delivery marks: how a gateway recognises a room stanza it has already delivered.
 *
 * A room worker applies a shard's stream entries in order and writes what they produce to
 * gateway delivery streams before it commits the room state. A worker that dies between
 * the two leaves the entries uncommitted, and the shard's next owner applies them again
 * from the same committed state, producing the same stanzas with the same marks. Every
 * envelope a worker writes is marked `<shard>:<entry id>:<seq>` (the shard number, the
 * shard stream entry that produced it, and its position among that entry's envelopes to
 * the same gateway), and marks from one shard reach one gateway in increasing order, so a
 * gateway keeps the last mark per shard and drops anything not after it: at-least-once
 * writing plus this check gives exactly-once delivery.
 */
export interface DeliveryMark {
  shard: number;
  /** Stream entry id, `<ms>-<seq>`. */
  entry: string;
  /** Position among the entry's envelopes to one gateway, from 0. */
  seq: number;
}

/** Formats a mark as carried in an envelope's `mark` field. */
export function formatDeliveryMark(mark: DeliveryMark): string {
  return `${mark.shard}:${mark.entry}:${mark.seq}`;
}

/** Parses a `mark` field; undefined when malformed. */
export function parseDeliveryMark(raw: string): DeliveryMark | undefined {
  const m = /^(\d+):(\d+-\d+):(\d+)$/.exec(raw);
  if (!m) return undefined;
  return { shard: Number(m[1]), entry: m[2]!, seq: Number(m[3]) };
}

/** Compares two stream entry ids (`<ms>-<seq>`) numerically: negative, 0 or positive. */
export function compareStreamIds(a: string, b: string): number {
  const [am = '0', as = '0'] = a.split('-');
  const [bm = '0', bs = '0'] = b.split('-');
  const ms = BigInt(am) - BigInt(bm);
  if (ms !== 0n) return ms < 0n ? -1 : 1;
  const s = BigInt(as) - BigInt(bs);
  return s === 0n ? 0 : s < 0n ? -1 : 1;
}

/**
 * The last mark seen per shard, for one gateway's delivery stream.
 * {@link accept} returns false for a mark at or before the last accepted one of its shard.
 */
export class DeliveryMarks {
  private readonly last = new Map<number, { entry: string; seq: number }>();

  /** Records `mark` and returns true when it is new; false for a repeat that must be dropped. */
  accept(mark: DeliveryMark): boolean {
    const prev = this.last.get(mark.shard);
    if (prev) {
      const c = compareStreamIds(mark.entry, prev.entry);
      if (c < 0 || (c === 0 && mark.seq <= prev.seq)) return false;
    }
    this.last.set(mark.shard, { entry: mark.entry, seq: mark.seq });
    return true;
  }
}
