// What keeping XEP-0198 state in Redis costs per stanza (issue #13: resumption after the
// holding gateway died needs the counters and the unacknowledged queue in Redis).
//
// For each mode: a private redis-server, a fresh gateway (open test authentication), a sink
// client and a sender client on it. The sender sends N chat messages (40-byte bodies) to the
// sink, paced under the per-session rate limit; the sink never acknowledges during the run.
// Modes: `plain` (no stream management), `sm` (`<enable/>`: acks, state in memory only),
// `resume` (`<enable resume='true'/>`: the state is also written to Redis). Measured: Redis
// commands processed (INFO stats, includes the gateway's background work: compare modes),
// the gateway's CPU time (utime + stime from /proc), Redis used_memory after the run (the
// resumable sink's queue holds every message) and the wall time.
//
//   node --import tsx bench/sm-redis-cost.ts [--messages 3000] [--out result.json]
// Run `npx tsc -b` first (the gateway runs from services/gateway/dist).
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loginPlain, RawClient, startGateway, startRedis } from '../packages/testkit/src/index.js';

const { values } = parseArgs({ options: { messages: { type: 'string', default: '3000' }, out: { type: 'string' } } });
const N = Number(values.messages);
const BODY = 'x'.repeat(40);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // utime and stime are fields 14 and 15 of stat (11 and 12 after the command name), in clock ticks (100/s).
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function info(redis: { client(): { info(section: string): Promise<string>; disconnect(): void } }, field: string, section: string): Promise<number> {
  const db = redis.client();
  try {
    const m = new RegExp(`${field}:(\\d+)`).exec(await db.info(section));
    return m ? Number(m[1]) : NaN;
  } finally {
    db.disconnect();
  }
}

async function run(mode: 'plain' | 'sm' | 'resume') {
  const redis = await startRedis();
  const gw = await startGateway({
    redisUrl: redis.url,
    keyPrefix: `bench-sm:${mode}:`,
    env: {
      PARLEY_AUTH_BACKEND: 'open-insecure-test-only',
      PARLEY_ALLOW_PLAIN_WITHOUT_TLS: 'true',
      PARLEY_SESSION_STANZAS_PER_SECOND: '5000',
      PARLEY_SESSION_BURST_STANZAS: '5000',
      PARLEY_SM_MAX_UNACKED: String(N + 100),
      PARLEY_SM_ACK_REQUEST_STANZAS: String(N + 100),
      PARLEY_SM_ACK_REQUEST_MS: '600000',
    },
  });
  try {
    const sink = await RawClient.connect(gw.c2sPort);
    await loginPlain(sink, { domain: 'localhost', user: 'sink', password: 'pw', resource: 'r' });
    if (mode !== 'plain') {
      await sink.send(`<enable xmlns='urn:xmpp:sm:3'${mode === 'resume' ? " resume='true'" : ''}/>`);
      await sink.waitFor(/<enabled\b/);
    }
    const sender = await RawClient.connect(gw.c2sPort);
    await loginPlain(sender, { domain: 'localhost', user: 'sender', password: 'pw', resource: 'r' });
    await sleep(500);
    const cmds0 = await info(redis, 'total_commands_processed', 'stats');
    const cpu0 = cpuMs(gw.pid);
    const t0 = Date.now();
    for (let i = 0; i < N; i++) {
      await sender.send(`<message type='chat' to='sink@localhost/r' id='m${i}'><body>${BODY}</body></message>`);
      if (i % 200 === 199) await sleep(50);
    }
    await sink.waitFor(new RegExp(`id=['"]m${N - 1}['"]`), { timeoutMs: 120_000 });
    const wallMs = Date.now() - t0;
    await sleep(300);
    const cmds = (await info(redis, 'total_commands_processed', 'stats')) - cmds0;
    const cpu = cpuMs(gw.pid) - cpu0;
    const usedMemory = await info(redis, 'used_memory', 'memory');
    sink.destroy();
    sender.destroy();
    return { mode, messages: N, wallMs, redisCommands: cmds, redisCommandsPerMessage: +(cmds / N).toFixed(2), gatewayCpuMs: cpu, gatewayCpuUsPerMessage: +((cpu * 1000) / N).toFixed(1), redisUsedMemory: usedMemory };
  } finally {
    await gw.stop();
    await redis.stop();
  }
}

const results = [];
for (const mode of ['plain', 'sm', 'resume', 'plain', 'sm', 'resume'] as const) {
  const r = await run(mode);
  console.log(JSON.stringify(r));
  results.push(r);
}
if (values.out) writeFileSync(values.out, JSON.stringify({ at: new Date().toISOString(), results }, null, 2));
