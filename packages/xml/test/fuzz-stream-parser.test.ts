// Short fuzz run of the XML stream parser (issue #10 item 9), part of `npm test`: every
// property of fuzz/stream-parser-properties.ts with a fixed seed, so a failure reproduces.
// `pnpm bench:fuzz` runs the same properties with many more inputs.
import { test } from 'node:test';
import fc from 'fast-check';
import { serializeAttrWhitespaceProperty, streamParserProperties } from './fuzz/stream-parser-properties.js';

/** Seed and runs of the CI run; PARLEY_FUZZ_SEED / PARLEY_FUZZ_RUNS override them. */
const SEED = Number(process.env.PARLEY_FUZZ_SEED ?? 20261206);
const RUNS = Number(process.env.PARLEY_FUZZ_RUNS ?? 300);

for (const { name, property } of streamParserProperties()) {
  test(name, () => {
    fc.assert(property, { seed: SEED, numRuns: RUNS });
  });
}

// Found by the fuzzer (see serializeAttrWhitespaceProperty), fixed in serialize since.
test(serializeAttrWhitespaceProperty.name, () => {
  fc.assert(serializeAttrWhitespaceProperty.property, { seed: SEED, numRuns: RUNS });
});
