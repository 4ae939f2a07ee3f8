/*
 * Short fuzz run against a real gateway over TCP (issue #10 item 9), part of `npm test`:
 * the properties of support/fuzz-gateway.ts with a fixed seed (PARLEY_FUZZ_SEED and
 * PARLEY_FUZZ_RUNS override seed and runs). After each property the gateway process must
 * still be alive and answer a ping on a new session. `pnpm bench:fuzz` runs them longer.
 */
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import type { GatewayProcess } from '@parley/testkit';
import { startCluster, printGatewayLogsOnFailure, type TestCluster } from './support/cluster.js';
import { assertGatewayAlive, gatewayProperties } from './support/fuzz-gateway.js';

const SEED = Number(process.env.PARLEY_FUZZ_SEED ?? 20261206);
const RUNS = process.env.PARLEY_FUZZ_RUNS === undefined ? undefined : Number(process.env.PARLEY_FUZZ_RUNS);
/** Runs per property in CI: each is one TCP connection (and a login for the last). */
const CI_RUNS = [42, 60, 40];

let cluster: TestCluster | undefined;
let gw: GatewayProcess;

printGatewayLogsOnFailure(() => cluster);

before(async () => {
  cluster = await startCluster('fuzz-gateway');
  gw = await cluster.startGateway({ PARLEY_ALLOW_PLAIN_WITHOUT_TLS: 'true' });
  await cluster.addUser('alice@localhost', 'pw');
  await cluster.addUser('bob@localhost', 'pw');
});

after(async () => {
  await cluster?.close();
});

test('gateway fuzz', async (t) => {
  const properties = gatewayProperties(gw, 'alice', 'pw');
  for (const [i, { name, property }] of properties.entries()) {
    await t.test(name, async () => {
      await fc.assert(property as fc.IAsyncProperty<unknown>, { seed: SEED, numRuns: RUNS ?? CI_RUNS[i] ?? 40 });
      await assertGatewayAlive(gw, 'alice', 'pw');
    });
  }
});
