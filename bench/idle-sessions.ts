// Login latency and memory per idle session on one gateway.
//
// Starts a private redis-server and one gateway (open test authentication), then
//  1. logs N users in for the first time (PLAIN; the account is created, which derives
//     SCRAM-SHA-1 and SCRAM-SHA-256 credentials: two PBKDF2 runs of 4096 iterations),
//  2. logs the same N users in again (PLAIN checked against the stored SCRAM-SHA-256 key:
//     one PBKDF2 run) and keeps every session open and idle (after initial presence),
//  3. reads the gateway's resident memory (VmRSS) at start, between the steps and with
//     the N sessions open.
// Logins run C at a time. Usage: node --import tsx bench/idle-sessions.ts [N] [C]
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { startGateway, startRedis } from '../packages/testkit/src/index.js';

const N = Number(process.argv[2] ?? 1000);
const C = Number(process.argv[3] ?? 20);
const HEADER = "<?xml version='1.0'?><stream:stream to='localhost' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>";

function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

async function login(port: number, user: string): Promise<{ ms: number; sock: Socket }> {
  const started = performance.now();
  const sock = connect(port, '127.0.0.1');
  let text = '';
  let waiter: (() => void) | undefined;
  sock.on('data', (d: Buffer) => {
    text += d.toString();
    waiter?.();
  });
  const until = (re: RegExp) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (re.test(text)) {
          text = '';
          waiter = undefined;
          resolve();
        } else if (/<failure|stream:error/.test(text)) reject(new Error(text));
      };
      waiter = check;
      check();
    });
  sock.write(HEADER);
  await until(/<\/stream:features>/);
  sock.write(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from(`\0${user}\0pw`).toString('base64')}</auth>`);
  await until(/<success/);
  sock.write(HEADER);
  await until(/<\/stream:features>/);
  sock.write("<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>");
  await until(/<\/iq>/);
  const ms = performance.now() - started;
  sock.write('<presence/>');
  await until(/<presence/);
  sock.removeAllListeners('data');
  sock.on('data', () => undefined);
  return { ms, sock };
}

async function run(port: number, label: string): Promise<Socket[]> {
  const times: number[] = [];
  const socks: Socket[] = [];
  const started = performance.now();
  for (let i = 0; i < N; i += C) {
    const batch = await Promise.all(Array.from({ length: Math.min(C, N - i) }, (_, j) => login(port, `bench${i + j}`)));
    for (const b of batch) {
      times.push(b.ms);
      socks.push(b.sock);
    }
  }
  const wall = (performance.now() - started) / 1000;
  times.sort((a, b) => a - b);
  const pct = (p: number) => times[Math.min(times.length - 1, Math.floor((p / 100) * times.length))]!.toFixed(1);
  console.log(`${label}: ${N} logins, ${C} at a time: p50 ${pct(50)} ms, p95 ${pct(95)} ms, p99 ${pct(99)} ms, ${(N / wall).toFixed(0)} logins/s`);
  return socks;
}

const redis = await startRedis();
const gw = await startGateway({
  redisUrl: redis.url,
  keyPrefix: 'bench:',
  env: { PARLEY_AUTH_BACKEND: 'open-insecure-test-only', PARLEY_ALLOW_PLAIN_WITHOUT_TLS: 'true', PARLEY_LOG_LEVEL: 'warn' },
});
try {
  await new Promise((r) => setTimeout(r, 1000));
  const atStart = rssKiB(gw.pid);
  const first = await run(gw.c2sPort, 'first login (account created)');
  for (const s of first) s.destroy();
  await new Promise((r) => setTimeout(r, 2000));
  const before = rssKiB(gw.pid);
  const socks = await run(gw.c2sPort, 'login (existing account)');
  await new Promise((r) => setTimeout(r, 3000));
  const afterKiB = rssKiB(gw.pid);
  // Garbage collection makes the difference between two readings noisy; the reading at
  // start (nothing allocated for sessions yet) gives an upper bound per session.
  console.log(`gateway RSS: ${(atStart / 1024).toFixed(1)} MiB at start, ${(before / 1024).toFixed(1)} MiB after the first logins closed, ${(afterKiB / 1024).toFixed(1)} MiB with ${N} idle sessions`);
  console.log(`upper bound per idle session: ${(((afterKiB - atStart) * 1024) / N / 1024).toFixed(1)} KiB (RSS with sessions minus RSS at start, over N)`);
  for (const s of socks) s.destroy();
} finally {
  await gw.stop();
  await redis.stop();
}
