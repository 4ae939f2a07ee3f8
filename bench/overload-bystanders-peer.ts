// Rooms not involved in an overload, on a peer server (issue #10 item 6): the same three
// generator invocations as bench/overload-bystanders.sh, against ejabberd 23.01 or Prosody 0.12
// started by bench/compare's own server code (its fair settings, open auth, MUC at
// conference.localhost; installed with apt-get when missing).
//
//   node --import tsx bench/overload-bystanders-peer.ts <ejabberd|prosody> [--rate N] [--alone-only] [--probe-duration S]
//
// --rate: messages/s per probe sender, 5x the server's ref-100x10 saturation
// (bench/results/2026-11-22.md: ejabberd 16,000 deliveries/s -> 80, Prosody 4,000 -> 20);
// default 80 for ejabberd, 20 for Prosody. --alone-only: the probe alone (30 s measured;
// for parley: `pnpm load --scenario bench/scenarios/probe-100x10.json --targets 127.0.0.1:5222 --rate 16 --duration 30`
// against `npm run cluster -- --gateways 1 --workers 1`), no bystanders. Otherwise: bystanders-20x10 alone
// (20 s), then probe-100x10 at --rate (55 s) with the same bystanders started 22 s into it.
// --probe-duration: the probe's measured seconds instead of 55 (not the shell script's test:
// for a server on which the bystanders' logins take so long that 55 s ends before they send).
// Prints the same summary lines as the shell script; results in $OUT/{alone,during,probe}.json
// (OUT defaults to a new temp dir, printed at the end). The server is stopped at the end
// (and on SIGINT/SIGTERM). Build the generator first (`npx tsc -b`).
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensureDebianPackages, foreignServers } from './compare/lib/debian.js';
import { probe } from './compare/lib/xmpp-mini.js';
import { ejabberd } from './compare/servers/ejabberd.js';
import { prosodyStock } from './compare/servers/prosody.js';
import type { RunningServer } from './compare/servers/server.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values, positionals } = parseArgs({ allowPositionals: true, options: { rate: { type: 'string' }, 'alone-only': { type: 'boolean', default: false }, 'probe-duration': { type: 'string', default: '55' } } });
const which = positionals[0];
const variant = which === 'ejabberd' ? ejabberd : which === 'prosody' ? prosodyStock : undefined;
if (!variant) {
  console.error('usage: overload-bystanders-peer.ts <ejabberd|prosody> [--rate N] [--alone-only] [--probe-duration S]');
  process.exit(2);
}
const rate = values.rate ?? (which === 'ejabberd' ? '80' : '20');
const out = process.env.OUT ?? mkdtempSync(join(tmpdir(), `${which}-overload-`));
mkdirSync(out, { recursive: true });
chmodSync(out, 0o755); // the server runs as its own user and must reach its work directory below
const say = (msg: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${msg}`);

/** One generator run, exactly as bench/overload-bystanders.sh invokes it; resolves on exit. */
function loadgen(scenario: string, targets: string[], name: string, extra: string[]): Promise<void> {
  const args = ['packages/loadgen/dist/cli.js', '--scenario', `bench/scenarios/${scenario}.json`, '--targets', targets.join(','), '--workers', '1', ...extra, '--quiet', '--out', join(out, `${name}.json`)];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
    const log: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => log.push(d));
    child.stderr.on('data', (d: Buffer) => log.push(d));
    child.on('exit', (code) => {
      writeFileSync(join(out, `${name}.txt`), Buffer.concat(log));
      if (code !== 0) say(`${name}: generator exited ${code} (see ${out}/${name}.txt)`);
      resolve();
    });
  });
}

let server: RunningServer | undefined;
const stop = async () => {
  const s = server;
  server = undefined;
  await s?.stop();
};
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void stop().then(() => process.exit(130)));

ensureDebianPackages([which === 'ejabberd' ? 'ejabberd' : 'prosody'], say);
for (const f of foreignServers()) say(`note: a system-wide server is running and shares the CPU: ${f}`);
say(`load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
const workDir = join(out, 'server');
mkdirSync(workDir, { recursive: true });
let names: string[] = [];
try {
  server = await variant.start({ workDir, historyLength: 0, auth: 'open', log: say });
  await probe(server.targets[0]!, server.domain, server.mucDomain); // serves login, room, echo
  await sleep(1000);
  const t = server.targets;
  if (values['alone-only']) {
    await loadgen('probe-100x10', t, 'probe', ['--rate', rate, '--duration', '30']);
    names = ['probe'];
  } else {
    await loadgen('bystanders-20x10', t, 'alone', ['--duration', '20']);
    const flood = loadgen('probe-100x10', t, 'probe', ['--rate', rate, '--duration', values['probe-duration']]);
    await sleep(22_000);
    await loadgen('bystanders-20x10', t, 'during', ['--duration', '20']);
    await flood;
    names = ['alone', 'during', 'probe'];
  }
} finally {
  await stop();
}
for (const f of names) {
  try {
    const m = JSON.parse(readFileSync(join(out, `${f}.json`), 'utf8')).messages;
    const l = m.latency;
    console.log(f.padEnd(7), `delivered ${m.delivered}/${m.expected} dup ${m.duplicates} ${m.deliveriesPerSec}/s p50 ${l.p50Ms.toFixed(1)} p99 ${l.p99Ms.toFixed(1)} max ${l.maxMs.toFixed(0)} ms`);
  } catch (err) {
    console.log(f.padEnd(7), `no result (${(err as Error).message})`);
  }
}
console.log(`${variant.id} rate ${rate}; results in ${out}`);
