/**
 * Exactly-once accounting on the receiving side. For every receiving client and every
 * sender of its room, one bit per sequence number: a bit already set is a duplicate.
 * Memory is `receivers × sendersPerRoom × ⌈maxSeq / 8⌉` bytes, allocated per receiver on
 * its first delivery and grown by doubling if a sequence number exceeds the plan — e.g.
 * 10,000 receivers × 1 sender × 100 messages ≈ 130 KB; 1,000 × 10 × 6,000 ≈ 7.5 MB.
 * Losses are counted later, against what the senders report they sent
 * ({@link accountDeliveries}): expected = sent × occupants of the room (the sender's own
 * echo included, XEP-0045 §7.4).
 */

/** What {@link DeliveryLedger.record} found. */
export type RecordOutcome = 'new' | 'duplicate';

/** One worker's receive-side ledger. */
export class DeliveryLedger {
  readonly #sendersPerRoom: number;
  #bytesPerSender: number;
  readonly #bits: (Uint8Array | undefined)[];
  /** Distinct deliveries per sender client index. */
  readonly distinctBySender = new Map<number, number>();
  /** Duplicate deliveries per sender client index. */
  readonly duplicatesBySender = new Map<number, number>();
  /** Sum of distinct deliveries. */
  distinct = 0;
  /** Sum of duplicates. */
  duplicates = 0;

  /**
   * @param receivers - number of local receiving slots (0 … receivers-1)
   * @param sendersPerRoom - senders per room (sender slot = its position in the room)
   * @param expectedMaxSeq - planned messages per sender (sizes the bitmaps)
   */
  constructor(receivers: number, sendersPerRoom: number, expectedMaxSeq: number) {
    this.#sendersPerRoom = Math.max(1, sendersPerRoom);
    this.#bytesPerSender = Math.max(1, Math.ceil(expectedMaxSeq / 8));
    this.#bits = new Array<Uint8Array | undefined>(receivers);
  }

  /**
   * Records that receiver slot `receiver` got message `seq` of the sender at position
   * `senderSlot` of its room (client index `sender`).
   */
  record(receiver: number, senderSlot: number, sender: number, seq: number): RecordOutcome {
    let bits = this.#bits[receiver];
    if (bits === undefined) {
      bits = new Uint8Array(this.#sendersPerRoom * this.#bytesPerSender);
      this.#bits[receiver] = bits;
    }
    const byte = seq >>> 3;
    if (byte >= this.#bytesPerSender) {
      this.#grow(byte + 1);
      bits = this.#bits[receiver]!;
    }
    const at = senderSlot * this.#bytesPerSender + byte;
    const mask = 1 << (seq & 7);
    if ((bits[at]! & mask) !== 0) {
      this.duplicates++;
      this.duplicatesBySender.set(sender, (this.duplicatesBySender.get(sender) ?? 0) + 1);
      return 'duplicate';
    }
    bits[at] = bits[at]! | mask;
    this.distinct++;
    this.distinctBySender.set(sender, (this.distinctBySender.get(sender) ?? 0) + 1);
    return 'new';
  }

  #grow(minBytes: number): void {
    let next = this.#bytesPerSender * 2;
    while (next < minBytes) next *= 2;
    for (let r = 0; r < this.#bits.length; r++) {
      const old = this.#bits[r];
      if (old === undefined) continue;
      const bigger = new Uint8Array(this.#sendersPerRoom * next);
      for (let s = 0; s < this.#sendersPerRoom; s++) bigger.set(old.subarray(s * this.#bytesPerSender, (s + 1) * this.#bytesPerSender), s * next);
      this.#bits[r] = bigger;
    }
    this.#bytesPerSender = next;
  }
}
