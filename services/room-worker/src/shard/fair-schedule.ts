/*
 * Per-room fairness inside a shard's turn (issue #10 item 6): which of a shard's read but
 * not yet applied stream entries the next turn applies. Pure: no I/O, no clock.
 *
 * The rooms of a shard are spread over lanes (`laneForRoom`, @parley/bus). A lane's entries
 * are applied in stream order, so a room's inputs stay in arrival order (XEP-0045 leaves
 * ordering to the service; clients expect a room to be a single point of serialisation),
 * but lanes are served round robin: one flooded room can delay only the rooms of its own
 * lane, not every room of its shard behind its whole backlog.
 *
 * An entry that concerns every room (`gateway-down`) is a barrier: it is applied only once
 * every entry before it is, and no entry after it is applied before it.
 */

/** What the scheduler needs of a pending entry. */
export interface Schedulable {
  /** The entry's lane, or `BARRIER` for an entry that concerns every room of the shard. */
  lane: number;
  /** The entry's stream id (`<ms>-<seq>`): the older goes first within a round. */
  id?: string;
}

/** The lane of a barrier entry (an entry applied alone, in stream order with every lane). */
export const BARRIER = -1;

/**
 * Picks up to `max` entries of `pending` (one shard's, in stream order) for one turn; see
 * {@link pickFairAcross}, of which this is the one-shard case.
 *
 * @returns indexes into `pending`, ascending; empty only when `pending` is
 */
export function pickFair(pending: readonly Schedulable[], max: number): number[] {
  return pickFairAcross([pending], max)[0]!;
}

/**
 * Picks up to `max` entries of several shards' pending entries for one turn of the worker:
 * round robin over every (shard, lane) that has entries, each lane in stream order (max-min
 * fair share of `max`). An entry's round is its position in its lane; the turn takes every
 * entry of the first rounds that fit, then of the next round the oldest entries (by `id`, or
 * by position when there is none) until `max`. A barrier's round follows every round before
 * it in its shard, and the entries after it start after the barrier's, so a barrier goes only
 * with everything before it, and nothing after it goes without it.
 *
 * So a room with one entry waiting goes in the next turn however long the other rooms'
 * backlogs are, and a turn stays within `max` entries however many shards have work (its
 * duration, which every waiting entry pays, does not grow with the backlog).
 *
 * Linear in the number of pending entries (plus sorting one round's entries).
 *
 * @param shards - each shard's pending entries, in stream order (ids increasing)
 * @param max - most entries to pick in all, ≥ 1
 * @returns per shard, indexes into its entries, ascending (the turn applies them in stream
 *          order, which keeps each lane's order)
 */
export function pickFairAcross(shards: readonly (readonly Schedulable[])[], max: number): number[][] {
  const rounds = shards.map(roundsOf);
  const perRound: number[] = [];
  for (const r of rounds) for (const round of r) perRound[round] = (perRound[round] ?? 0) + 1;
  // Every round up to `full` fits whole; round full + 1 only in part.
  let full = -1;
  let taken = 0;
  while (full + 1 < perRound.length && taken + (perRound[full + 1] ?? 0) <= max) taken += perRound[++full] ?? 0;
  const picked = shards.map(() => [] as number[]);
  const next: { shard: number; index: number }[] = [];
  rounds.forEach((r, shard) =>
    r.forEach((round, index) => {
      if (round <= full) picked[shard]!.push(index);
      else if (round === full + 1) next.push({ shard, index });
    }),
  );
  if (taken < max && next.length) {
    const age = (e: { shard: number; index: number }) => shards[e.shard]![e.index]!.id;
    next.sort((a, b) => {
      const ia = age(a);
      const ib = age(b);
      if (ia !== undefined && ib !== undefined && ia !== ib) return compareIds(ia, ib);
      return a.index - b.index || a.shard - b.shard;
    });
    for (const e of next.slice(0, max - taken)) picked[e.shard]!.push(e.index);
  }
  return picked.map((p) => p.sort((a, b) => a - b));
}

/**
 * The picked entries (`picked`: indexes into `pending`, one shard's entries in stream order)
 * that are alone in their lane: nothing else of that lane is pending, so no other entry's
 * deliveries must come before or after theirs. None when a barrier (`gateway-down`) is
 * pending: its effects on every room keep their place in stream order.
 * @returns their stream ids
 */
export function quietEntries(pending: readonly (Schedulable & { id: string })[], picked: readonly number[]): Set<string> {
  const quiet = new Set<string>();
  if (!picked.length) return quiet;
  const perLane = new Map<number, number>();
  for (const e of pending) {
    if (e.lane === BARRIER) return quiet;
    perLane.set(e.lane, (perLane.get(e.lane) ?? 0) + 1);
  }
  for (const i of picked) {
    const e = pending[i]!;
    if (perLane.get(e.lane) === 1) quiet.add(e.id);
  }
  return quiet;
}

/** Most entries of a turn's second, quiet apply ({@link quietPicks}). */
export const QUIET_TURN_MAX = 64;

/**
 * Picks for a second apply of a shard in the same turn: the pending entries that are alone
 * in their lane (rooms that are not behind), in lanes the turn's first apply did not take
 * (so each lane's deliveries stay in order), at most `max`; none when a barrier is pending.
 * @param busy - lanes of the shard's first apply in this turn
 * @returns indexes into `pending`, ascending
 */
export function quietPicks(pending: readonly Schedulable[], busy: ReadonlySet<number> | undefined, max: number): number[] {
  const perLane = new Map<number, number>();
  for (const e of pending) {
    if (e.lane === BARRIER) return [];
    perLane.set(e.lane, (perLane.get(e.lane) ?? 0) + 1);
  }
  const picks: number[] = [];
  for (let i = 0; i < pending.length && picks.length < max; i++) {
    const lane = pending[i]!.lane;
    if (perLane.get(lane) === 1 && !busy?.has(lane)) picks.push(i);
  }
  return picks;
}

/** Each entry's round: its position in its lane, barriers after everything before them. */
function roundsOf(pending: readonly Schedulable[]): number[] {
  const rounds: number[] = [];
  let base = 0;
  let top = -1;
  let lanes = new Map<number, number>();
  for (const e of pending) {
    if (e.lane === BARRIER) {
      const round = Math.max(top + 1, base);
      rounds.push(round);
      base = round + 1;
      top = round;
      lanes = new Map();
      continue;
    }
    const n = lanes.get(e.lane) ?? 0;
    lanes.set(e.lane, n + 1);
    const round = base + n;
    rounds.push(round);
    if (round > top) top = round;
  }
  return rounds;
}

/** Compares stream ids (`<ms>-<seq>`) numerically. */
function compareIds(a: string, b: string): number {
  const [am = '0', as = '0'] = a.split('-');
  const [bm = '0', bs = '0'] = b.split('-');
  if (am.length !== bm.length) return am.length - bm.length;
  if (am !== bm) return am < bm ? -1 : 1;
  if (as.length !== bs.length) return as.length - bs.length;
  return as === bs ? 0 : as < bs ? -1 : 1;
}
