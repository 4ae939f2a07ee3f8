/**
 * Delivery marks: how a gateway recognises a room stanza it has already delivered.
 *
 * A room worker applies a shard's stream entries in order and writes what they produce to
 * gateway delivery streams before it commits the room state. A worker that dies between
 * the two leaves the entries uncommitted, and the shard's next owner applies them again
 * from the same committed state, producing the same stanzas with the same marks. Every
 * envelope a worker writes is marked `<shard>.<lane>:<entry id>:<seq>` (the shard number,
 * the room's lane within the shard, the shard stream entry that produced it, and its
 * position among that entry's envelopes to the same gateway). A worker applies each lane's
 * entries in stream order but may serve one lane ahead of another (per-room fairness, see
 * the room worker's fair-schedule.ts), so marks from one lane of a shard reach one gateway
 * in increasing order: a gateway keeps the last mark per (shard, lane) and drops anything
 * not after it. At-least-once writing plus this check gives exactly-once delivery. A mark
 * without a lane (`<shard>:<entry id>:<seq>`, workers before lanes) is its own lane.
 */
export interface DeliveryMark {
  shard: number;
  /** The lane within the shard (0 ≤ lane < MAX_LANES); undefined for marks written without one. */
  lane?: number | undefined;
  /** Stream entry id, `<ms>-<seq>`. */
  entry: string;
  /** Position among the entry's envelopes to one gateway, from 0. */
  seq: number;
}

/** Formats a mark as carried in an envelope's `mark` field. */
export function formatDeliveryMark(mark: DeliveryMark): string {
  return mark.lane === undefined ? `${mark.shard}:${mark.entry}:${mark.seq}` : `${mark.shard}.${mark.lane}:${mark.entry}:${mark.seq}`;
}

/** Highest lane number a mark may carry, plus one (bounds what a gateway remembers per shard). */
export const MAX_LANES = 4096;

/** Parses a `mark` field; undefined when malformed. */
export function parseDeliveryMark(raw: string): DeliveryMark | undefined {
  const m = /^(\d{1,9})(?:\.(\d{1,4}))?:(\d+-\d+):(\d+)$/.exec(raw);
  if (!m) return undefined;
  if (m[2] === undefined) return { shard: Number(m[1]), entry: m[3]!, seq: Number(m[4]) };
  const lane = Number(m[2]);
  if (lane >= MAX_LANES) return undefined;
  return { shard: Number(m[1]), lane, entry: m[3]!, seq: Number(m[4]) };
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
 * The last mark seen per (shard, lane), for one gateway's delivery stream: at most
 * shards × (MAX_LANES + 1) entries. {@link accept} returns false for a mark at or before the
 * last accepted one of its lane.
 */
export class DeliveryMarks {
  private readonly last = new Map<number, { entry: string; seq: number }>();

  private static key(mark: DeliveryMark): number {
    return mark.shard * (MAX_LANES + 1) + (mark.lane ?? MAX_LANES);
  }

  /** Records `mark` and returns true when it is new; false for a repeat that must be dropped. */
  accept(mark: DeliveryMark): boolean {
    const key = DeliveryMarks.key(mark);
    const prev = this.last.get(key);
    if (prev) {
      const c = compareStreamIds(mark.entry, prev.entry);
      if (c < 0 || (c === 0 && mark.seq <= prev.seq)) return false;
    }
    this.last.set(key, { entry: mark.entry, seq: mark.seq });
    return true;
  }
}
