// Memory per connected, joined client, attributed per process and per item (issue #15, item 3).
//
//   npx tsc -b && node --experimental-websocket --import tsx bench/session-memory.ts [--clients 2500,5000] [--no-snapshot] [--out file.json]
//
// For each client count N (a fresh cluster each time): a private redis-server (in memory, as
// bench:compare's), one gateway and one room worker (testkit, open test authentication,
// PARLEY_MUC_HISTORY_LENGTH=0, log level warn), each node process started with
// `--inspect=127.0.0.1:<port>` so that this script can force a full GC and read its memory
// through the DevTools protocol. The load generator (@parley/loadgen, dist/) logs N clients
// in (PLAIN, initial presence) and joins them to N/10 rooms of 10, as s1-idle-10000 does;
// when it enters its idle phase every process is measured:
//  - node processes: VmRSS as found 1.5 s and `--late` (15) s into the idle phase, then, after a forced GC,
//    VmRSS / RssAnon (/proc) and process.memoryUsage()
//    (heapUsed, external, arrayBuffers) and v8.getHeapSpaceStatistics(); then a heap snapshot
//    whose objects are summed by kind (constructor name for objects, "closure <fn>" for
//    functions, "(string)", "(array)", …): the difference against the snapshot taken before
//    the clients came, divided by N, is the heap cost per client by kind.
//  - Redis: INFO memory (used_memory, RSS, fragmentation) and, for every key, its kind
//    (the key with ids and names replaced by placeholders), type, encoding and MEMORY USAGE.
// `--dump-dir D` keeps the raw snapshots (<pid>-<ms>.heapsnapshot) for Chrome DevTools.
// `--env NAME=value` (repeatable) sets a variable for the gateway and the room worker;
// `--node-flags='<flags>'` (with `=`) adds Node/V8 flags to both (NODE_OPTIONS, e.g. --max-semi-space-size=1).
// All figures are per client: (with N clients − before any client) / N. Output: a JSON file
// and a Markdown summary on stdout.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { freePort, repoRoot, startGateway, startRedis, startRoomWorker, type RedisServer } from '../packages/testkit/src/index.js';

type Loadgen = typeof import('../packages/loadgen/src/index.js');

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '2500,5000' },
    'no-snapshot': { type: 'boolean', default: false },
    out: { type: 'string', default: '' },
    env: { type: 'string', multiple: true, default: [] },
    'dump-dir': { type: 'string', default: '' },
    late: { type: 'string', default: '15' },
    'node-flags': { type: 'string', default: '' },
  },
});
const counts = values.clients.split(',').map(Number);
const snapshots = !values['no-snapshot'];
const lateSec = Number(values.late);
const extraEnv = Object.fromEntries(values.env.map((kv) => kv.split('=', 2) as [string, string]));

const loadgen = (await import(pathToFileURL(join(repoRoot(), 'packages', 'loadgen', 'dist', 'index.js')).href)) as Loadgen;

// ---------------------------------------------------------------------------------------------
// DevTools protocol (Node's inspector) over the global WebSocket (--experimental-websocket).

class Cdp {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  private chunks: string[] = [];
  private constructor(private readonly ws: WebSocket) {
    ws.addEventListener('message', (ev) => {
      const msg = JSON.parse(String(ev.data));
      if (msg.method === 'HeapProfiler.addHeapSnapshotChunk') this.chunks.push(msg.params.chunk);
      else if (msg.id !== undefined) {
        const p = this.pending.get(msg.id);
        this.pending.delete(msg.id);
        if (msg.error) p?.reject(new Error(JSON.stringify(msg.error)));
        else p?.resolve(msg.result);
      }
    });
  }
  static async connect(port: number): Promise<Cdp> {
    const list = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as Array<{ webSocketDebuggerUrl: string }>;
    const ws = new WebSocket(list[0]!.webSocketDebuggerUrl);
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener('open', () => resolve());
      ws.addEventListener('error', () => reject(new Error('inspector connect failed')));
    });
    return new Cdp(ws);
  }
  send(method: string, params: object = {}): Promise<any> {
    const id = this.nextId++;
    this.ws.send(JSON.stringify({ id, method, params }));
    return new Promise((resolve, reject) => this.pending.set(id, { resolve, reject }));
  }
  async evaluate(expr: string): Promise<any> {
    const r = await this.send('Runtime.evaluate', { expression: expr, returnByValue: true });
    return r.result.value;
  }
  async snapshot(): Promise<string> {
    this.chunks = [];
    await this.send('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
    const text = this.chunks.join('');
    this.chunks = [];
    return text;
  }
  close(): void {
    this.ws.close();
  }
}

interface NodeMem {
  /** VmRSS as found 1.5 s into the idle phase, before any forced GC (what bench:compare samples). */
  vmRssNoGcKiB: number;
  /** VmRSS as found after `--late` seconds of idle phase, before the forced GC (V8's own memory reducer has had time to run). */
  vmRssLateKiB: number;
  vmRssKiB: number;
  rssAnonKiB: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  spaces: Record<string, number>;
  byKind?: Map<string, { count: number; size: number }>;
}

function procStatus(pid: number): { vmRssKiB: number; rssAnonKiB: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const f = (n: string) => Number(new RegExp(`${n}:\\s+(\\d+) kB`).exec(s)?.[1] ?? NaN);
  return { vmRssKiB: f('VmRSS'), rssAnonKiB: f('RssAnon') };
}

async function measureNode(pid: number, cdp: Cdp, snap: boolean, noGcKiB?: number): Promise<NodeMem> {
  const vmRssLateKiB = procStatus(pid).vmRssKiB;
  const vmRssNoGcKiB = noGcKiB ?? vmRssLateKiB;
  await cdp.send('HeapProfiler.collectGarbage');
  await cdp.send('HeapProfiler.collectGarbage');
  const v = await cdp.evaluate(
    `(() => { const v8 = process.getBuiltinModule('v8'); const m = process.memoryUsage();
      const spaces = {}; for (const s of v8.getHeapSpaceStatistics()) spaces[s.space_name] = s.space_used_size;
      return { ...m, spaces }; })()`,
  );
  const mem: NodeMem = { vmRssNoGcKiB, vmRssLateKiB, ...procStatus(pid), heapUsed: v.heapUsed, heapTotal: v.heapTotal, external: v.external, arrayBuffers: v.arrayBuffers, spaces: v.spaces };
  if (snap) {
    const text = await cdp.snapshot();
    if (values['dump-dir']) writeFileSync(join(values['dump-dir'], `${pid}-${Date.now()}.heapsnapshot`), text);
    mem.byKind = summarizeSnapshot(text);
  }
  return mem;
}

/** Sums a V8 heap snapshot's nodes by kind: constructor name for objects, "closure <name>" for functions, "(type)" otherwise. */
function summarizeSnapshot(text: string): Map<string, { count: number; size: number }> {
  const s = JSON.parse(text) as { snapshot: { meta: { node_fields: string[]; node_types: [string[]] } }; nodes: number[]; strings: string[] };
  const fields = s.snapshot.meta.node_fields;
  const types = s.snapshot.meta.node_types[0];
  const nf = fields.length;
  const iType = fields.indexOf('type');
  const iName = fields.indexOf('name');
  const iSize = fields.indexOf('self_size');
  const out = new Map<string, { count: number; size: number }>();
  for (let i = 0; i < s.nodes.length; i += nf) {
    const type = types[s.nodes[i + iType]!]!;
    const name = s.strings[s.nodes[i + iName]!]!;
    let kind: string;
    if (type === 'object') kind = name;
    else if (type === 'closure') kind = `closure ${name || '(anonymous)'}`;
    else if (type === 'native') kind = `native ${name.slice(0, 40)}`;
    else if (type === 'hidden' || type === 'code' || type === 'array' || type === 'object shape') kind = `(${type}) ${name.slice(0, 40)}`;
    else kind = `(${type})`;
    const e = out.get(kind) ?? { count: 0, size: 0 };
    e.count++;
    e.size += s.nodes[i + iSize]!;
    out.set(kind, e);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Redis

interface RedisMem {
  info: Record<string, number>;
  vmRssKiB: number;
  kinds: Map<string, { count: number; bytes: number; type: string; encoding: string }>;
}

function keyKind(key: string, prefix: string): string {
  return key
    .slice(prefix.length)
    .replace(/s1m\d+/g, '<user>')
    .replace(/s1mr\d+/g, '<room>')
    .replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, '<uuid>')
    .replace(/\{s:\d+\}/g, '{s:<n>}')
    .replace(/\d+/g, '<n>');
}

async function measureRedis(redis: RedisServer, prefix: string): Promise<RedisMem> {
  const db = redis.client();
  try {
    const infoText = await db.info('memory');
    const info: Record<string, number> = {};
    for (const line of infoText.split('\r\n')) {
      const [k, v] = line.split(':');
      if (k && v !== undefined && /^[\d.]+$/.test(v)) info[k] = Number(v);
    }
    const kinds = new Map<string, { count: number; bytes: number; type: string; encoding: string }>();
    let cursor = '0';
    do {
      const [next, keys] = await db.scan(cursor, 'COUNT', 1000);
      cursor = next;
      if (keys.length === 0) continue;
      const p = db.pipeline();
      for (const k of keys) {
        p.memory('USAGE', k, 'SAMPLES', 0);
        p.type(k);
        p.object('ENCODING', k);
      }
      const res = (await p.exec()) ?? [];
      keys.forEach((k, i) => {
        const kind = keyKind(k, prefix);
        const e = kinds.get(kind) ?? { count: 0, bytes: 0, type: String(res[i * 3 + 1]?.[1]), encoding: String(res[i * 3 + 2]?.[1]) };
        e.count++;
        e.bytes += Number(res[i * 3]?.[1] ?? 0);
        kinds.set(kind, e);
      });
    } while (cursor !== '0');
    return { info, vmRssKiB: procStatus(redis.pid).vmRssKiB, kinds };
  } finally {
    db.disconnect();
  }
}

// ---------------------------------------------------------------------------------------------

interface RunResult {
  clients: number;
  joined: number;
  loginFailures: Record<string, number>;
  gateway: { before: NodeMem; after: NodeMem };
  worker: { before: NodeMem; after: NodeMem };
  redis: { before: RedisMem; after: RedisMem };
}

async function runOnce(n: number): Promise<RunResult> {
  const redis = await startRedis();
  const keyPrefix = 'mem:';
  const [gwInspect, wkInspect] = [await freePort(), await freePort()];
  const env = {
    PARLEY_AUTH_BACKEND: 'open-insecure-test-only',
    PARLEY_ALLOW_PLAIN_WITHOUT_TLS: 'true',
    PARLEY_LOG_LEVEL: 'warn',
    PARLEY_MUC_HISTORY_LENGTH: '0',
    PARLEY_LISTEN_BACKLOG: '1024',
    // Every client comes from 127.0.0.1: lift the per-address limits as the launcher's --open-auth does.
    PARLEY_MAX_CONNECTIONS_PER_ADDRESS: '100000',
    PARLEY_MAX_UNAUTHENTICATED_PER_ADDRESS: '10000',
    ...extraEnv,
  };
  const gw = await startGateway({ redisUrl: redis.url, keyPrefix, env: { ...env, NODE_OPTIONS: `--inspect=127.0.0.1:${gwInspect} ${values['node-flags']}` } });
  const wk = await startRoomWorker({ redisUrl: redis.url, keyPrefix, env: { ...env, NODE_OPTIONS: `--inspect=127.0.0.1:${wkInspect} ${values['node-flags']}` } });
  const gwCdp = await Cdp.connect(gwInspect);
  const wkCdp = await Cdp.connect(wkInspect);
  try {
    // Let the worker take its shard leases before the first join.
    await new Promise((r) => setTimeout(r, 3000));
    const before = {
      gateway: await measureNode(gw.pid, gwCdp, snapshots),
      worker: await measureNode(wk.pid, wkCdp, snapshots),
      redis: await measureRedis(redis, keyPrefix),
    };
    let after: typeof before | undefined;
    const scenario = loadgen.parseScenario({
      name: `session-memory-${n}`,
      targets: [`127.0.0.1:${gw.c2sPort}`],
      domain: 'localhost',
      mucService: 'conference.localhost',
      accounts: { prefix: 's1m', count: n, password: 'password', mode: 'open' },
      login: { ratePerSec: 1000, mechanism: 'PLAIN', maxInFlight: 200, timeoutSec: 60 },
      rooms: { count: n / 10, occupantsPerRoom: 10, namePrefix: 's1mr', joinPattern: 'ramp', joinRatePerSec: 1000, joinTimeoutSec: 120 },
      idleSec: 1,
    });
    const result = await loadgen.runScenario(scenario, {
      onPhase: async (phase) => {
        if (phase !== 'idle') return;
        await new Promise((r) => setTimeout(r, 1500));
        const early = { gw: procStatus(gw.pid).vmRssKiB, wk: procStatus(wk.pid).vmRssKiB };
        await new Promise((r) => setTimeout(r, Math.max(0, lateSec * 1000 - 1500)));
        after = {
          gateway: await measureNode(gw.pid, gwCdp, snapshots, early.gw),
          worker: await measureNode(wk.pid, wkCdp, snapshots, early.wk),
          redis: await measureRedis(redis, keyPrefix),
        };
      },
    });
    if (!after) throw new Error(`no idle phase: ${result.reasons.join('; ')}`);
    return {
      clients: n,
      joined: result.clients.joined,
      loginFailures: result.errors.failures,
      gateway: { before: before.gateway, after: after.gateway },
      worker: { before: before.worker, after: after.worker },
      redis: { before: before.redis, after: after.redis },
    };
  } finally {
    gwCdp.close();
    wkCdp.close();
    await gw.stop();
    await wk.stop();
    await redis.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// Report

const B = (bytes: number) => (bytes / 1024).toFixed(2);

function nodeRows(label: string, m: { before: NodeMem; after: NodeMem }, n: number): string[] {
  const d = (f: (x: NodeMem) => number) => (f(m.after) - f(m.before)) / n;
  const rows = [
    `| ${label} | VmRSS as found 1.5 s into the idle phase (no forced GC) | ${B(d((x) => x.vmRssNoGcKiB * 1024))} |`,
    `| ${label} | VmRSS as found ${lateSec} s into the idle phase (no forced GC) | ${B(d((x) => x.vmRssLateKiB * 1024))} |`,
    `| ${label} | VmRSS after a full GC | ${B(d((x) => x.vmRssKiB * 1024))} |`,
    `| ${label} | RssAnon | ${B(d((x) => x.rssAnonKiB * 1024))} |`,
    `| ${label} | V8 heap used (after GC) | ${B(d((x) => x.heapUsed))} |`,
    `| ${label} | V8 heap committed (heapTotal) | ${B(d((x) => x.heapTotal))} |`,
    `| ${label} | external (Buffers etc.) | ${B(d((x) => x.external))} |`,
    `| ${label} | RssAnon − heap committed − external (malloc: libuv, sockets, zlib, …) | ${B(d((x) => x.rssAnonKiB * 1024 - x.heapTotal - x.external))} |`,
  ];
  for (const space of Object.keys(m.after.spaces)) {
    const v = d((x) => x.spaces[space] ?? 0);
    if (Math.abs(v) >= 20) rows.push(`| ${label} | heap space ${space} | ${B(v)} |`);
  }
  return rows;
}

function kindRows(label: string, m: { before: NodeMem; after: NodeMem }, n: number, top = 30): string[] {
  if (!m.before.byKind || !m.after.byKind) return [];
  const diffs: Array<[string, number, number]> = [];
  for (const [k, a] of m.after.byKind) {
    const b = m.before.byKind.get(k) ?? { count: 0, size: 0 };
    diffs.push([k, (a.count - b.count) / n, (a.size - b.size) / n]);
  }
  diffs.sort((x, y) => y[2] - x[2]);
  const total = diffs.reduce((s, x) => s + x[2], 0);
  const rows = [`| ${label}: all heap objects | ${diffs.reduce((s, x) => s + x[1], 0).toFixed(1)} | ${total.toFixed(0)} |`];
  for (const [k, c, sz] of diffs.slice(0, top)) rows.push(`| ${k.replace(/\|/g, '\\|')} | ${c.toFixed(2)} | ${sz.toFixed(0)} |`);
  return rows;
}

function redisRows(m: { before: RedisMem; after: RedisMem }, n: number): string[] {
  const rows: string[] = [];
  const info = (k: string) => ((m.after.info[k] ?? 0) - (m.before.info[k] ?? 0)) / n;
  rows.push(`| redis | VmRSS | ${B(((m.after.vmRssKiB - m.before.vmRssKiB) * 1024) / n)} |`);
  rows.push(`| redis | used_memory | ${B(info('used_memory'))} |`);
  rows.push(`| redis | used_memory_dataset | ${B(info('used_memory_dataset'))} |`);
  rows.push(`| redis | used_memory_overhead (dict, key objects, clients) | ${B(info('used_memory_overhead'))} |`);
  rows.push(`| redis | allocator_frag_bytes + rss_overhead | ${B(info('allocator_frag_bytes') + info('rss_overhead_bytes'))} |`);
  const kinds: string[] = [];
  const list = [...m.after.kinds].map(([k, a]) => {
    const b = m.before.kinds.get(k) ?? { count: 0, bytes: 0 };
    return { k, type: a.type, encoding: a.encoding, count: a.count - b.count, perClient: (a.bytes - b.bytes) / n };
  });
  list.sort((x, y) => y.perClient - x.perClient);
  for (const e of list) if (e.count !== 0 || Math.abs(e.perClient) > 1) kinds.push(`| \`${e.k}\` | ${e.type} / ${e.encoding} | ${e.count} | ${e.perClient.toFixed(0)} |`);
  return [...rows, '', '| key kind | type / encoding | keys added | MEMORY USAGE bytes per client |', '|---|---|---|---|', ...kinds];
}

const results: RunResult[] = [];
for (const n of counts) {
  process.stderr.write(`session-memory: ${n} clients …\n`);
  results.push(await runOnce(n));
}

const lines: string[] = [];
for (const r of results) {
  const n = r.joined;
  const total =
    (r.gateway.after.vmRssKiB - r.gateway.before.vmRssKiB + r.worker.after.vmRssKiB - r.worker.before.vmRssKiB + r.redis.after.vmRssKiB - r.redis.before.vmRssKiB) * 1024;
  lines.push(`### ${r.clients} clients (${n} joined${Object.keys(r.loginFailures).length ? `; failures ${JSON.stringify(r.loginFailures)}` : ''})`, '');
  const noGc = (r.gateway.after.vmRssNoGcKiB - r.gateway.before.vmRssNoGcKiB + r.worker.after.vmRssNoGcKiB - r.worker.before.vmRssNoGcKiB + r.redis.after.vmRssKiB - r.redis.before.vmRssKiB) * 1024;
  const late = (r.gateway.after.vmRssLateKiB - r.gateway.before.vmRssLateKiB + r.worker.after.vmRssLateKiB - r.worker.before.vmRssLateKiB + r.redis.after.vmRssKiB - r.redis.before.vmRssKiB) * 1024;
  lines.push(
    `Σ VmRSS (gateway + room worker + redis), after − before, per joined client: **${B(noGc / n)} KiB** as found 1.5 s into the idle phase (bench:compare's method, no forced GC), ` +
      `**${B(late / n)} KiB** as found ${lateSec} s into it, **${B(total / n)} KiB** after a full GC of both node processes`,
    '',
  );
  lines.push('| process | item | KiB per client |', '|---|---|---|');
  lines.push(...nodeRows('gateway', r.gateway, n), ...nodeRows('room worker', r.worker, n), ...redisRows(r.redis, n));
  const gk = kindRows('gateway', r.gateway, n);
  if (gk.length) lines.push('', '| gateway heap objects by kind (snapshot diff) | count per client | bytes per client |', '|---|---|---|', ...gk);
  const wk = kindRows('room worker', r.worker, n, 20);
  if (wk.length) lines.push('', '| room worker heap objects by kind (snapshot diff) | count per client | bytes per client |', '|---|---|---|', ...wk);
  lines.push('');
}
process.stdout.write(`${lines.join('\n')}\n`);
if (values.out) {
  const plain = JSON.stringify(results, (_k, v) => (v instanceof Map ? Object.fromEntries([...v].filter(([, e]) => (e as { count: number }).count > 0)) : v), 1);
  writeFileSync(values.out, plain);
}
process.exit(0);
