// What one room turn costs to commit (issue #15 item 2): the real turn pipeline of the room
// worker (ShardActor.apply, then commitArgs and commit-shard-n.lua, as the turn loop (shard/turn-loop.ts) runs
// them) against a real redis-server started for the run (testkit startRedis).
//
//   node --conditions=parley-source --import tsx bench/room-commit-cost.ts [--sizes 10,100,1000] [--samples 50]
//
// For rooms of each size it builds the room (the owner creates and configures it, then the
// others join, committed in batches), then measures, one entry per turn, each turn committed
// before the next:
//   join      a new occupant joins (the room grows by `samples` occupants during the samples)
//   message   an occupant sends a groupchat message
//   presence  an occupant changes its presence (a new <status/>)
// (each joined occupant leaves again in a turn of its own, measured as `leave`, so the room
// keeps its size) and prints per kind: the bytes of the commit's keys and arguments (what the worker sends
// to Redis), the growth of Redis `total_net_input_bytes` per commit (the whole command as
// received), the worker's CPU per turn (process.cpuUsage around apply + commitArgs, µs), and
// Redis's time in the commit script (INFO commandstats `evalsha`/`eval`, µs per call).
// Two more columns time the commit preparation alone, after each turn, on the room as the
// turn left it: `wholeRoomJsonUs`, serialising the whole room (what every commit that
// persisted the room did before), and `occupantCompareUs`, comparing every occupant with
// its stored copy (`diffRoom` finding nothing to write: the O(occupants) part of a commit
// now; 0 when run on code without it). Worker CPU is mostly the room step itself (a join
// to N occupants makes 2N stanzas), which this change does not touch.
import { parseArgs } from 'node:util';
import { encodeRoomInput, keySpace } from '../packages/bus/src/index.js';
import type { RoomContext } from '../packages/muc/src/index.js';
import { startRedis } from '../packages/testkit/src/index.js';
import { memoryLogger } from '../services/room-worker/test/support/harness.js';
import { defineScripts, type ScriptedRedis } from '../services/room-worker/src/redis-scripts.js';
import { ShardActor, type StreamEntry, type TurnResult } from '../services/room-worker/src/shard/shard-actor.js';
import * as store from '../services/room-worker/src/shard/shard-store.js';
import { roomToJson } from '../packages/muc/src/index.js';

const { commitArgs, loadShard } = store;

const { values } = parseArgs({ options: { sizes: { type: 'string', default: '10,100,1000' }, samples: { type: 'string', default: '50' } } });
const sizes = values.sizes!.split(',').map(Number);
const samples = Number(values.samples);

const SHARD = 0;
const keys = keySpace('bench:');
const { log } = memoryLogger();
const ctx: RoomContext = { now: Date.UTC(2026, 11, 7), serviceJid: 'conference.localhost', serviceAdmins: [] };
// A realistic client presence: XEP-0115 caps and a XEP-0153 vCard hash, as clients send them.
const presence = (room: string, nick: string, from: string, status?: string) =>
  `<presence xmlns='jabber:client' from='${from}' to='${room}/${nick}'><x xmlns='http://jabber.org/protocol/muc'/>` +
  `<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='https://conversations.im' ver='ZqZ4HO8J0YWlcBr8x3xeJSzwLLY='/>` +
  `<x xmlns='vcard-temp:x:update'><photo>01b87fcd030b72895ff8e88db57ec525450f000d</photo></x>` +
  (status === undefined ? '' : `<status>${status}</status>`) +
  `</presence>`;

const server = await startRedis();
const redis: ScriptedRedis = defineScripts(server.client());
let seq = 0;
const nextId = () => `${1_800_000_000_000 + ++seq}-0`;

async function stats(): Promise<{ netIn: number; scriptUsec: number; scriptCalls: number }> {
  const info = await redis.info('all');
  const num = (re: RegExp) => Number(re.exec(info)?.[1] ?? 0);
  return {
    netIn: num(/total_net_input_bytes:(\d+)/),
    scriptUsec: num(/cmdstat_evalsha:calls=\d+,usec=(\d+)/) + num(/cmdstat_eval:calls=\d+,usec=(\d+)/),
    scriptCalls: num(/cmdstat_evalsha:calls=(\d+)/) + num(/cmdstat_eval:calls=(\d+)/),
  };
}

interface Sample {
  /** CPU of serialising the whole room as the commit did before issue #15 item 2 (µs). */
  wholeRoomUs: number;
  /** CPU of comparing every occupant with its stored copy (`diffRoom` when nothing changed, µs), if the store has it. */
  compareUs: number;
  argBytes: number;
  netIn: number;
  cpuUs: number;
  scriptUs: number;
}

let actor: ShardActor;
let lease = '';

/** One turn of `inputs` (encoded envelopes), committed; what it cost. */
async function turn(inputs: string[][]): Promise<Sample> {
  const entries: StreamEntry[] = inputs.map((fields) => [nextId(), fields]);
  const before = await stats();
  const cpu = process.cpuUsage();
  actor.enqueue(entries);
  const result: TurnResult = actor.apply(actor.next(entries.length), { ctx, publicRooms: [], log });
  const args = commitArgs(keys, SHARD, lease, result);
  const cpuUs = ((u) => u.user + u.system)(process.cpuUsage(cpu));
  const [numKeys, ...rest] = args;
  const reply = await redis.commitShard(numKeys as number, ...rest);
  if (reply !== 'ok') throw new Error(`commit: ${reply}`);
  actor.cursor = result.cursor;
  const after = await stats();
  // The commit preparation alone, on the room as the turn left it: the whole room's JSON
  // (what the commit wrote before) against the occupant comparison (what it does now).
  const room = [...result.roomWrites.values()].find((r) => r !== undefined) ?? [...actor.rooms.values()][0]!;
  let t = process.hrtime.bigint();
  JSON.stringify({ ...roomToJson(room), history: [] });
  const wholeRoomUs = Number(process.hrtime.bigint() - t) / 1000;
  let compareUs = 0;
  const committed = (actor as unknown as { committed?: Map<string, unknown> }).committed?.get(room.jid);
  if ('diffRoom' in store && committed) {
    t = process.hrtime.bigint();
    (store as unknown as { diffRoom: (r: unknown, c: unknown) => unknown }).diffRoom(room, committed);
    compareUs = Number(process.hrtime.bigint() - t) / 1000;
  }
  const argBytes = rest.reduce<number>((n, a) => n + Buffer.byteLength(String(a)), 0);
  return { wholeRoomUs, compareUs, argBytes, netIn: after.netIn - before.netIn, cpuUs, scriptUs: (after.scriptUsec - before.scriptUsec) / Math.max(1, after.scriptCalls - before.scriptCalls) };
}

const stanza = (room: string, user: string, xml: string) => encodeRoomInput({ kind: 'stanza', room, gateway: 'gw1', sessionId: `s-${user}`, xml });

function summary(kind: string, size: number, list: Sample[]) {
  const avg = (f: (s: Sample) => number) => list.reduce((n, s) => n + f(s), 0) / list.length;
  const median = (f: (s: Sample) => number) => list.map(f).sort((a, b) => a - b)[Math.floor(list.length / 2)]!;
  return {
    kind,
    occupants: size,
    turns: list.length,
    commitBytes: Math.round(avg((s) => s.argBytes)),
    redisNetInBytes: Math.round(avg((s) => s.netIn)),
    workerCpuUsMedian: Math.round(median((s) => s.cpuUs)),
    workerCpuUsAvg: Math.round(avg((s) => s.cpuUs)),
    redisScriptUsAvg: Math.round(avg((s) => s.scriptUs)),
    wholeRoomJsonUsMedian: Math.round(median((s) => s.wholeRoomUs)),
    occupantCompareUsMedian: Math.round(median((s) => s.compareUs)),
  };
}

const rows: ReturnType<typeof summary>[] = [];
try {
  const token = await redis.acquireLease(keys.shardLease(SHARD), keys.shardFence(SHARD), 'bench', 600_000);
  lease = `bench ${token}`;
  // Round 0 is a warm-up (JIT) of the smallest size, not reported.
  for (const [round, size] of [sizes[0]!, ...sizes].entries()) {
    await redis.del(keys.shardRooms(SHARD));
    const loaded = await loadShard(redis, keys, SHARD, log);
    actor = new ShardActor(SHARD, loaded.rooms, loaded.cursor, { commits: loaded.commits, laneMarks: loaded.laneMarks });
    const room = `bench-${round}-${size}@conference.localhost`;
    const jid = (i: number) => `user${i}@localhost/phone`;
    // The owner creates the room and makes it an instant room (XEP-0045 §10.1.2).
    await turn([stanza(room, 'user0', presence(room, 'nick0', jid(0)))]);
    await turn([
      stanza(room, 'user0', `<iq xmlns='jabber:client' from='${jid(0)}' type='set' id='c' to='${room}'><query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='submit'/></query></iq>`),
    ]);
    for (let i = 1; i < size; i += 100) {
      const batch: string[][] = [];
      for (let j = i; j < Math.min(size, i + 100); j++) batch.push(stanza(room, `user${j}`, presence(room, `nick${j}`, jid(j))));
      await turn(batch);
    }
    if (actor.rooms.get(room)?.occupants.size !== size) throw new Error(`room of ${actor.rooms.get(room)?.occupants.size} occupants, not ${size}`);
    const joins: Sample[] = [];
    const leaves: Sample[] = [];
    for (let k = 0; k < samples; k++) {
      joins.push(await turn([stanza(room, `new${k}`, presence(room, `new${k}`, `new${k}@localhost/phone`))]));
      leaves.push(await turn([stanza(room, `new${k}`, `<presence xmlns='jabber:client' from='new${k}@localhost/phone' to='${room}/new${k}' type='unavailable'/>`)]));
    }
    const messages: Sample[] = [];
    for (let k = 0; k < samples; k++) {
      messages.push(await turn([stanza(room, 'user1', `<message xmlns='jabber:client' from='${jid(1)}' to='${room}' type='groupchat' id='m${k}'><body>Message number ${k} to the room, about sixty bytes long.</body></message>`)]));
    }
    const presences: Sample[] = [];
    for (let k = 0; k < samples; k++) presences.push(await turn([stanza(room, 'user1', presence(room, 'nick1', jid(1), `away ${k}`))]));
    if (round > 0) rows.push(summary('join', size, joins), summary('leave', size, leaves), summary('message', size, messages), summary('presence', size, presences));
  }
  console.log(`# room-commit-cost ${new Date().toISOString()} node ${process.version} redis ${(/redis_version:(\S+)/.exec(await redis.info('server')) ?? [])[1]}`);
  console.table(rows);
  console.log(JSON.stringify(rows));
} finally {
  await server.stop();
}
