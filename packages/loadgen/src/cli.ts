#!/usr/bin/env node
/**
 * `pnpm load --scenario FILE [--targets h:p,h:p] [--transport tcp|websocket] [--workers N]
 * [--rate X] [--duration S] [--out r.json] [--html r.html] [--quiet]`
 *
 * Exit code: 0 when the run completed with no failure, loss, duplicate or stanza error;
 * 1 otherwise (the reasons are printed); 2 for bad arguments or an invalid scenario.
 */
import { writeFile } from 'node:fs/promises';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { exitCodeFor } from './accounting.js';
import { LoadgenError } from './errors.js';
import { renderHtml } from './html-report.js';
import { formatProgress } from './progress-line.js';
import type { LoadResult } from './result.js';
import { runScenario } from './run-scenario.js';
import { checkTarget, loadScenarioFile } from './scenario.js';

const positiveNumber = (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a positive number');
  return n;
};
const positiveInt = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
};
const targetList = (v: string) => {
  const list = v.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = list.map(checkTarget).find((p) => p !== undefined);
  if (bad || list.length === 0) throw new InvalidArgumentError(bad ?? 'empty list');
  return list;
};

interface CliOptions {
  scenario: string;
  targets?: string[];
  transport?: 'tcp' | 'websocket';
  workers?: number;
  rate?: number;
  duration?: number;
  deferAbove?: number;
  out?: string;
  html?: string;
  quiet?: boolean;
}

function summaryLines(r: LoadResult): string[] {
  const m = r.messages;
  const l = m.latency;
  const lines = [
    `scenario ${r.scenario.name} (run ${r.runId}): ${r.transport} → ${r.targets.join(', ')}, ${r.workers} worker thread(s)`,
    `clients: ${r.clients.loggedIn}/${r.clients.planned} logged in (${r.logins.perSec}/s; login p50 ${r.logins.login.p50Ms} ms p99 ${r.logins.login.p99Ms} ms), ${r.clients.joined} joined (join p50 ${r.joins.latency.p50Ms} ms p99 ${r.joins.latency.p99Ms} ms)`,
  ];
  if (r.joins.stormMs !== null) lines.push(`join storm: ${r.joins.stormClients} clients in ${r.joins.stormMs} ms`);
  if (m.sent > 0) {
    lines.push(
      `messages: sent ${m.sent}, expected ${m.expected}, delivered ${m.delivered}, lost ${m.lost}, duplicates ${m.duplicates}; ${m.deliveriesPerSec} deliveries/s over ${m.durationSec} s measured`,
      `latency (ms): p50 ${l.p50Ms} p90 ${l.p90Ms} p99 ${l.p99Ms} p99.9 ${l.p999Ms} max ${l.maxMs} (n=${l.count})`,
    );
  }
  const rs = r.resume;
  if (rs) {
    lines.push(
      `drop-and-resume (XEP-0198): ${rs.clients} resuming clients, ${rs.resumptions} resumptions (${rs.failed} failed), resume p50 ${rs.time.p50Ms} ms p99 ${rs.time.p99Ms} ms max ${rs.time.maxMs} ms; to them: expected ${rs.expected}, delivered ${rs.delivered}, lost ${rs.lost}, duplicates ${rs.duplicates}`,
    );
  }
  const g = r.generator;
  lines.push(`generator: CPU ${g.cpuPctOfOneCore}% of one core over the run, ${g.messagingCpuPctOfOneCore}% while messaging (peak ${g.peakCpuPctOfOneCore}%, ${g.cores} cores), worker event loop peak ${Math.round(g.peakWorkerElu * 100)}%${g.saturated ? ` — SATURATED (${g.saturationNote}): figures may measure the generator` : ''}`);
  lines.push(r.ok ? 'PASS' : `FAIL: ${r.reasons.join('; ')}`);
  return lines;
}

async function main(argv: string[]): Promise<number> {
  const program = new Command()
    .name('pnpm load')
    .description('XMPP / MUC load generator (see packages/loadgen/README.md)')
    .requiredOption('--scenario <file>', 'scenario file (.json, .yaml)')
    .option('--targets <list>', 'host:port[,host:port…] replacing the scenario\'s targets', targetList)
    .option('--transport <kind>', 'tcp or websocket', (v) => {
      if (v !== 'tcp' && v !== 'websocket') throw new InvalidArgumentError('must be tcp or websocket');
      return v;
    })
    .option('--workers <n>', 'worker threads (default: number of cores)', positiveInt)
    .option('--rate <msgs>', 'messages/s per sender (replaces messages.ratePerSender)', positiveNumber)
    .option('--duration <s>', 'measured seconds (replaces messages.durationSec)', positiveNumber)
    .option('--defer-above <bytes>', 'respect backpressure: skip a send while more than this many bytes are unsent (replaces messages.deferAboveBytes)', positiveInt)
    .option('--out <file>', 'write the JSON result here')
    .option('--html <file>', 'write a self-contained HTML report here')
    .option('--quiet', 'no progress output')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  try {
    program.parse(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    throw err;
  }
  const o = program.opts<CliOptions>();
  let result: LoadResult;
  try {
    const scenario = await loadScenarioFile(o.scenario);
    const tty = process.stdout.isTTY === true;
    let lastLine = 0;
    result = await runScenario(scenario, {
      targets: o.targets,
      transport: o.transport,
      workers: o.workers,
      rate: o.rate,
      duration: o.duration,
      deferAboveBytes: o.deferAbove,
      onProgress: o.quiet
        ? undefined
        : (p) => {
            const line = formatProgress(p);
            if (tty) process.stdout.write(`\r\x1b[2K${line}`);
            else if (p.elapsedSec - lastLine >= 5) {
              lastLine = p.elapsedSec;
              process.stdout.write(`${line}\n`);
            }
          },
    });
    if (!o.quiet && tty) process.stdout.write('\r\x1b[2K');
  } catch (err) {
    if (err instanceof LoadgenError && (err.code === 'BAD_SCENARIO' || err.code === 'BAD_OPTION')) {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    throw err;
  }
  if (o.out) await writeFile(o.out, `${JSON.stringify(result, null, 2)}\n`);
  if (o.html) await writeFile(o.html, renderHtml(result));
  const lines = summaryLines(result);
  if (o.quiet) process.stdout.write(`${lines[lines.length - 1]}\n`);
  else process.stdout.write(`${lines.join('\n')}\n`);
  return exitCodeFor(result);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
