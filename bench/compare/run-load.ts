// One load-generator run in its own process, started by compare.ts for every run so that
// runs are isolated from each other and from the harness:
//
//   node bench/compare/run-load.ts <scenario.json> <out.json>     (through tsx)
//
// It calls @parley/loadgen's runScenario (the compiled dist/, whose worker threads run
// plain JS) and, at each phase boundary (login, join-owners, join, idle, messaging, drain,
// close), prints `PHASE <name>` and waits for a line on stdin before going on, so that the
// harness can sample the server's memory and CPU exactly there. Exit code 0 when the result
// is written (whatever it says), 1 when the generator itself failed.
import { writeFileSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';

type Loadgen = typeof import('../../packages/loadgen/src/index.js');

const [scenarioFile, outFile] = process.argv.slice(2);
if (!scenarioFile || !outFile) {
  process.stderr.write('usage: run-load.ts <scenario.json> <out.json>\n');
  process.exit(2);
}
const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const loadgen = (await import(pathToFileURL(join(repoRoot, 'packages', 'loadgen', 'dist', 'index.js')).href)) as Loadgen;

const acks: Array<() => void> = [];
createInterface({ input: process.stdin }).on('line', () => acks.shift()?.());

try {
  const scenario = loadgen.parseScenarioText(readFileSync(scenarioFile, 'utf8'), scenarioFile);
  const result = await loadgen.runScenario(scenario, {
    onPhase: (phase) =>
      new Promise<void>((resolve) => {
        acks.push(resolve);
        process.stdout.write(`PHASE ${phase}\n`);
      }),
  });
  writeFileSync(outFile, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`DONE ${result.ok ? 'ok' : `not ok: ${result.reasons.join('; ')}`}\n`);
  process.exit(0);
} catch (err) {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
}
