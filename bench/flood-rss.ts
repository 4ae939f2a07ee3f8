// What a flooding client costs its gateway in memory, compared with a client that sends at
// the rate limit (issue #10 item 3: "a flood from one client must not raise its gateway's
// RSS by more than a few MiB").
//
// For each run: a private redis-server, a fresh gateway (open test authentication, default
// limits: 200 stanzas/s, burst 400), a sink client and a sender client. The sender sends
// 40-byte-body chat messages to the sink for DURATION s, either
//   - `legal`: paced at 190/s (just under the limit: the traffic the gateway must carry), or
//   - `flood`: as fast as its socket takes them (thousands/s; the gateway reads at the limit),
// while the gateway's VmRSS (/proc, KiB) is sampled every second. The gateway is fresh for
// every run, so both start cold. Runs alternate legal, flood, legal, flood, ...
//
//   node --import tsx bench/flood-rss.ts [--runs 2] [--duration 30] [--out result.json]
// Run `npx tsc -b` first (the gateway runs from services/gateway/dist).
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loginPlain, RawClient, startGateway, startRedis, type GatewayProcess } from '../packages/testkit/src/index.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '2' }, duration: { type: 'string', default: '30' }, out: { type: 'string' } } });
const RUNS = Number(values.runs);
const DURATION_S = Number(values.duration);
const BODY = 'x'.repeat(40);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

interface Run {
  kind: 'legal' | 'flood';
  /** Stanzas the sender wrote / the sink received. */
  offered: number;
  delivered: number;
  /** VmRSS, KiB: before the sender started (logged in, idle), every second, 5 s after it stopped. */
  rssIdle: number;
  rssSamples: number[];
  rssAfter: number;
}

async function runOnce(kind: Run['kind'], redisUrl: string, n: number): Promise<Run> {
  const gw: GatewayProcess = await startGateway({
    redisUrl,
    keyPrefix: `bench-flood-${n}:`,
    env: { PARLEY_AUTH_BACKEND: 'open-insecure-test-only', PARLEY_ALLOW_PLAIN_WITHOUT_TLS: 'true', PARLEY_LOG_LEVEL: 'warn' },
  });
  const sink = await RawClient.connect(gw.c2sPort);
  const sender = await RawClient.connect(gw.c2sPort);
  try {
    await loginPlain(sink, { domain: 'localhost', user: 'sink', password: 'pw', resource: 'r' });
    await loginPlain(sender, { domain: 'localhost', user: 'sender', password: 'pw', resource: 'r' });
    await sleep(2000);
    const rssIdle = rssKiB(gw.pid);
    const sinkFrom = sink.length;
    let offered = 0;
    const end = Date.now() + DURATION_S * 1000;
    const msg = () => `<message to='sink@localhost/r' type='chat' id='m${offered++}'><body>${BODY}</body></message>`;
    let sending: Promise<unknown>;
    if (kind === 'flood') {
      sending = sender.pump(
        (function* () {
          while (Date.now() < end) {
            let chunk = '';
            for (let i = 0; i < 100; i++) chunk += msg();
            yield chunk;
          }
        })(),
      );
    } else {
      sending = (async () => {
        // 19 stanzas every 100 ms: 190/s.
        for (let t = Date.now(); Date.now() < end; t += 100) {
          let chunk = '';
          for (let i = 0; i < 19; i++) chunk += msg();
          await sender.send(chunk);
          await sleep(Math.max(0, t + 100 - Date.now()));
        }
      })();
    }
    const rssSamples: number[] = [];
    while (Date.now() < end) {
      await sleep(Math.min(1000, Math.max(1, end - Date.now())));
      rssSamples.push(rssKiB(gw.pid));
    }
    await Promise.race([sending, sleep(1000)]);
    sender.destroy();
    await sleep(5000);
    const rssAfter = rssKiB(gw.pid);
    const delivered = (sink.text.slice(sinkFrom).match(/<message /g) ?? []).length;
    return { kind, offered, delivered, rssIdle, rssSamples, rssAfter };
  } finally {
    sink.destroy();
    sender.destroy();
    await gw.stop();
  }
}

const redis = await startRedis();
const runs: Run[] = [];
try {
  for (let i = 0; i < 2 * RUNS; i++) {
    const r = await runOnce(i % 2 === 0 ? 'legal' : 'flood', redis.url, i);
    runs.push(r);
    const mib = (k: number) => (k / 1024).toFixed(1);
    const peak = Math.max(...r.rssSamples);
    const last = r.rssSamples.at(-1)!;
    console.log(
      `${r.kind.padEnd(5)} offered ${r.offered} (${(r.offered / DURATION_S).toFixed(0)}/s), delivered ${r.delivered} (${(r.delivered / DURATION_S).toFixed(0)}/s); ` +
        `RSS MiB idle ${mib(r.rssIdle)}, +5 s ${mib(r.rssSamples[4] ?? NaN)}, end ${mib(last)}, peak ${mib(peak)} (+${mib(peak - r.rssIdle)}), 5 s after ${mib(r.rssAfter)}`,
    );
  }
} finally {
  await redis.stop();
}
if (values.out) writeFileSync(values.out, JSON.stringify({ durationSec: DURATION_S, runs }, null, 2));
