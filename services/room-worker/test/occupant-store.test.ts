// Incremental room commits (issue #15 item 2): a room's occupants live in a hash of their
// own (`KeySpace.roomOccupants`), and a turn writes only the occupants it changed. Drives
// the real turn pipeline (ShardActor.apply, commitTurn with commit-shard-n.lua, loadShard)
// against a real redis-server: what a join, a leave, a nick change and a presence change
// write; join order across reloads; `__proto__` as a nick; the migration of rooms stored
// with their occupants inline; a destroyed room's keys removed.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { encodeRoomInput, keySpace, OCCUPANTS_IN_HASH } from '@parley/bus';
import { roomToJson, type RoomContext, type RoomState } from '@parley/muc';
import { startRedis, type RedisServer } from '@parley/testkit';
import { NS } from '@parley/xml';
import { defineScripts, type ScriptedRedis } from '../src/redis-scripts.js';
import { ShardActor, MIGRATIONS_PER_TURN, type TurnResult } from '../src/shard/shard-actor.js';
import { commitTurn, copyPlain, loadShard, readStoredRoom, samePlain } from '../src/shard/shard-store.js';
import { memoryLogger, testPrefix } from './support/harness.js';

const ctx: RoomContext = { now: Date.UTC(2026, 11, 7), serviceJid: 'conference.localhost', serviceAdmins: [] };
const keys = keySpace(testPrefix('occupant-store'));
const { log } = memoryLogger();
let server: RedisServer;
let redis: ScriptedRedis;
let seq = 0;

before(async () => {
  server = await startRedis();
  redis = defineScripts(server.client());
});
after(async () => {
  await server.stop();
});

const presence = (room: string, nick: string, from: string, extra = '') => `<presence xmlns='jabber:client' from='${from}' to='${room}/${nick}'><x xmlns='${NS.MUC}'/>${extra}</presence>`;
const unavailable = (room: string, nick: string, from: string) => `<presence xmlns='jabber:client' from='${from}' to='${room}/${nick}' type='unavailable'/>`;
const configure = (room: string, from: string) =>
  `<iq xmlns='jabber:client' from='${from}' type='set' id='c' to='${room}'><query xmlns='${NS.MUC_OWNER}'><x xmlns='jabber:x:data' type='submit'/></query></iq>`;
const entry = (room: string, xml: string): [string, string[]] => [`${1_800_000_000_000 + ++seq}-0`, encodeRoomInput({ kind: 'stanza', room, gateway: 'gw1', sessionId: 's1', xml })];

/** A shard with its lease held by this test. */
async function shard(n: number): Promise<{ lease: string; actor: () => Promise<ShardActor> }> {
  const token = await redis.acquireLease(keys.shardLease(n), keys.shardFence(n), 'w1', 60_000);
  return {
    lease: `w1 ${token}`,
    actor: async () => {
      const l = await loadShard(redis, keys, n, log);
      return new ShardActor(n, l.rooms, l.cursor, { commits: l.commits, laneMarks: l.laneMarks, committed: l.committed, legacy: l.legacy });
    },
  };
}

/** Applies `xmls` (stanzas to `room`) in one turn and commits it; the turn. */
async function turn(actor: ShardActor, lease: string, room: string, xmls: string[]): Promise<TurnResult> {
  const entries = xmls.map((x) => entry(room, x));
  actor.enqueue(entries);
  const result = actor.apply(actor.next(entries.length), { ctx, publicRooms: [], log });
  assert.equal(await commitTurn(redis, keys, actor.shard, lease, result), 'ok');
  actor.cursor = result.cursor;
  return result;
}

/** The room as loaded from Redis equals the actor's (occupant order included). */
async function assertStored(n: number, room: string, actor: ShardActor): Promise<void> {
  const loaded = await readStoredRoom(redis, keys, n, room);
  assert.ok(loaded);
  const mine = actor.rooms.get(room)!;
  assert.deepEqual(loaded, mine);
  assert.deepEqual([...loaded.occupants.keys()], [...mine.occupants.keys()], 'join order kept');
}

const jid = (i: number) => `user${i}@localhost/r`;

describe('occupant store', () => {
  it('compares occupants with their stored copies as JSON would, __proto__ keys included', () => {
    const live = JSON.parse('{"nick":"n","sessions":[{"presence":"<p/>","joined":1}],"__proto__":{"x":1}}') as Record<string, unknown>;
    const snap = copyPlain(live) as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(snap), Object.prototype, 'the copy keeps its prototype');
    assert.ok(Object.hasOwn(snap, '__proto__'), '__proto__ copied as an own key');
    assert.equal(JSON.stringify(snap), JSON.stringify(live));
    assert.equal(samePlain(live, snap), true);
    (live.sessions as { presence: string }[])[0]!.presence = '<p>away</p>';
    assert.equal(samePlain(live, snap), false, 'a change deep inside is seen');
    const other = copyPlain(live) as Record<string, unknown>;
    other.extra = undefined;
    assert.equal(samePlain(other, copyPlain(live)), false, 'a new key is a change');
    assert.equal(samePlain({ a: [1, 2] }, { a: [1, 2, 3] }), false);
    assert.equal(samePlain({ a: 1 }, { b: 1 }), false);
  });

  it('writes only the occupant that joined, left, changed presence or nick', async () => {
    const ROOM = 'inc@conference.localhost';
    const { lease, actor: load } = await shard(1);
    let actor = await load();
    await turn(actor, lease, ROOM, [presence(ROOM, 'nick0', jid(0)), configure(ROOM, jid(0))]);
    await turn(actor, lease, ROOM, [1, 2, 3, 4].map((i) => presence(ROOM, `nick${i}`, jid(i))));
    await assertStored(1, ROOM, actor);

    const join = (await turn(actor, lease, ROOM, [presence(ROOM, 'nick5', jid(5))])).roomDiffs!.get(ROOM)!;
    assert.deepEqual(join.set.map(([nick]) => nick), ['nick5'], 'a join writes the one occupant');
    assert.deepEqual(join.del, []);
    assert.equal(join.reset, false);
    assert.equal(join.base, undefined, 'the room JSON is not written again');

    const status = (await turn(actor, lease, ROOM, [presence(ROOM, 'nick2', jid(2), '<status>away</status>')])).roomDiffs!.get(ROOM)!;
    assert.deepEqual(status.set.map(([nick]) => nick), ['nick2'], 'a presence change writes the one occupant');
    assert.equal(status.base, undefined);

    const leave = (await turn(actor, lease, ROOM, [unavailable(ROOM, 'nick3', jid(3))])).roomDiffs!.get(ROOM)!;
    assert.deepEqual(leave.set, []);
    assert.deepEqual(leave.del, ['nick3'], 'a leave deletes the one occupant');
    assert.equal(leave.base, undefined);

    const rename = (await turn(actor, lease, ROOM, [presence(ROOM, 'renamed', jid(1))])).roomDiffs!.get(ROOM)!;
    assert.deepEqual(rename.set.map(([nick]) => nick), ['renamed']);
    assert.deepEqual(rename.del, ['nick1']);
    await assertStored(1, ROOM, actor);
    assert.deepEqual([...actor.rooms.get(ROOM)!.occupants.values()].map((o) => o.nick), ['nick0', 'nick2', 'nick4', 'nick5', 'renamed']);

    // A subject change is not about occupants: the room JSON alone is written.
    const subject = (await turn(actor, lease, ROOM, [`<message xmlns='jabber:client' from='${jid(0)}' to='${ROOM}' type='groupchat'><subject>s</subject></message>`])).roomDiffs!.get(ROOM)!;
    assert.ok(subject.base, 'the room JSON is written');
    assert.deepEqual(subject.set, []);

    // A failover: the next owner loads the same room and goes on diffing against it.
    actor = await load();
    await assertStored(1, ROOM, actor);
    const again = (await turn(actor, lease, ROOM, [presence(ROOM, 'nick6', jid(6))])).roomDiffs!.get(ROOM)!;
    assert.deepEqual(again.set.map(([nick]) => nick), ['nick6']);
    assert.equal(again.base, undefined, 'the loaded room JSON is the stored one');
    await assertStored(1, ROOM, actor);
  });

  it('stores __proto__ and other Object.prototype names as nicks, and loads them back', async () => {
    const ROOM = 'protos@conference.localhost';
    const { lease, actor: load } = await shard(2);
    const actor = await load();
    await turn(actor, lease, ROOM, [presence(ROOM, 'owner', jid(0)), configure(ROOM, jid(0))]);
    await turn(actor, lease, ROOM, ['__proto__', 'constructor', 'hasOwnProperty'].map((nick, i) => presence(ROOM, nick, jid(i + 1))));
    assert.deepEqual((await redis.hkeys(keys.roomOccupants(2, ROOM))).sort(), ['__proto__', 'constructor', 'hasOwnProperty', 'owner']);
    const reloaded = await load();
    assert.deepEqual([...reloaded.rooms.get(ROOM)!.occupants.values()].map((o) => o.nick), ['owner', '__proto__', 'constructor', 'hasOwnProperty']);
    const gone = (await turn(reloaded, lease, ROOM, [unavailable(ROOM, '__proto__', jid(1))])).roomDiffs!.get(ROOM)!;
    assert.deepEqual(gone.del, ['__proto__']);
    assert.deepEqual((await redis.hkeys(keys.roomOccupants(2, ROOM))).sort(), ['constructor', 'hasOwnProperty', 'owner']);
    assert.equal(({} as Record<string, unknown>).sessions, undefined, 'Object.prototype untouched');
  });

  it('loads rooms stored with their occupants inline and migrates them in the first commits', async () => {
    const n = 3;
    const { lease, actor: load } = await shard(n);
    // Rooms in the old layout: built here, stored as the worker wrote them before.
    const build = await load();
    const rooms: string[] = [];
    for (let r = 0; r < MIGRATIONS_PER_TURN + 3; r++) {
      const ROOM = `old${r}@conference.localhost`;
      rooms.push(ROOM);
      build.enqueue([entry(ROOM, presence(ROOM, 'owner', jid(0))), entry(ROOM, configure(ROOM, jid(0))), entry(ROOM, presence(ROOM, '__proto__', jid(1)))]);
      build.apply(build.next(3), { ctx, publicRooms: [], log });
    }
    const legacyJson = (room: RoomState) => JSON.stringify({ ...roomToJson(room), history: [] });
    for (const ROOM of rooms) await redis.hset(keys.shardRooms(n), ROOM, legacyJson(build.rooms.get(ROOM)!));

    const actor = await load();
    assert.equal(actor.legacy.size, rooms.length, 'every room is of the old layout');
    for (const ROOM of rooms) assert.deepEqual(actor.rooms.get(ROOM), build.rooms.get(ROOM), `${ROOM} loads as it was`);

    // A turn about another room migrates MIGRATIONS_PER_TURN of them; the next, the rest.
    const OTHER = 'other@conference.localhost';
    const first = await turn(actor, lease, OTHER, [presence(OTHER, 'x', jid(9))]);
    assert.equal(first.roomWrites.size, MIGRATIONS_PER_TURN + 1);
    assert.equal(actor.legacy.size, 3);
    await turn(actor, lease, OTHER, [presence(OTHER, 'x', jid(9), '<status>2</status>')]);
    assert.equal(actor.legacy.size, 0);
    for (const ROOM of rooms) {
      const json = JSON.parse((await redis.hget(keys.shardRooms(n), ROOM))!) as Record<string, unknown>;
      assert.equal(json[OCCUPANTS_IN_HASH], true, `${ROOM} migrated`);
      assert.deepEqual(json.occupants, {});
      assert.deepEqual((await redis.hkeys(keys.roomOccupants(n, ROOM))).sort(), ['__proto__', 'owner']);
      await assertStored(n, ROOM, actor);
    }
    const reloaded = await load();
    assert.equal(reloaded.legacy.size, 0);
    for (const ROOM of rooms) assert.deepEqual(reloaded.rooms.get(ROOM), build.rooms.get(ROOM));
  });

  it('removes the occupants hash with the room', async () => {
    const ROOM = 'doomed@conference.localhost';
    const { lease, actor: load } = await shard(4);
    const actor = await load();
    await turn(actor, lease, ROOM, [presence(ROOM, 'owner', jid(0)), configure(ROOM, jid(0)), presence(ROOM, 'guest', jid(1))]);
    assert.equal(await redis.hlen(keys.roomOccupants(4, ROOM)), 2);
    await turn(actor, lease, ROOM, [`<iq xmlns='jabber:client' from='${jid(0)}' type='set' id='d' to='${ROOM}'><query xmlns='${NS.MUC_OWNER}'><destroy/></query></iq>`]);
    assert.equal(actor.rooms.has(ROOM), false);
    assert.equal(await redis.hexists(keys.shardRooms(4), ROOM), 0);
    assert.equal(await redis.exists(keys.roomOccupants(4, ROOM)), 0, 'the occupants hash is gone');
  });
});
