// XEP-0425 §4 tombstones in the XEP-0313 room archive, on a real redis-server: the room core
// (ShardActor applying stream entries) retracts a message, the turn is committed with
// commit-shard-n.lua, and a MAM query then returns the tombstone in place of the message;
// both ways the core can decide (the message still in the history, or only in the archive,
// resolved inside the turn by resolveArchiveRetractions), an unknown id, and the trim of
// tombstones with their entries.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { encodeRoomInput, keySpace } from '@parley/bus';
import { archiveResults, type ArchiveQuery, type RoomContext } from '@parley/muc';
import { startRedis, type RedisServer } from '@parley/testkit';
import { defineScripts, type ScriptedRedis } from '../src/redis-scripts.js';
import { readArchivePage, resolveArchiveRetractions } from '../src/shard/archive-store.js';
import { ShardActor, type StreamEntry, type TurnResult } from '../src/shard/shard-actor.js';
import { commitTurn } from '../src/shard/shard-store.js';
import { configure, groupchat, join, MUC, session, type FakeSession } from './support/fake-cluster.js';
import { memoryLogger, testPrefix } from './support/harness.js';

let nextShard = 2;
const MODERATE = 'urn:xmpp:message-moderate:1';
const RETRACT = 'urn:xmpp:message-retract:1';
const T0 = 1_700_000_000_000;

let server: RedisServer;
let redis: ScriptedRedis;
const keys = keySpace(testPrefix('archive-retract'));

before(async () => {
  server = await startRedis();
  redis = defineScripts(new Redis(server.url));
});
after(async () => {
  await redis.quit();
  await server.stop();
});

const owner = session('owner@localhost/r', 'gA');
const juliet = session('juliet@localhost/r', 'gA');
const moderate = (s: FakeSession, room: string, id: string) =>
  `<iq xmlns='jabber:client' type='set' id='mod' from='${s.jid}' to='${room}'><moderate xmlns='${MODERATE}' id='${id}'><retract xmlns='${RETRACT}'/><reason>spam</reason></moderate></iq>`;

/** A shard of its own (one per test): its actor and a stream clock; applies stanzas as one turn each, committed to Redis. */
class Shard {
  readonly n = nextShard++;
  actor = new ShardActor(this.n, new Map(), '0-0');
  seq = 0;
  lease = '';
  constructor(readonly ctx: RoomContext) {}
  async turn(room: string, items: [FakeSession, string][]): Promise<TurnResult> {
    if (this.lease === '') this.lease = `w1 ${String(await redis.acquireLease(keys.shardLease(this.n), keys.shardFence(this.n), 'w1', 60_000))}`;
    const entries: StreamEntry[] = items.map(([s, xml]) => [`${T0}-${++this.seq}`, encodeRoomInput({ kind: 'stanza', room, xml, gateway: s.gateway, sessionId: s.sessionId })]);
    this.actor.enqueue(entries);
    const { log } = memoryLogger();
    const result = this.actor.apply(this.actor.next(100), { ctx: this.ctx, publicRooms: [], log });
    await resolveArchiveRetractions(redis, keys, this.n, result, { maxEntries: this.ctx.archiveMaxMessages ?? 0, minAt: 0 }, log);
    assert.equal(await commitTurn(redis, keys, this.n, this.lease, result), 'ok');
    return result;
  }
}

const ctx = (historyLength: number, archiveMaxMessages = 0): RoomContext => ({ now: T0, serviceJid: MUC, serviceAdmins: [], defaults: { historyLength }, newId: () => crypto.randomUUID(), archiveMaxMessages });
const q = (room: string): ArchiveQuery => ({ room, to: owner.jid, route: { gatewayId: 'gA', sessionId: owner.sessionId }, iqId: 'q', max: 50, realJids: false, enabled: true });
const sidOf = (r: TurnResult, body: string): string => {
  const m = r.outputs.find(({ out }) => out.stanza.getChildText('body') === body)!;
  return String(m.out.stanza.getChild('stanza-id', 'urn:xmpp:sid:0')!.attrs.id);
};
const iqAnswer = (r: TurnResult) => r.outputs.map(({ out }) => out.stanza).find((s) => s.name === 'iq' && s.attrs.id === 'mod');

async function setUp(shard: Shard, room: string): Promise<{ secret: string; kept: string }> {
  await shard.turn(room, [[owner, join(owner, room, 'owner')], [owner, configure(owner, room)], [juliet, join(juliet, room, 'juliet')]]);
  const r = await shard.turn(room, [[juliet, groupchat(juliet, room, 'secret', 'm1')], [juliet, groupchat(juliet, room, 'kept', 'm2')]]);
  return { secret: sidOf(r, 'secret'), kept: sidOf(r, 'kept') };
}

/** The MAM query results of `room`, as the querier receives them (archiveResults). */
async function mam(shard: number, room: string) {
  const page = await readArchivePage(redis, keys, shard, q(room), { now: T0, maxAgeMs: 0 });
  assert.ok(page !== 'item-not-found');
  return archiveResults(q(room), page, undefined).filter((s) => s.name === 'message').map((m) => m.getChild('result')!);
}

async function assertTombstone(shard: number, room: string, secret: string, kept: string): Promise<void> {
  const results = await mam(shard, room);
  const byId = new Map(results.map((r) => [String(r.attrs.id), r.getChild('forwarded')!.getChild('message')!]));
  const tomb = byId.get(secret)!;
  assert.ok(tomb, 'the retracted message keeps its place and archive id');
  assert.equal(tomb.getChild('body'), undefined, 'its body is gone');
  assert.doesNotMatch(tomb.toString(), /secret/);
  assert.equal(tomb.attrs.from, `${room}/juliet`);
  assert.ok(tomb.getChild('occupant-id', 'urn:xmpp:occupant-id:0'), 'the author occupant id stays (§4)');
  const retracted = tomb.getChild('retracted', RETRACT)!;
  assert.ok(retracted.attrs.stamp);
  assert.equal(retracted.getChild('moderated', MODERATE)!.attrs.by, `${room}/owner`);
  assert.equal(retracted.getChildText('reason'), 'spam');
  assert.equal(byId.get(kept)!.getChildText('body'), 'kept', 'other messages untouched');
  const notice = results.map((r) => r.getChild('forwarded')!.getChild('message')!).find((m) => m.getChild('retract', RETRACT));
  assert.equal(notice?.getChild('retract', RETRACT)!.attrs.id, secret, 'the §3.1 notice is archived too');
}

describe('XEP-0425 tombstones in the room archive', () => {
  it('replaces the archived message in MAM results when the core found it in the history', async () => {
    const room = `hist@${MUC}`;
    const shard = new Shard(ctx(20));
    const { secret, kept } = await setUp(shard, room);
    const r = await shard.turn(room, [[owner, moderate(owner, room, secret)]]);
    assert.equal(iqAnswer(r)?.attrs.type, 'result');
    assert.equal(r.archiveRetractions, undefined, 'decided by the core');
    assert.equal(await redis.hlen(keys.roomArchiveTombstones(shard.n, room)), 1);
    await assertTombstone(shard.n, room, secret, kept);
    assert.deepEqual((await redis.lrange(keys.roomHistory(shard.n, room), 0, -1)).map((e) => (JSON.parse(e) as { xml: string }).xml.includes('secret')), [false], 'the stored history lost it');
  });

  it('confirms an id only the archive has inside the turn, then writes the tombstone; an unknown id gets item-not-found', async () => {
    const room = `nohist@${MUC}`;
    const shard = new Shard(ctx(0));
    const { secret, kept } = await setUp(shard, room);
    const unknown = await shard.turn(room, [[owner, moderate(owner, room, 'no-such-id')]]);
    assert.equal(iqAnswer(unknown)?.attrs.type, 'error');
    assert.ok(iqAnswer(unknown)!.getChild('error')!.getChild('item-not-found'));
    assert.equal(unknown.outputs.length, 1, 'no notice');
    assert.equal(await redis.exists(keys.roomArchiveTombstones(shard.n, room)), 0);
    const r = await shard.turn(room, [[owner, moderate(owner, room, secret)]]);
    assert.equal(r.archiveRetractions?.length, 1, 'left to the worker');
    assert.equal(iqAnswer(r)?.attrs.type, 'result');
    assert.equal(r.outputs.filter(({ out }) => out.stanza.name === 'message').length, 2, 'the notice to both occupants');
    await assertTombstone(shard.n, room, secret, kept);
  });

  it('trims a tombstone with its entry (bounded by the archive)', async () => {
    const room = `trim@${MUC}`;
    const shard = new Shard(ctx(20, 3));
    const { secret } = await setUp(shard, room);
    await shard.turn(room, [[owner, moderate(owner, room, secret)]]);
    assert.equal(await redis.hexists(keys.roomArchiveTombstones(shard.n, room), secret), 1);
    await shard.turn(room, [[juliet, groupchat(juliet, room, 'more1')], [juliet, groupchat(juliet, room, 'more2')]]);
    assert.equal(await redis.hexists(keys.roomArchiveIndex(shard.n, room), secret), 0);
    assert.equal(await redis.hexists(keys.roomArchiveTombstones(shard.n, room), secret), 0, 'trimmed with its entry');
  });
});
