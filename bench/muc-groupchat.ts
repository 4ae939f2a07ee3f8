// Groupchat delivery throughput and latency through the whole cluster (issue #5, item 4).
//
// Starts a private redis-server, G gateways and W room workers (default 2 + 2; open test
// authentication, PLAIN without TLS), connects R × O raw TCP clients (spread over the gateways in turn),
// joins O of them to each of R rooms, and then has one sender per room send groupchat
// messages at a fixed rate for S seconds, each with its send time in the body. Every client
// counts what it receives, so the run reports deliveries/s, end-to-end latency (p50, p99,
// max; from the sender's write to the recipient's read, all in this one process), lost and
// duplicated deliveries (expected: every message × O, the sender's own echo included), the
// CPU used by each process from /proc/<pid>/stat, and Redis commands per message.
//
// Usage: node --import tsx bench/muc-groupchat.ts [--rooms R] [--occupants O]
//   [--rate msgs/s per room] [--seconds S] [--warmup S] [--body bytes] [--history N]
//   [--shards N] [--gateways G] [--workers W]
//   [--profile DIR]   (--profile: every service writes a --cpu-prof there)
//   [--storm N]   (join storm: N clients join one room at once — after its creator made it
//                  an instant room — and the run reports how long until every one of them
//                  has its self-presence; no messages are sent)
// Needs the build (`npx tsc -b`): the services run from dist/.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { startMucCluster } from '../packages/testkit/src/index.js';

/** Ends a --storm run after its measurement (skipping the message phase). */
class StormDone extends Error {}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? fallback : Number(process.argv[i + 1]);
}
function argText(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? undefined : process.argv[i + 1];
}

const ROOMS = arg('storm', 0) > 0 ? 1 : arg('rooms', 100);
const OCCUPANTS = arg('storm', 0) > 0 ? arg('storm', 0) : arg('occupants', 10);
const RATE = arg('rate', 2);
const SECONDS = arg('seconds', 10);
const WARMUP = Math.min(arg('warmup', 2), SECONDS / 2);
const BODY = arg('body', 64);
const HISTORY = arg('history', 0);
const SHARDS = arg('shards', 64);
const GATEWAYS = arg('gateways', 2);
const WORKERS = arg('workers', 2);
const PROFILE = argText('profile');
const STORM = arg('storm', 0);
const LOGIN_CONCURRENCY = 50;
const MUC = 'conference.localhost';
const HEADER = "<?xml version='1.0'?><stream:stream to='localhost' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>";

/** utime + stime of a process, in seconds. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // fields 14 and 15 (1-based), in clock ticks (100/s)
}

/** One simulated occupant. */
class Client {
  private buf = '';
  private waiter: { re: RegExp; resolve: () => void; reject: (e: Error) => void } | undefined;
  /** After login: count bodies instead of keeping text. */
  private counting = false;
  /** Per message number of this room: how many times it arrived. */
  counts: Uint16Array;
  received = 0;

  constructor(readonly sock: Socket, readonly room: number, maxSeq: number, private readonly onBody: (sentAt: number, now: number) => void) {
    this.counts = new Uint16Array(maxSeq);
    sock.setNoDelay(true);
    sock.on('data', (d: Buffer) => this.data(d.toString('utf8')));
    sock.on('error', () => undefined);
  }

  private data(text: string): void {
    this.buf += text;
    if (!this.counting) {
      const w = this.waiter;
      if (w && w.re.test(this.buf)) {
        this.buf = '';
        this.waiter = undefined;
        w.resolve();
      } else if (w && /<failure|stream:error/.test(this.buf)) {
        w.reject(new Error(this.buf));
      } else if (this.buf.length > 8192) {
        // Waiting through a long join sequence: keep a tail (every pattern is short), so
        // that the generator does not rescan everything it received on each chunk.
        this.buf = this.buf.slice(-1024);
      }
      return;
    }
    const now = performance.now();
    const end = this.buf.lastIndexOf('</message>');
    if (end < 0) return;
    const complete = this.buf.slice(0, end);
    this.buf = this.buf.slice(end + 10);
    let i = 0;
    for (;;) {
      const b = complete.indexOf('<body>', i);
      if (b < 0) break;
      const e = complete.indexOf(' ', b + 6);
      // body: "<seq>:<sentAt> padding"
      const [seq, sentAt] = complete.slice(b + 6, e).split(':');
      const n = Number(seq);
      if (n < this.counts.length) this.counts[n]!++;
      this.received++;
      this.onBody(Number(sentAt), now);
      i = e;
    }
  }

  until(re: RegExp): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiter = { re, resolve, reject };
      this.data('');
    });
  }

  startCounting(): void {
    this.buf = '';
    this.counting = true;
  }

  write(s: string): void {
    this.sock.write(s);
  }
}

async function login(port: number, user: string, room: number, maxSeq: number, onBody: (sentAt: number, now: number) => void): Promise<Client> {
  const sock = connect(port, '127.0.0.1');
  await new Promise<void>((res, rej) => sock.once('connect', res).once('error', rej));
  const c = new Client(sock, room, maxSeq, onBody);
  c.write(HEADER);
  await c.until(/<\/stream:features>/);
  c.write(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from(`\0${user}\0pw`).toString('base64')}</auth>`);
  await c.until(/<success/);
  c.write(HEADER);
  await c.until(/<\/stream:features>/);
  c.write(`<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>r</resource></bind></iq>`);
  await c.until(/<\/iq>/);
  return c;
}

async function inBatches<T>(n: number, c: number, f: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < n; i += c) out.push(...(await Promise.all(Array.from({ length: Math.min(c, n - i) }, (_, j) => f(i + j)))));
  return out;
}

function pct(sorted: Float64Array, p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const env: Record<string, string> = {
  PARLEY_AUTH_BACKEND: 'open-insecure-test-only',
  PARLEY_ALLOW_PLAIN_WITHOUT_TLS: 'true',
  PARLEY_LOG_LEVEL: 'warn',
  PARLEY_MUC_SHARDS: String(SHARDS),
  PARLEY_MUC_HISTORY_LENGTH: String(HISTORY),
};
// NODE_OPTIONS may not carry --cpu-prof, so each service preloads a module that starts the
// inspector's profiler on a first SIGUSR2 (when the measured window begins) and writes
// `<pid>.cpuprofile` on a second (when it ends).
const PRELOAD = `import { Session } from 'node:inspector';
import { writeFileSync } from 'node:fs';
const s = new Session();
s.connect();
s.post('Profiler.enable');
s.post('Profiler.setSamplingInterval', { interval: 500 });
let on = false;
process.on('SIGUSR2', () => {
  if (!on) { on = true; s.post('Profiler.start'); return; }
  s.post('Profiler.stop', (err, r) => {
    if (!err) writeFileSync(process.env.BENCH_PROFILE_DIR + '/' + process.pid + '.cpuprofile', JSON.stringify(r.profile));
  });
});
`;
if (PROFILE) {
  mkdirSync(PROFILE, { recursive: true });
  writeFileSync(join(resolve(PROFILE), 'preload.mjs'), PRELOAD);
  env.NODE_OPTIONS = `--import ${join(resolve(PROFILE), 'preload.mjs')}`;
  env.BENCH_PROFILE_DIR = resolve(PROFILE);
}

const cluster = await startMucCluster({ name: 'bench', gateways: GATEWAYS, workers: WORKERS, shards: SHARDS, env, shardsOwnedTimeoutMs: 20_000 });
const { redis, gateways, workers } = cluster;
const clients: Client[] = [];
try {
  const db = redis.client();

  const maxSeq = Math.ceil(RATE * SECONDS) + 16;
  let measureFrom = Infinity;
  const latencies: number[] = [];
  let lateMax = 0;
  const onBody = (sentAt: number, now: number) => {
    if (sentAt >= measureFrom) {
      const l = now - sentAt;
      latencies.push(l);
      if (l > lateMax) lateMax = l;
    }
  };

  const t0 = performance.now();
  const total = ROOMS * OCCUPANTS;
  const logged = await inBatches(total, LOGIN_CONCURRENCY, (i) => {
    const room = Math.floor(i / OCCUPANTS);
    return login(gateways[i % gateways.length]!.c2sPort, `u${i}`, room, maxSeq, onBody);
  });
  clients.push(...logged);
  const t1 = performance.now();
  console.log(`${total} clients logged in: ${((t1 - t0) / 1000).toFixed(1)} s`);
  // The first occupant creates each room and unlocks it as an instant room (XEP-0045
  // §10.1.2); then the others join (each join is answered with the occupant list).
  const join = async (i: number) => {
    const c = clients[i]!;
    c.write(`<presence to='r${c.room}@${MUC}/n${i}'><x xmlns='http://jabber.org/protocol/muc'><history maxstanzas='0'/></x></presence>`);
    await c.until(/code='110'|code="110"/);
  };
  await inBatches(ROOMS, LOGIN_CONCURRENCY, async (r) => {
    await join(r * OCCUPANTS);
    const c = clients[r * OCCUPANTS]!;
    c.write(`<iq type='set' id='cfg' to='r${r}@${MUC}'><query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='submit'/></query></iq>`);
    await c.until(/<iq[^>]*id=.cfg./);
  });
  if (STORM > 0) {
    // Everyone else at once; measured from the first write to the last self-presence.
    const workerPids = workers.map((w) => w.pid);
    const cpu0 = workerPids.map(cpuSeconds);
    const gw0 = gateways.map((g) => cpuSeconds(g.pid));
    const self0 = process.cpuUsage();
    if (PROFILE) for (const p of [...gateways, ...workers]) process.kill(p.pid, 'SIGUSR2');
    const s0 = performance.now();
    await Promise.all(Array.from({ length: total - 1 }, (_, k) => join(k + 1)));
    const s1 = performance.now();
    const cpu1 = workerPids.map(cpuSeconds);
    const gw1 = gateways.map((g) => cpuSeconds(g.pid));
    const self1 = process.cpuUsage(self0);
    console.log(`join storm: ${total - 1} clients into a room of 1: ${((s1 - s0) / 1000).toFixed(2)} s ` +
      `(CPU s: room workers ${cpu1.map((c, i) => (c - cpu0[i]!).toFixed(2)).join(' + ')}, gateways ${gw1.map((c, i) => (c - gw0[i]!).toFixed(2)).join(' + ')}, ` +
      `generator ${((self1.user + self1.system) / 1e6).toFixed(2)})`);
    if (PROFILE) {
      for (const p of [...gateways, ...workers]) process.kill(p.pid, 'SIGUSR2');
      await sleep(2000);
      console.log(`profiles (<pid>.cpuprofile) in ${resolve(PROFILE)}: gateways ${gateways.map((g) => g.pid).join(', ')}, room workers ${workerPids.join(', ')}`);
    }
    process.exitCode = 0;
  }
  if (STORM === 0) await inBatches(total, LOGIN_CONCURRENCY, async (i) => (i % OCCUPANTS === 0 ? undefined : join(i)));
  const t2 = performance.now();
  if (STORM > 0) throw new StormDone();
  console.log(`${total} joins into ${ROOMS} rooms: ${((t2 - t1) / 1000).toFixed(1)} s`);
  await sleep(1500); // the last joins' presence broadcasts
  for (const c of clients) c.startCounting();

  const procs: Array<[string, number]> = [
    ['redis', redis.pid],
    ...gateways.map((g, i): [string, number] => [`gateway ${i + 1}`, g.pid]),
    ...workers.map((w, i): [string, number] => [`room worker ${i + 1}`, w.pid]),
  ];
  const pad = 'x'.repeat(Math.max(0, BODY - 20));
  const senders = Array.from({ length: ROOMS }, (_, r) => clients[r * OCCUPANTS]!);
  const sent = new Array<number>(ROOMS).fill(0);
  const start = performance.now();
  measureFrom = start + WARMUP * 1000;
  let cpuAt: number[] = [];
  let selfAt = process.cpuUsage();
  let cmdAt = 0;
  let measureStartedAt = 0;
  const commands = async () => Number(/total_commands_processed:(\d+)/.exec(await db.info('stats'))?.[1] ?? 0);
  let measured = false;
  await new Promise<void>((done) => {
    const tick = async () => {
      const now = performance.now();
      const elapsed = (now - start) / 1000;
      if (!measured && now >= measureFrom) {
        measured = true;
        measureStartedAt = now;
        cpuAt = procs.map(([, pid]) => cpuSeconds(pid));
        if (PROFILE) for (const p of [...gateways, ...workers]) process.kill(p.pid, 'SIGUSR2');
        selfAt = process.cpuUsage();
        cmdAt = await commands();
      }
      if (elapsed >= SECONDS) return done();
      for (let r = 0; r < ROOMS; r++) {
        // Rooms are spread over the second so that they do not all send at once.
        const due = Math.min(maxSeq - 16, Math.floor((elapsed + r / ROOMS / RATE) * RATE));
        while (sent[r]! < due) {
          const n = sent[r]!;
          sent[r] = n + 1;
          senders[r]!.write(`<message to='r${r}@${MUC}' type='groupchat' id='m${n}'><body>${n}:${performance.now().toFixed(3)} ${pad}</body></message>`);
        }
      }
      setTimeout(() => void tick(), 2);
    };
    void tick();
  });
  const measureEnd = performance.now();
  const cpuEnd = procs.map(([, pid]) => cpuSeconds(pid));
  const selfEnd = process.cpuUsage(selfAt);
  const cmdEnd = await commands();
  const receivedInWindow = latencies.length;
  const sentTotal = sent.reduce((a, b) => a + b, 0);
  // Drain: wait until nothing more arrives for a second (at most 30 s).
  let last = -1;
  for (let i = 0; i < 30; i++) {
    await sleep(1000);
    const now = clients.reduce((a, c) => a + c.received, 0);
    if (now === last) break;
    last = now;
  }
  let lost = 0;
  let dup = 0;
  let delivered = 0;
  for (const c of clients) {
    const n = sent[c.room]!;
    for (let s = 0; s < n; s++) {
      const k = c.counts[s]!;
      delivered += k;
      if (k === 0) lost++;
      else if (k > 1) dup += k - 1;
    }
  }
  const windowS = (measureEnd - measureStartedAt) / 1000;
  const lat = Float64Array.from(latencies).sort();
  const sentInWindow = sent.reduce((a, n) => a + Math.max(0, n - Math.floor(WARMUP * RATE)), 0);
  console.log(
    `\n${ROOMS} rooms × ${OCCUPANTS} occupants, ${RATE} msg/s per room (offered ${(ROOMS * OCCUPANTS * RATE).toFixed(0)} deliveries/s), ` +
      `${SECONDS} s (${WARMUP} s warm-up), ${BODY}-byte bodies, history ${HISTORY}, ${SHARDS} shards`,
  );
  console.log(`sent ${sentTotal} messages; expected ${sentTotal * OCCUPANTS} deliveries, got ${delivered}: lost ${lost}, duplicated ${dup}`);
  console.log(`measured window ${windowS.toFixed(1)} s: ${(receivedInWindow / windowS).toFixed(0)} deliveries/s`);
  console.log(`latency: p50 ${pct(lat, 50).toFixed(2)} ms, p90 ${pct(lat, 90).toFixed(2)} ms, p99 ${pct(lat, 99).toFixed(2)} ms, max ${lateMax.toFixed(1)} ms (${lat.length} samples)`);
  const cpu = procs.map(([name], i) => `${name} ${(((cpuEnd[i]! - cpuAt[i]!) / windowS) * 100).toFixed(0)}%`);
  cpu.push(`generator ${(((selfEnd.user + selfEnd.system) / 1e6 / windowS) * 100).toFixed(0)}%`);
  console.log(`CPU (% of one core over the window): ${cpu.join(', ')}`);
  console.log(`Redis commands: ${((cmdEnd - cmdAt) / windowS).toFixed(0)}/s, ${((cmdEnd - cmdAt) / Math.max(1, sentInWindow)).toFixed(1)} per message sent`);
  if (PROFILE) {
    for (const p of [...gateways, ...workers]) process.kill(p.pid, 'SIGUSR2');
    await sleep(2000);
    console.log(`profiles (<pid>.cpuprofile) in ${resolve(PROFILE)}: ${procs.map(([n, pid]) => `${n} ${pid}`).join(', ')}`);
  }
} catch (e) {
  if (!(e instanceof StormDone)) throw e;
} finally {
  for (const c of clients) c.sock.destroy();
  await cluster.stop();
}
