/**
 * Delivered vs expected, over the whole run: every sender's messages are expected once by
 * each occupant of its room that had joined when sending started (the sender's own echo
 * included, XEP-0045 §7.4). Warm-up messages are accounted like the others.
 */

/** Per-sender inputs, merged over all worker threads. */
export interface AccountingInput {
  /** Messages sent, per sender client index. */
  sent: ReadonlyMap<number, number>;
  /** Room index of each sender client. */
  roomOfSender: (sender: number) => number;
  /** Occupants joined per room when sending started. */
  occupancy: ArrayLike<number>;
  /** Distinct deliveries per sender. */
  distinct: ReadonlyMap<number, number>;
  /** Duplicate deliveries per sender. */
  duplicates: ReadonlyMap<number, number>;
}

/** The delivery books of a run. */
export interface Accounting {
  sent: number;
  /** Σ sent × occupants of the sender's room. */
  expected: number;
  /** Distinct (sender, seq, receiver) deliveries. */
  delivered: number;
  /** Expected but never delivered. */
  lost: number;
  /** Deliveries of a (sender, seq) a receiver had already got. */
  duplicates: number;
  /** Distinct deliveries beyond what was expected (e.g. to a client not counted as an occupant). */
  unexpected: number;
}

/** Sums the books; a sender's loss is max(0, expected − distinct), its excess is `unexpected`. */
export function accountDeliveries(input: AccountingInput): Accounting {
  const out: Accounting = { sent: 0, expected: 0, delivered: 0, lost: 0, duplicates: 0, unexpected: 0 };
  const senders = new Set<number>([...input.sent.keys(), ...input.distinct.keys(), ...input.duplicates.keys()]);
  for (const s of senders) {
    const sent = input.sent.get(s) ?? 0;
    const occupants = input.occupancy[input.roomOfSender(s)] ?? 0;
    const expected = sent * occupants;
    const got = input.distinct.get(s) ?? 0;
    out.sent += sent;
    out.expected += expected;
    out.delivered += got;
    out.duplicates += input.duplicates.get(s) ?? 0;
    if (got < expected) out.lost += expected - got;
    else out.unexpected += got - expected;
  }
  return out;
}

/** What decides the exit code. */
export interface VerdictInput {
  accounting: Accounting;
  /** Failures by phase (connect, login, join, …): count per reason. */
  failures: Record<string, number>;
  /** Stanza errors received, by `<kind>/<condition>`. */
  stanzaErrors: Record<string, number>;
  /** Deliveries from a sender of another room (a routing bug). */
  misrouted: number;
}

/** Whether a run is clean, and if not, why (one sentence per reason). */
export function verdict(v: VerdictInput): { ok: boolean; reasons: string[] } {
  const reasons: string[] = [];
  const a = v.accounting;
  if (a.lost > 0) reasons.push(`${a.lost} of ${a.expected} expected deliveries lost`);
  if (a.duplicates > 0) reasons.push(`${a.duplicates} duplicate deliveries`);
  if (a.unexpected > 0) reasons.push(`${a.unexpected} unexpected deliveries`);
  if (v.misrouted > 0) reasons.push(`${v.misrouted} deliveries from another room's sender`);
  const failed = Object.entries(v.failures).filter(([, n]) => n > 0);
  if (failed.length) reasons.push(`client failures: ${failed.map(([k, n]) => `${k} ×${n}`).join(', ')}`);
  const errs = Object.entries(v.stanzaErrors).filter(([, n]) => n > 0);
  if (errs.length) reasons.push(`stanza errors: ${errs.map(([k, n]) => `${k} ×${n}`).join(', ')}`);
  return { ok: reasons.length === 0, reasons };
}

/** Exit code of the CLI for a finished run: 0 clean, 1 otherwise (2 is for bad arguments, before any run). */
export function exitCodeFor(result: { ok: boolean }): 0 | 1 {
  return result.ok ? 0 : 1;
}
