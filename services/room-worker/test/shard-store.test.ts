// The shard store's JSON round trip (commit-shard-n, then loadShard) with nicks and JIDs that
// name Object.prototype members (issue #10): a room holding the occupant `__proto__` is
// stored, loaded, and keeps working, and no key reaches a prototype. Real redis-server.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { encodeRoomInput, keySpace } from '@parley/bus';
import { step, type RoomContext, type RoomInput, type RoomState } from '@parley/muc';
import { startRedis, type RedisServer } from '@parley/testkit';
import { NS, parseElement } from '@parley/xml';
import { defineScripts, type ScriptedRedis } from '../src/redis-scripts.js';
import { commitTurn, loadShard } from '../src/shard/shard-store.js';
import type { TurnResult } from '../src/shard/shard-actor.js';
import { memoryLogger, testPrefix } from './support/harness.js';

const ROOM = 'proto@conference.localhost';
const ctx: RoomContext = { now: Date.UTC(2026, 0, 1), serviceJid: 'conference.localhost', serviceAdmins: [] };
const PROTO_NAMES = Object.getOwnPropertyNames(Object.prototype).sort();

let server: RedisServer;
let redis: ScriptedRedis;
const keys = keySpace(testPrefix('shard-store'));

before(async () => {
  server = await startRedis();
  redis = defineScripts(new Redis(server.url));
});
after(async () => {
  await redis.quit();
  await server.stop();
});

function stanza(from: string, xml: string): RoomInput {
  const el = parseElement(xml, { defaultNs: NS.CLIENT });
  el.attrs.from = from;
  return { kind: 'stanza', stanza: el, origin: { gatewayId: 'gw1', sessionId: `s:${from}` } };
}

/** Runs inputs through the room core; the room as it ends up. */
function run(room: RoomState | undefined, inputs: RoomInput[]): { room: RoomState | undefined; out: ReturnType<typeof step>['out'] } {
  let out: ReturnType<typeof step>['out'] = [];
  for (const input of inputs) ({ room, out } = step(room, ROOM, input, ctx));
  return { room, out };
}

async function commit(shard: number, room: RoomState): Promise<void> {
  const token = await redis.acquireLease(keys.shardLease(shard), keys.shardFence(shard), 'w1', 5000);
  const id = (await redis.xadd(keys.shardStream(shard), '*', ...encodeRoomInput({ kind: 'gateway-down', gateway: 'none' }))) as string;
  const turn: TurnResult = { cursor: id, applied: 1, outputs: [], roomWrites: new Map([[ROOM, room]]), history: new Map(), replies: [] };
  assert.equal(await commitTurn(redis, keys, shard, `w1 ${token}`, turn), 'ok');
}

describe('shard store', () => {
  it('stores and loads a room whose occupants are __proto__, constructor and toString', async () => {
    const joins = ['__proto__', 'constructor', 'toString'].map((nick, i) =>
      stanza(`u${i}@localhost/r`, `<presence to='${ROOM}/${nick}'><x xmlns='${NS.MUC}'/></presence>`),
    );
    const configure = stanza(
      'u0@localhost/r',
      `<iq type='set' id='c' to='${ROOM}'><query xmlns='${NS.MUC_OWNER}'><x xmlns='jabber:x:data' type='submit'/></query></iq>`,
    );
    const { room } = run(undefined, [joins[0]!, configure, joins[1]!, joins[2]!]);
    assert.ok(room);
    assert.equal(room.occupants.size, 3);

    await commit(1, room);
    const stored = JSON.parse((await redis.hget(keys.shardRooms(1), ROOM))!) as { occupants: object; occupantsInHash: boolean };
    assert.deepEqual(stored.occupants, {}, 'the room JSON holds no occupants...');
    assert.equal(stored.occupantsInHash, true);
    assert.deepEqual((await redis.hkeys(keys.roomOccupants(1, ROOM))).sort(), ['__proto__', 'constructor', 'toString'], '...its occupants hash does, by shown nick');

    const { log, lines } = memoryLogger();
    const loaded = (await loadShard(redis, keys, 1, log)).rooms.get(ROOM);
    assert.ok(loaded, 'the room loads');
    assert.deepEqual(lines.filter((l) => l.level === 50), [], 'no error logged');
    assert.deepEqual(loaded, room);
    assert.deepEqual([...loaded.occupants.values()].map((o) => o.nick), ['__proto__', 'constructor', 'toString']);

    // The loaded room works: a private message to __proto__, a role change, a kick.
    const pm = run(loaded, [stanza('u1@localhost/r', `<message type='chat' to='${ROOM}/__proto__'><body>hi</body></message>`)]);
    assert.deepEqual(pm.out.map((o) => [o.to, o.stanza.attrs.from]), [['u0@localhost/r', `${ROOM}/constructor`]]);
    const kick = run(pm.room, [stanza('u0@localhost/r', `<iq type='set' id='k' to='${ROOM}'><query xmlns='${NS.MUC_ADMIN}'><item nick='toString' role='none'/></query></iq>`)]);
    assert.equal(kick.out.at(-1)?.stanza.attrs.type, 'result');
    assert.deepEqual([...kick.room!.occupants.values()].map((o) => o.nick), ['__proto__', 'constructor']);
    assert.deepEqual(Object.getOwnPropertyNames(Object.prototype).sort(), PROTO_NAMES, 'Object.prototype unchanged');
    assert.equal(({} as Record<string, unknown>).role, undefined);
  });

  it('loads room JSON whose affiliations and occupants hold __proto__ keys written by hand', async () => {
    const session = { fullJid: 'x@localhost/r', gatewayId: 'gw1', sessionId: 's', presence: '<presence xmlns="jabber:client"/>', joined: 1 };
    const config = run(undefined, [stanza('y@localhost/r', `<presence to='${ROOM}/y'><x xmlns='${NS.MUC}'/></presence>`)]).room!.config;
    const text =
      `{"jid":"${ROOM}","config":${JSON.stringify(config)},"locked":false,"affiliations":{"__proto__":{"affiliation":"owner"}},` +
      `"occupants":{"__proto__":{"nick":"__proto__","bareJid":"x@localhost","role":"moderator","sessions":[${JSON.stringify(session)}]}},` +
      `"subject":null,"history":[],"created":1}`;
    await redis.hset(keys.shardRooms(2), ROOM, text);
    const { log } = memoryLogger();
    const loaded = (await loadShard(redis, keys, 2, log)).rooms.get(ROOM);
    assert.ok(loaded);
    assert.equal(loaded.affiliations.get('__proto__')?.affiliation, 'owner');
    assert.equal(loaded.occupants.get('__proto__')?.bareJid, 'x@localhost');
    assert.equal(loaded.occupants.get('constructor'), undefined);
    assert.equal(Object.getPrototypeOf(loaded.occupants), Map.prototype);
    assert.deepEqual(Object.getOwnPropertyNames(Object.prototype).sort(), PROTO_NAMES);
  });
});
