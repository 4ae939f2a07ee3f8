// XEP-0313 archives at 1,000,000 messages (issue #13 item 2): Redis memory per archived
// message and query latency, through the gateway's and the room worker's own code.
//
// A private redis-server (no persistence, no maxmemory); one account's archive filled with N
// one-to-one chat messages through MamStore.append (the gateway's append script
// lua/mam-append-2.lua: stream entry + id index, trimming), each message built as the router
// stores it (serialised <message> with the account's XEP-0359 stanza-id, a UUID archive id),
// 254 bytes serialised. Ten contacts take turns (10 % each) and one more, rare contact gets
// one message in 1,000 (0.1 %).
// Memory: INFO memory used_memory before/after the fill, and MEMORY USAGE (SAMPLES 0: every
// node) of the stream and of the index hash.
// Queries: through the gateway's iq handler table (IqHandlers + AccountArchive.register, as
// gateway.ts wires them): the <query/> iq element is parsed (form, RSM), the page read,
// each result built and serialised into a local session sink, the <fin/> built; the time is
// from handing the query to the handler table to its answer (the results written to the
// sink). Each query kind is repeated R times (R/10 for the rare contact; after 5 warm-up
// runs), one query at a time; p50/p99/max in ms.
// Then one room archive (unless --no-room) with N groupchat messages from ten nicks, written
// as the room worker writes it: commits of the shard's commit script (shard-store.ts
// commitTurn, 1,000 archive entries per commit, under a lease set for the bench), entries
// shaped as the room core's ArchiveEntry; queried through parseArchiveQuery (the room core's
// parser), archive-store.ts readArchivePage and the room core's archiveResults, serialised.
//
//   nice -n 10 node --conditions=parley-source --import tsx bench/mam-1m.ts [--messages 1000000] [--repeat 200] [--no-room] [--out bench/results/x.json]
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseJid } from '../packages/jid/src/index.js';
import { keySpace } from '../packages/bus/src/index.js';
import { NS, parseOwnElement, serialize } from '../packages/xml/src/index.js';
import { startRedis } from '../packages/testkit/src/index.js';
import { defineScripts } from '../services/gateway/src/routing/scripts.js';
import { MamStore, withStanzaId } from '../packages/accounts/src/index.js';
import { AccountArchive } from '../services/gateway/src/mam/mam.js';
import { MAM_NS } from '../services/gateway/src/mam/account-archive.js';
import { IqHandlers, type IqContext } from '../services/gateway/src/server/iq-handlers.js';
import { LocalSessions, type LocalSession } from '../services/gateway/src/routing/local-sessions.js';
import { archiveResults, parseArchiveQuery, type ArchiveEntry, type ArchiveQuery } from '../packages/muc/src/index.js';
import { defineScripts as defineRoomScripts } from '../services/room-worker/src/redis-scripts.js';
import { commitTurn } from '../services/room-worker/src/shard/shard-store.js';
import { readArchivePage } from '../services/room-worker/src/shard/archive-store.js';
import type { TurnResult } from '../services/room-worker/src/shard/shard-actor.js';

const { values } = parseArgs({ options: { messages: { type: 'string', default: '1000000' }, repeat: { type: 'string', default: '200' }, out: { type: 'string' }, batch: { type: 'string', default: '2000' }, 'no-room': { type: 'boolean', default: false } } });
const N = Number(values.messages);
const R = Number(values.repeat);
const BATCH = Number(values.batch);
const OWNER = 'archivist@localhost';
const CONTACTS = Array.from({ length: 10 }, (_, i) => `contact${i}@localhost`);
const RARE = 'rare@localhost';
const REQUESTER = `${OWNER}/bench`;

const redisServer = await startRedis();
const redis = defineScripts(redisServer.client());
const keys = keySpace('bench-mam:');
const store = new MamStore(redis, keys, { maxEntries: N + 1000, maxAgeMs: 0 });

const used = async () => Number(/used_memory:(\d+)/.exec(await redis.info('memory'))![1]);
const memUsage = async (key: string) => Number(await redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0'));

// --- fill -------------------------------------------------------------------------------
const before = await used();
const t0 = Date.now();
const ids: string[] = [];
const times: number[] = [];
let sample = '';
for (let k = 0; k < N; k += BATCH) {
  const batch: Promise<number | undefined>[] = [];
  for (let i = k; i < Math.min(N, k + BATCH); i++) {
    const other = i % 1000 === 999 ? RARE : CONTACTS[i % CONTACTS.length]!;
    const incoming = i % 2 === 0;
    const from = incoming ? `${other}/phone` : `${OWNER}/laptop`;
    const to = incoming ? `${OWNER}/laptop` : other;
    const msg = parseOwnElement(
      `<message xmlns='jabber:client' type='chat' id='m${i}' from='${from}' to='${to}'><body>message number ${i}: the quick brown fox jumps over the lazy dog</body><active xmlns='http://jabber.org/protocol/chatstates'/></message>`,
      NS.CLIENT,
    );
    const id = randomUUID();
    const xml = serialize(withStanzaId(msg, OWNER));
    if (i === 0) sample = xml;
    ids.push(id);
    batch.push(store.append(OWNER, id, incoming ? `${other}/phone` : other, xml));
  }
  const stored = await Promise.all(batch);
  for (const at of stored) {
    if (at === undefined) throw new Error('an append was refused');
    times.push(at);
  }
  if ((k / BATCH) % 50 === 0) process.stderr.write(`\rfilled ${k + batch.length} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}
const fillMs = Date.now() - t0;
process.stderr.write(`\rfilled ${N} in ${(fillMs / 1000).toFixed(1)} s\n`);
const after = await used();
const streamBytes = await memUsage(keys.mamArchive(OWNER));
const indexBytes = await memUsage(keys.mamArchiveIndex(OWNER));
const length = await redis.xlen(keys.mamArchive(OWNER));
if (length !== N) throw new Error(`archive holds ${length}, expected ${N}`);

// --- queries through the handler table ----------------------------------------------------
const local = new LocalSessions();
let sunkBytes = 0;
let sunkMessages = 0;
const sink: LocalSession = {
  sessionId: 'bench',
  rooms: new Set(),
  deliver(stanza: Parameters<LocalSession['deliver']>[0]) {
    sunkBytes += serialize(stanza).length;
    sunkMessages++;
  },
  deliverShared() {},
  kick() {},
} as unknown as LocalSession; // the three members the archive's query path uses
// The query path logs only on failures; they go to stderr here.
const log = { warn: (o: unknown, m: string) => console.error(m, o), error: (o: unknown, m: string) => console.error(m, o), info() {}, debug() {} } as unknown as ConstructorParameters<typeof AccountArchive>[0]['log'];
local.set(REQUESTER, sink);
const iq = new IqHandlers();
new AccountArchive({ store, local, hosts: ['localhost'], maxQueryResults: 50, log, now: () => Date.now() }).register(iq);

const iso = (ms: number) => new Date(ms).toISOString();
type El = ReturnType<typeof parseOwnElement>;
const escapeXml = (v: string) => v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/'/g, '&apos;');
/** The `<query/>` a client sends (XEP-0313 §4: form fields, RSM `max` 50 and `before`/`after`), parsed as the gateway parses stanzas. */
function queryEl(fields: Record<string, string>, rsm: string): El {
  const field = (k: string, v: string) => `<field var='${escapeXml(k)}'><value>${escapeXml(v)}</value></field>`;
  const form = `<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>${MAM_NS}</value></field>${Object.entries(fields).map(([k, v]) => field(k, v)).join('')}</x>`;
  const page = rsm === 'last' ? '<before/>' : rsm.startsWith('after:') ? `<after>${escapeXml(rsm.slice(6))}</after>` : '';
  const iqXml = `<iq xmlns='jabber:client' type='set' id='b'><query xmlns='${MAM_NS}' queryid='q'>${form}<set xmlns='http://jabber.org/protocol/rsm'><max>50</max>${page}</set></query></iq>`;
  return parseOwnElement(iqXml, NS.CLIENT).getChild('query', MAM_NS)!;
}
const ctx: IqContext = { target: 'account', domain: 'localhost', node: undefined, mucDomain: 'conference.localhost', from: parseJid(REQUESTER), to: parseJid(OWNER), self: true, iq: parseOwnElement(`<iq xmlns='jabber:client' type='set' id='b'/>`, NS.CLIENT) };

const mid = Math.floor(N / 2);
const midAt = times[mid]!;
const kinds: Array<{ name: string; q: () => El; expect: number; repeat?: number }> = [
  { name: 'first page (no RSM)', q: () => queryEl({}, ''), expect: 50 },
  { name: 'last page (RSM <before/>)', q: () => queryEl({}, 'last'), expect: 50 },
  { name: 'middle page (RSM <after/> id)', q: () => queryEl({}, `after:${ids[mid]}`), expect: 50 },
  { name: 'middle page (after-id field)', q: () => queryEl({ 'after-id': ids[mid]! }, ''), expect: 50 },
  { name: 'with a contact of 10 %', q: () => queryEl({ with: CONTACTS[3]! }, ''), expect: 50 },
  { name: 'with a contact of 10 %, last page', q: () => queryEl({ with: CONTACTS[3]! }, 'last'), expect: 50 },
  { name: 'with a contact of 0.1 % (scan bound)', q: () => queryEl({ with: RARE }, ''), expect: -1, repeat: Math.max(10, Math.ceil(R / 10)) },
  { name: 'start/end: 1 s in the middle', q: () => queryEl({ start: iso(midAt), end: iso(midAt + 1000) }, ''), expect: 50 },
];
const results: Array<{ query: string; repeat: number; results: number; p50Ms: number; p99Ms: number; maxMs: number; meanMs: number }> = [];
for (const kind of kinds) {
  const samples: number[] = [];
  let got = 0;
  for (let r = 0; r < (kind.repeat ?? R) + 5; r++) {
    const q = kind.q();
    sunkMessages = 0;
    const s = process.hrtime.bigint();
    const answer = await iq.answer('set', q, ctx);
    const us = Number(process.hrtime.bigint() - s) / 1000;
    if ('error' in answer) throw new Error(`${kind.name}: ${answer.error}`);
    if (!answer.payload?.is('fin')) throw new Error(`${kind.name}: no fin`);
    got = sunkMessages;
    if (r >= 5) samples.push(us);
  }
  samples.sort((a, b) => a - b);
  const pct = (p: number) => samples[Math.min(samples.length - 1, Math.ceil((p / 100) * samples.length) - 1)]!;
  if (kind.expect >= 0 && got !== kind.expect) throw new Error(`${kind.name}: ${got} results, expected ${kind.expect}`);
  const ms = (v: number) => Math.round(v) / 1000;
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
  results.push({ query: kind.name, repeat: samples.length, results: got, p50Ms: ms(pct(50)), p99Ms: ms(pct(99)), maxMs: ms(samples[samples.length - 1]!), meanMs: ms(mean) });
  console.log(`${kind.name.padEnd(40)} results ${String(got).padStart(3)}  p50 ${ms(pct(50))} ms  p99 ${ms(pct(99))} ms  max ${ms(samples[samples.length - 1]!)} ms`);
}

// --- the room archive ----------------------------------------------------------------------
type RoomFigures = { messages: number; sampleEntryBytes: number; fillSec: number; usedMemoryPerMessage: number; streamBytesPerMessage: number; indexBytesPerMessage: number; queries: typeof results };
let room: RoomFigures | undefined;
if (!values['no-room']) {
  const roomRedis = defineRoomScripts(redisServer.client());
  const SHARD = 7;
  const ROOM = 'bench-room@conference.localhost';
  const lease = 'bench-worker 1';
  await roomRedis.set(keys.shardLease(SHARD), lease);
  const nicks = Array.from({ length: 10 }, (_, i) => `nick${i}`);
  const rBefore = await used();
  const r0 = Date.now();
  const base = Date.now() - N * 10;
  const roomIds: string[] = [];
  let sampleEntry = '';
  const PER_COMMIT = 1000;
  for (let k = 0, turn = 1; k < N; k += PER_COMMIT, turn++) {
    const append: ArchiveEntry[] = [];
    for (let i = k; i < Math.min(N, k + PER_COMMIT); i++) {
      const nick = nicks[i % nicks.length]!;
      const id = randomUUID();
      roomIds.push(id);
      const xml = serialize(parseOwnElement(`<message xmlns='jabber:client' type='groupchat' id='g${i}' from='${ROOM}/${nick}'><body>message number ${i}: the quick brown fox jumps over the lazy dog</body></message>`, NS.CLIENT));
      append.push({ id, at: base + i * 10, xml, nick, jid: `${nick}@localhost`, occupantId: `occ-${nick}` });
    }
    if (k === 0) sampleEntry = JSON.stringify(append[0]);
    const result: TurnResult = { cursor: `${turn}-0`, applied: 0, outputs: [], roomWrites: new Map(), history: new Map(), replies: [], archive: new Map([[ROOM, { reset: false, append, retract: [], maxEntries: 0, minAt: 0 }]]) };
    const answer = await commitTurn(roomRedis, keys, SHARD, lease, result);
    if (answer !== 'ok') throw new Error(`room commit ${turn}: ${answer}`);
    if (turn % 100 === 0) process.stderr.write(`\rroom: filled ${k + append.length} in ${((Date.now() - r0) / 1000).toFixed(1)} s`);
  }
  const roomFillMs = Date.now() - r0;
  process.stderr.write(`\rroom: filled ${N} in ${(roomFillMs / 1000).toFixed(1)} s\n`);
  const rAfter = await used();
  const rStream = await memUsage(keys.roomArchive(SHARD, ROOM));
  const rIndex = await memUsage(keys.roomArchiveIndex(SHARD, ROOM));
  if ((await roomRedis.xlen(keys.roomArchive(SHARD, ROOM))) !== N) throw new Error('room archive length');
  const roomQuery = (fields: Record<string, string>, rsm: string): ArchiveQuery => {
    const parsed = parseArchiveQuery(queryEl(fields, rsm), { maxResults: 50 });
    if ('refusal' in parsed) throw new Error(`room query refused: ${parsed.refusal.condition}`);
    const q: ArchiveQuery = { room: ROOM, to: REQUESTER, route: { gatewayId: 'gw', sessionId: 's' }, iqId: 'b', max: parsed.max, realJids: false, enabled: true };
    if (parsed.queryId !== undefined) q.queryId = parsed.queryId;
    if (parsed.start !== undefined) q.start = parsed.start;
    if (parsed.end !== undefined) q.end = parsed.end;
    if (parsed.after !== undefined) q.after = parsed.after;
    if (parsed.before !== undefined) q.before = parsed.before;
    // `with` an occupant JID of the room matches that nick (as the room core turns it).
    if (parsed.withJid !== undefined) q.withNick = parsed.withJid.slice(parsed.withJid.indexOf('/') + 1);
    return q;
  };
  const rMid = Math.floor(N / 2);
  const roomKinds: Array<{ name: string; q: () => ArchiveQuery; expect: number }> = [
    { name: 'room: first page', q: () => roomQuery({}, ''), expect: 50 },
    { name: 'room: last page (RSM <before/>)', q: () => roomQuery({}, 'last'), expect: 50 },
    { name: 'room: middle page (RSM <after/> id)', q: () => roomQuery({}, `after:${roomIds[rMid]}`), expect: 50 },
    { name: 'room: with a nick of 10 %', q: () => roomQuery({ with: `${ROOM}/nick3` }, ''), expect: 50 },
    { name: 'room: start/end 1 s in the middle', q: () => roomQuery({ start: iso(base + rMid * 10), end: iso(base + rMid * 10 + 1000) }, ''), expect: 50 },
  ];
  const roomResults: typeof results = [];
  for (const kind of roomKinds) {
    const samples: number[] = [];
    let got = 0;
    for (let r = 0; r < R + 5; r++) {
      const s = process.hrtime.bigint();
      const q = kind.q();
      const page = await readArchivePage(roomRedis, keys, SHARD, q, { now: Date.now(), maxAgeMs: 0 });
      if (page === 'item-not-found') throw new Error(`${kind.name}: item-not-found`);
      const messages = archiveResults(q, page, undefined);
      for (const m of messages) sunkBytes += serialize(m).length;
      const us = Number(process.hrtime.bigint() - s) / 1000;
      got = messages.length - 1; // the last one is the iq result with <fin/>
      if (r >= 5) samples.push(us);
    }
    if (got !== kind.expect) throw new Error(`${kind.name}: ${got} results, expected ${kind.expect}`);
    samples.sort((a, b) => a - b);
    const pct = (p: number) => samples[Math.min(samples.length - 1, Math.ceil((p / 100) * samples.length) - 1)]!;
    const ms = (v: number) => Math.round(v) / 1000;
    const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
    roomResults.push({ query: kind.name, repeat: samples.length, results: got, p50Ms: ms(pct(50)), p99Ms: ms(pct(99)), maxMs: ms(samples[samples.length - 1]!), meanMs: ms(mean) });
    console.log(`${kind.name.padEnd(40)} results ${String(got).padStart(3)}  p50 ${ms(pct(50))} ms  p99 ${ms(pct(99))} ms  max ${ms(samples[samples.length - 1]!)} ms`);
  }
  room = { messages: N, sampleEntryBytes: Buffer.byteLength(sampleEntry), fillSec: roomFillMs / 1000, usedMemoryPerMessage: Math.round((rAfter - rBefore) / N), streamBytesPerMessage: Math.round(rStream / N), indexBytesPerMessage: Math.round(rIndex / N), queries: roomResults };
}

const out = {
  date: new Date().toISOString(),
  messages: N,
  sampleMessageBytes: Buffer.byteLength(sample),
  fillSec: fillMs / 1000,
  appendsPerSec: Math.round(N / (fillMs / 1000)),
  usedMemoryBefore: before,
  usedMemoryAfter: after,
  usedMemoryPerMessage: Math.round((after - before) / N),
  streamBytes,
  streamBytesPerMessage: Math.round(streamBytes / N),
  indexBytes,
  indexBytesPerMessage: Math.round(indexBytes / N),
  repeat: R,
  queries: results,
  room,
  sunkBytes,
};
console.log(JSON.stringify({ ...out, queries: undefined, room: room && { ...room, queries: undefined } }, null, 1));
if (values.out) writeFileSync(values.out, JSON.stringify(out, null, 1) + '\n');
await redisServer.stop();
process.exit(0);
