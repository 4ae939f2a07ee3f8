// Long fuzz run (issue #10 item 9): the same fast-check properties `npm test` runs briefly
// (packages/xml/test/fuzz, packages/muc/test/fuzz, test/integration/support/fuzz-gateway.ts),
// with many more inputs and fresh seeds, against the XML stream parser, the room core's
// `step` and a real gateway (its own redis-server, one gateway process from dist/).
// Writes bench/results/fuzz-<date>.md: inputs run per property, time, and every failure
// found (seed, counterexample, error) so that it can be replayed with the seed.
//
//   pnpm bench:fuzz -- --minutes 5            # time budget, split over the properties
//   pnpm bench:fuzz -- --runs 20000 --seed 7  # or a number of runs per property
//   options: --only xml|muc|gateway (repeatable), --out <file>
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { serializeAttrWhitespaceProperty, streamParserProperties } from '../packages/xml/test/fuzz/stream-parser-properties.js';
import { stepProperties } from '../packages/muc/test/fuzz/step-properties.js';
import { startCluster } from '../test/integration/support/cluster.js';
import { assertGatewayAlive, gatewayProperties, stats as gatewayStats } from '../test/integration/support/fuzz-gateway.js';

interface Options {
  minutes: number | undefined;
  runs: number | undefined;
  seed: number;
  only: Set<string>;
  out: string | undefined;
}

function parseArgs(argv: string[]): Options {
  const opts: Options = { minutes: undefined, runs: undefined, seed: Date.now() % 2 ** 31, only: new Set(), out: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--') continue;
    else if (a === '--minutes') opts.minutes = Number(next());
    else if (a === '--runs') opts.runs = Number(next());
    else if (a === '--seed') opts.seed = Number(next());
    else if (a === '--only') opts.only.add(next());
    else if (a === '--out') opts.out = next();
    else throw new Error(`unknown option ${a} (see the header of bench/fuzz.ts)`);
  }
  if (opts.minutes === undefined && opts.runs === undefined) opts.minutes = 5;
  return opts;
}

interface Finding {
  seed: number;
  counterexample: string;
  error: string;
}

interface Row {
  suite: string;
  name: string;
  known: boolean;
  runs: number;
  ms: number;
  findings: Finding[];
}

/** Rounds of fc.check with fresh seeds until the budget (runs or ms) is used; at most 3 failures kept. */
async function fuzz(suite: string, name: string, property: fc.IRawProperty<unknown>, budget: { runs?: number; ms?: number }, seed: number, known = false): Promise<Row> {
  const row: Row = { suite, name, known, runs: 0, ms: 0, findings: [] };
  const started = Date.now();
  let round = 0;
  const ROUND_RUNS = 2000;
  for (;;) {
    const elapsed = Date.now() - started;
    const left = budget.ms === undefined ? Infinity : budget.ms - elapsed;
    const runsLeft = budget.runs === undefined ? Infinity : budget.runs - row.runs;
    if (left <= 0 || runsLeft <= 0 || row.findings.length >= 3) break;
    const s = (seed + round++ * 7919) % 2 ** 31;
    const params: fc.Parameters<unknown> = { seed: s, numRuns: Math.min(ROUND_RUNS, runsLeft), endOnFailure: false };
    if (Number.isFinite(left)) Object.assign(params, { interruptAfterTimeLimit: Math.max(1, left), markInterruptAsFailure: false });
    const details = await fc.check(property as fc.IAsyncProperty<unknown>, params);
    row.runs += details.numRuns;
    if (details.failed && !details.interrupted) {
      row.findings.push({
        seed: s,
        counterexample: fc.stringify(details.counterexample).slice(0, 1500),
        error: String(details.errorInstance instanceof Error ? details.errorInstance.message : details.errorInstance).slice(0, 1500),
      });
    }
    if (details.numRuns === 0) break;
  }
  row.ms = Date.now() - started;
  process.stderr.write(`[fuzz] ${suite}: ${name}: ${row.runs} inputs, ${row.findings.length} failing, ${row.ms} ms\n`);
  return row;
}

function report(rows: Row[], opts: Options, startedAt: Date, gatewayNote: string): string {
  const cpu = cpus();
  const lines = [
    `# Fuzz run, ${startedAt.toISOString().slice(0, 10)}`,
    '',
    `Machine: ${cpu.length} vCPU ${cpu[0]?.model ?? ''}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.versions.node}. ` +
      `Started ${startedAt.toISOString()}, ${opts.minutes !== undefined ? `budget ${opts.minutes} min` : `${opts.runs} runs per property`}, base seed ${opts.seed}, by \`pnpm bench:fuzz\` (bench/fuzz.ts).`,
    'Properties and invariants: docs/operations.md "Chaos suite and fuzzing" and the headers of the property files.',
    '',
    '| suite | property | inputs | time s | failing inputs found |',
    '|---|---|---:|---:|---|',
  ];
  for (const r of rows) {
    const found = r.findings.length === 0 ? 'none' : `${r.findings.length}${r.known ? ' (known bug, see below)' : ''}`;
    lines.push(`| ${r.suite} | ${r.name}${r.known ? ' *(known bug)*' : ''} | ${r.runs.toLocaleString('en')} | ${(r.ms / 1000).toFixed(1)} | ${found} |`);
  }
  const total = rows.reduce((n, r) => n + r.runs, 0);
  lines.push('', `Total: ${total.toLocaleString('en')} inputs.${gatewayNote}`, '');
  const failing = rows.filter((r) => r.findings.length > 0);
  lines.push('## Findings', '');
  if (failing.length === 0) lines.push('No property failed.');
  for (const r of failing) {
    lines.push(`### ${r.suite}: ${r.name}${r.known ? ' (known bug)' : ''}`, '');
    for (const f of r.findings) {
      lines.push(`- seed ${f.seed}`, '', '  ```', `  counterexample: ${f.counterexample.replace(/\n/g, '\n  ')}`, `  error: ${f.error.replace(/\n/g, '\n  ')}`, '  ```', '');
    }
  }
  return `${lines.join('\n')}\n`;
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const startedAt = new Date();
  const want = (s: string) => opts.only.size === 0 || opts.only.has(s);
  const suites: Array<{ suite: string; props: Array<{ name: string; property: fc.IRawProperty<unknown>; known?: boolean }> }> = [];
  if (want('xml')) suites.push({ suite: 'xml parser', props: [...streamParserProperties(), serializeAttrWhitespaceProperty] });
  if (want('muc')) suites.push({ suite: 'room core step', props: stepProperties() });
  const gatewayWanted = want('gateway');
  const propertyCount = suites.reduce((n, s) => n + s.props.length, 0) + (gatewayWanted ? 3 : 0);
  const perProperty = opts.minutes !== undefined ? { ms: (opts.minutes * 60_000) / propertyCount } : { runs: opts.runs! };
  const rows: Row[] = [];
  for (const { suite, props } of suites) {
    for (const p of props) rows.push(await fuzz(suite, p.name, p.property, p.known ? { runs: Math.min(perProperty.runs ?? 500, 500) } : perProperty, opts.seed, p.known === true));
  }
  let gatewayNote = '';
  if (gatewayWanted) {
    const cluster = await startCluster('bench-fuzz');
    try {
      const gw = await cluster.startGateway({ PARLEY_ALLOW_PLAIN_WITHOUT_TLS: 'true' });
      await cluster.addUser('alice@localhost', 'pw');
      await cluster.addUser('bob@localhost', 'pw');
      for (const p of gatewayProperties(gw, 'alice', 'pw')) {
        rows.push(await fuzz('gateway (TCP)', p.name, p.property as fc.IRawProperty<unknown>, perProperty, opts.seed));
        await assertGatewayAlive(gw, 'alice', 'pw');
      }
      gatewayNote =
        ` Gateway process alive and answering pings after every property (pid ${gw.pid}).` +
        ` After login: ${gatewayStats.checked} runs fully checked, ${gatewayStats.streamErrors} ended by an allowed stream error (a spoofed \`from\`: invalid-from).`;
    } finally {
      await cluster.close();
    }
  }
  const here = dirname(fileURLToPath(import.meta.url));
  const out = opts.out ?? join(here, 'results', `fuzz-${startedAt.toISOString().slice(0, 10)}.md`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, report(rows, opts, startedAt, gatewayNote));
  process.stderr.write(`[fuzz] wrote ${out}\n`);
  const unexpected = rows.filter((r) => !r.known && r.findings.length > 0).length;
  process.exitCode = unexpected > 0 ? 1 : 0;
}

await main();
