import { createHash } from 'node:crypto';

/**
 * Rendezvous (highest-random-weight) placement of shards on workers: a shard belongs to
 * the worker with the greatest weight `sha1(workerId NUL shard)`. Every worker computes the
 * same answer from the same membership, and when a worker joins or leaves only the shards
 * it wins or held move (about 1/N of them).
 *
 * @param shard - shard number, 0 ≤ shard
 * @param workers - ids of the live workers (any order; duplicates ignored)
 * @returns the desired owner's id, or undefined when `workers` is empty
 */
export function desiredOwner(shard: number, workers: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestWeight: Buffer | undefined;
  for (const id of workers) {
    const weight = createHash('sha1').update(`${id}\0${shard}`).digest();
    const c = bestWeight === undefined ? 1 : Buffer.compare(weight, bestWeight);
    // Ties (practically impossible) go to the smaller id, so the choice stays deterministic.
    if (c > 0 || (c === 0 && best !== undefined && id < best)) {
      best = id;
      bestWeight = weight;
    }
  }
  return best;
}
