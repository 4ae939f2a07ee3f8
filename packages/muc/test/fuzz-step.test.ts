// Short fuzz run of the room core's `step` (issue #10 item 9), part of `npm test`: every
// property of fuzz/step-properties.ts with a fixed seed, so a failure reproduces.
// `pnpm bench:fuzz` runs the same properties with many more inputs.
import { test } from 'node:test';
import fc from 'fast-check';
import { stepProperties } from './fuzz/step-properties.js';

/** Seed and runs of the CI run; PARLEY_FUZZ_SEED / PARLEY_FUZZ_RUNS override them. */
const SEED = Number(process.env.PARLEY_FUZZ_SEED ?? 20261206);
const RUNS = Number(process.env.PARLEY_FUZZ_RUNS ?? 300);

for (const { name, property } of stepProperties()) {
  test(name, () => {
    fc.assert(property, { seed: SEED, numRuns: RUNS });
  });
}
