// Where one groupchat message's time goes on an idle system, per hop (issue #15 item 1).
//
// Starts a private redis-server, 1 gateway and 1 room worker with `debug.hopTrace` on
// (PARLEY_DEBUG_HOP_TRACE=true, @parley/bus hop-trace.ts), logs in two raw TCP clients on the
// gateway, makes a room of the two, then sends N groupchat messages one at a time: the next
// only after the other occupant has read the previous one, plus a pause (an idle system).
// Every delivery to the other occupant is traced; from the gateway's `hop trace` lines and the
// `hop trace ack` lines of the gateway and the worker, and the client's own stamps (same clock:
// the machine's monotonic clock, µs, @parley/bus hopNowUs), it prints p50 / p90 / p99 of each hop
// and of the end-to-end time, and measures bare Redis round trips with the same clock
// (PING, XADD, and XADD on one connection → a blocked XREAD on another returning it).
//
// Usage: node --conditions=parley-source --import tsx bench/hop-latency.ts
//   [--messages N (300)] [--pause ms (20)] [--rounds R (3)] [--out FILE] [--note TEXT]
// Appends a section (command, machine, load, tables) to FILE
// (default bench/results/hop-latency-<date>.md). Needs the build (`npx tsc -b`).
import { appendFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { execFileSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { HOP_POINTS, hopNowUs } from '../packages/bus/src/index.js';
import { startMucCluster } from '../packages/testkit/src/index.js';
import { login, XmppConnection } from '../packages/client/src/index.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}
const MESSAGES = Number(arg('messages', '300'));
const PAUSE_MS = Number(arg('pause', '20'));
const ROUNDS = Number(arg('rounds', '3'));
const DATE = new Date().toISOString().slice(0, 10);
const OUT = arg('out', `bench/results/hop-latency-${DATE}.md`);
const NOTE = arg('note', '');
const MUC = 'conference.localhost';
const ROOM = `hops@${MUC}`;

/** A client of the benchmark (@parley/client): PLAIN login, then elements read one at a time or handed to {@link onBody}. */
class Client {
  /** After setup: body text → when the element that carried it was read (µs). */
  onBody: ((body: string, atUs: number) => void) | undefined;

  constructor(readonly conn: XmppConnection) {}

  /** Waits for an element whose text matches `re`, skipping others (until {@link listen}). */
  async until(re: RegExp): Promise<void> {
    for (;;) if (re.test((await this.conn.next(10_000, String(re))).xml)) return;
  }

  /** From now on every element goes to {@link onBody} (message bodies only). */
  listen(): void {
    this.conn.deliverTo((xml) => {
      const at = hopNowUs();
      const m = /<body>([^<]*)<\/body>/.exec(xml);
      if (m && xml.startsWith('<message')) this.onBody?.(m[1]!, at);
    }, false);
  }

  write(s: string): void {
    this.conn.send(s);
  }

  close(): void {
    this.conn.close();
  }
}

async function loginAs(port: number, user: string): Promise<Client> {
  const conn = await XmppConnection.connect({ kind: 'tcp', host: '127.0.0.1', port });
  await login(conn, { domain: 'localhost', user, password: 'pw', mechanism: 'PLAIN', resource: 'r' });
  return new Client(conn);
}

function pct(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** `name | min | p50 | p90 | p99 | n` rows (ms with 3 decimals) of µs samples. */
function row(name: string, us: number[]): string {
  const s = [...us].sort((a, b) => a - b);
  const f = (v: number) => (v / 1000).toFixed(3);
  return `| ${name} | ${f(s[0] ?? NaN)} | ${f(pct(s, 50))} | ${f(pct(s, 90))} | ${f(pct(s, 99))} | ${s.length} |`;
}

const out: string[] = [];
const say = (line = '') => {
  console.log(line);
  out.push(line);
};

const top = (() => {
  try {
    return execFileSync('top', ['-bn1'], { encoding: 'utf8' }).split('\n').slice(0, 12).join('\n');
  } catch {
    return '(top not available)';
  }
})();

const cluster = await startMucCluster({ name: 'hop-latency', gateways: 1, workers: 1, env: { PARLEY_DEBUG_HOP_TRACE: 'true' } });
const db = cluster.redis.client();
const clients: Client[] = [];
try {
  const gw = cluster.gateways[0]!;
  const a = await loginAs(gw.c2sPort, 'hopsender');
  const b = await loginAs(gw.c2sPort, 'hopreader');
  clients.push(a, b);
  a.write(`<presence to='${ROOM}/a'><x xmlns='http://jabber.org/protocol/muc'><history maxstanzas='0'/></x></presence>`);
  await a.until(/code='110'|code="110"/);
  a.write(`<iq type='set' id='cfg' to='${ROOM}'><query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='submit'/></query></iq>`);
  await a.until(/<iq[^>]*id=.cfg./);
  b.write(`<presence to='${ROOM}/b'><x xmlns='http://jabber.org/protocol/muc'><history maxstanzas='0'/></x></presence>`);
  await b.until(/code='110'|code="110"/);
  a.listen();
  b.listen();

  /** Per message: [client send, client read] (µs). */
  const client: Array<[number, number]> = [];
  let arrived: ((at: number) => void) | undefined;
  b.onBody = (_body, at) => arrived?.(at);
  const warmup = 20;
  for (let i = 0; i < warmup + ROUNDS * MESSAGES; i++) {
    const got = new Promise<number>((resolve) => (arrived = resolve));
    const sent = hopNowUs();
    a.write(`<message to='${ROOM}' type='groupchat' id='h${i}'><body>h${i}</body></message>`);
    const read = await got;
    if (i >= warmup) client.push([sent, read]);
    await sleep(PAUSE_MS);
  }
  await sleep(500);

  // The traces of the deliveries to the reader, in order, after the warm-up.
  const parse = (lines: string[], msg: string) =>
    lines.filter((l) => l.includes(`"${msg}"`)).map((l) => JSON.parse(l) as Record<string, unknown>).filter((e) => e['msg'] === msg);
  const traces = parse(gw.logs, 'hop trace').filter((e) => e['to'] === 'hopreader@localhost/r').slice(warmup);
  const acks = new Map<string, number>();
  for (const e of [...parse(gw.logs, 'hop trace ack'), ...parse(cluster.workers[0]!.logs, 'hop trace ack')]) {
    acks.set(`${String(e['hopTrace'])} ${String(e['point'])}`, (e['reply'] as number) - (e['sent'] as number));
  }
  if (traces.length !== client.length) throw new Error(`${traces.length} traces for ${client.length} messages`);

  // Redis round trips with the same clock, on the idle system.
  const ping: number[] = [];
  const xadd: number[] = [];
  const xaddAuto: number[] = [];
  // The gateway's command connection auto-pipelines (ioredis: the write waits for a setImmediate).
  const auto = db.duplicate({ enableAutoPipelining: true });
  const wake: number[] = [];
  const scratch = `${cluster.keyPrefix}bench:rtt`;
  const blocked = db.duplicate();
  for (let i = 0; i < 300; i++) {
    let t = hopNowUs();
    await db.ping();
    ping.push(hopNowUs() - t);
    t = hopNowUs();
    await db.xadd(scratch, 'MAXLEN', '10', '*', 'f', 'v');
    xadd.push(hopNowUs() - t);
    t = hopNowUs();
    await auto.xadd(scratch, 'MAXLEN', '10', '*', 'f', 'v');
    xaddAuto.push(hopNowUs() - t);
    const read = blocked.xread('BLOCK', 1000, 'STREAMS', scratch, '$');
    await sleep(2);
    let woke = 0;
    const done = read.then(() => (woke = hopNowUs()));
    t = hopNowUs();
    await db.xadd(scratch, 'MAXLEN', '10', '*', 'f', 'v');
    await done;
    wake.push(woke - t);
    await sleep(2);
  }
  blocked.disconnect();
  auto.disconnect();
  await db.del(scratch);

  const redisVersion = (await db.info('server')).match(/redis_version:(\S+)/)?.[1] ?? '?';
  say(`## Run ${new Date().toISOString()}${NOTE ? ` — ${NOTE}` : ''}`);
  say();
  say(`Command: \`node --conditions=parley-source --import tsx bench/hop-latency.ts ${process.argv.slice(2).join(' ')}\``);
  say(`Machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, Node ${process.version}, redis-server ${redisVersion}; 1 gateway + 1 room worker + this client on it.`);
  say(`Load average at the end: ${loadavg().map((l) => l.toFixed(2)).join(' ')}. \`top\` before the start:`);
  say('```');
  say(top);
  say('```');
  say(`${ROUNDS} rounds × ${MESSAGES} messages (after ${warmup} warm-up), one at a time, ${PAUSE_MS} ms pause; room of 2 on one gateway; latency to the other occupant. ms:`);
  say();
  say('| hop | min | p50 | p90 | p99 | n |');
  say('|---|---|---|---|---|---|');
  const col = (k: string) => traces.map((t) => (t['hop'] as Record<string, number>)[k]!);
  const stamps = HOP_POINTS.map(col);
  say(row('client write → gw.read (kernel, loopback)', client.map(([s], i) => stamps[0]![i]! - s)));
  for (let p = 1; p < HOP_POINTS.length; p++) say(row(`${HOP_POINTS[p - 1]} → ${HOP_POINTS[p]}`, stamps[p]!.map((v, i) => v - stamps[p - 1]![i]!)));
  say(row('gd.write → client read (kernel, loopback, client parse)', client.map(([, r], i) => r - stamps[HOP_POINTS.length - 1]![i]!)));
  say(row('**end to end (client write → client read)**', client.map(([s, r]) => r - s)));
  say(row('sum gw.read → gd.write (server)', stamps[0]!.map((v, i) => stamps[HOP_POINTS.length - 1]![i]! - v)));
  const ids = traces.map((t) => String(t['hopTrace']));
  say(row('(off path) gw.xadd → its reply', ids.map((id) => acks.get(`${id} gw.xadd`) ?? NaN).filter((v) => !Number.isNaN(v))));
  say(row('(off path) wk.sent → pipeline reply (a relay-only turn: its pipeline ends with the next blocking XREAD, so this includes the wait for the next message)', ids.map((id) => acks.get(`${id} wk.sent`) ?? NaN).filter((v) => !Number.isNaN(v))));
  say(row('Redis PING round trip (this client, ioredis)', ping));
  say(row('Redis XADD round trip', xadd));
  say(row('Redis XADD round trip, auto-pipelined connection (as the gateway\'s)', xaddAuto));
  say(row('XADD sent → blocked XREAD on another connection returns', wake));
  // The same message's echo to the sender (another delivery entry of the same turn): read in
  // the same XREADGROUP reply as the reader's entry, and written before or after it?
  const echo = new Map<string, Record<string, number>>();
  for (const e of parse(gw.logs, 'hop trace')) if (e['to'] === 'hopsender@localhost/r') echo.set(String(e['hopTrace']), e['hop'] as Record<string, number>);
  let sameRead = 0;
  let echoFirst = 0;
  for (const t of traces) {
    const e = echo.get(String(t['hopTrace']));
    const h = t['hop'] as Record<string, number>;
    if (e === undefined) continue;
    if (e['gd.read'] === h['gd.read']) sameRead++;
    if (e['gd.write']! <= h['gd.write']!) echoFirst++;
  }
  say();
  say(`The sender's echo (a second delivery entry of the same turn): read in the same XREADGROUP reply as the reader's entry for ${sameRead} of ${traces.length} messages; written to its socket first for ${echoFirst}.`);
  say();
  say('Per round, end-to-end p50 / p90 (ms):');
  for (let r = 0; r < ROUNDS; r++) {
    const s = client.slice(r * MESSAGES, (r + 1) * MESSAGES).map(([a0, b0]) => b0 - a0).sort((x, y) => x - y);
    say(`- round ${r + 1}: ${(pct(s, 50) / 1000).toFixed(3)} / ${(pct(s, 90) / 1000).toFixed(3)}`);
  }
  say();
} finally {
  for (const c of clients) c.close();
  db.disconnect();
  await cluster.stop();
}
appendFileSync(OUT, `${out.join('\n')}\n`);
console.log(`appended to ${OUT}`);
