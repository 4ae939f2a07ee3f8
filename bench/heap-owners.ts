// Heap by owner, from a V8 heap snapshot (issue #15, item 3): every object's self size is
// counted once, for the nearest object of one of the given classes on its shortest retaining
// path from the GC roots (breadth-first over strong edges). Prints bytes per owner class and
// the largest (owner, edge path) groups. Used on the gateway snapshots that
// `bench/session-memory.ts --dump-dir D` keeps; divide by the number of sessions.
//
//   node --max-old-space-size=4000 --import tsx bench/heap-owners.ts <file.heapsnapshot> [Class,Class,...] [rows]
import { readFileSync } from 'node:fs';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]]; edge_fields: string[]; edge_types: [string[]] } };
  nodes: number[];
  edges: number[];
  strings: string[];
}

const [file, classList, rowsArg] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: heap-owners.ts <file.heapsnapshot> [Class,Class,...] [rows]\n');
  process.exit(2);
}
const s = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
const m = s.snapshot.meta;
const nf = m.node_fields.length;
const ef = m.edge_fields.length;
const nodeTypes = m.node_types[0];
const edgeTypes = m.edge_types[0];
const count = s.nodes.length / nf;
const iT = m.node_fields.indexOf('type');
const iN = m.node_fields.indexOf('name');
const iS = m.node_fields.indexOf('self_size');
const iE = m.node_fields.indexOf('edge_count');
const eT = m.edge_fields.indexOf('type');
const eN = m.edge_fields.indexOf('name_or_index');
const eTo = m.edge_fields.indexOf('to_node');

const cls = (n: number): string => {
  const t = nodeTypes[s.nodes[n * nf + iT]!]!;
  const name = s.strings[s.nodes[n * nf + iN]!]!;
  return t === 'object' ? name : t === 'closure' ? `closure ${name}` : `(${t}) ${name.slice(0, 30)}`;
};

const firstEdge = new Int32Array(count);
for (let n = 0, e = 0; n < count; n++) {
  firstEdge[n] = e;
  e += s.nodes[n * nf + iE]! * ef;
}
const parent = new Int32Array(count).fill(-1);
const viaEdge: string[] = new Array<string>(count);
const queue = new Int32Array(count);
let head = 0;
let tail = 0;
queue[tail++] = 0;
parent[0] = 0;
while (head < tail) {
  const n = queue[head++]!;
  const edges = s.nodes[n * nf + iE]!;
  for (let k = 0, e = firstEdge[n]!; k < edges; k++, e += ef) {
    const type = edgeTypes[s.edges[e + eT]!]!;
    if (type === 'weak') continue;
    const to = s.edges[e + eTo]! / nf;
    if (parent[to] !== -1) continue;
    parent[to] = n;
    viaEdge[to] = type === 'element' || type === 'hidden' ? '#' : String(s.strings[s.edges[e + eN]!] ?? s.edges[e + eN]);
    queue[tail++] = to;
  }
}

const owners = new Set(
  (classList ?? 'ClientSession,TcpTransport,Socket,SaxesParser,StreamParser,InputFlow,TokenBucket,Jid,WatchedSet,Pino,Timeout,TCP,WritableState,ReadableState,LocalSessions').split(','),
);
const groups = new Map<string, { count: number; bytes: number }>();
for (let n = 0; n < count; n++) {
  const path: string[] = [];
  let a = n;
  let hit: string | undefined;
  for (let depth = 0; a > 0 && depth < 12; depth++) {
    const c = cls(a);
    if (owners.has(c)) {
      hit = path.length ? `${c} ${path.slice(-2).reverse().join('.')}` : c;
      break;
    }
    path.push(viaEdge[a]!);
    a = parent[a]!;
  }
  if (hit === undefined) continue;
  const g = groups.get(hit) ?? { count: 0, bytes: 0 };
  g.count++;
  g.bytes += s.nodes[n * nf + iS]!;
  groups.set(hit, g);
}
const byOwner = new Map<string, number>();
for (const [k, g] of groups) byOwner.set(k.split(' ')[0]!, (byOwner.get(k.split(' ')[0]!) ?? 0) + g.bytes);
console.log('owner\tbytes');
for (const [k, b] of [...byOwner].sort((x, y) => y[1] - x[1])) console.log(`${k}\t${b}`);
console.log('\nobjects\tbytes\towner and edge path');
for (const [k, g] of [...groups].sort((x, y) => y[1].bytes - x[1].bytes).slice(0, Number(rowsArg ?? 40))) console.log(`${g.count}\t${g.bytes}\t${k}`);
