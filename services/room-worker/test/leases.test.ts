// The fenced shard lease (acquire-lease-2, renew-lease-1, release-lease-1) and the commit
// it guards (commit-shard-n), run against a real redis-server.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { encodeRoomInput, keySpace } from '@parley/bus';
import { defaultRoomConfig, roomFromJson } from '@parley/muc';
import { startRedis, type RedisServer } from '@parley/testkit';
import { defineScripts, type ScriptedRedis } from '../src/redis-scripts.js';
import { commitTurn, nextStreamId } from '../src/shard/shard-store.js';
import type { TurnResult } from '../src/shard/shard-actor.js';
import { testPrefix } from './support/harness.js';

let server: RedisServer;
let redis: ScriptedRedis;
const keys = keySpace(testPrefix('leases'));

before(async () => {
  server = await startRedis();
  redis = defineScripts(new Redis(server.url));
});
after(async () => {
  await redis.quit();
  await server.stop();
});

/** A stored room (JSON) with no occupants, affiliations or history. */
function emptyRoom(jid: string): Record<string, unknown> {
  return { jid, config: defaultRoomConfig(), locked: false, affiliations: {}, occupants: {}, subject: null, history: [], created: 1 };
}

/** A turn writing `rooms`: each an empty room with the given fields over it (undefined: deleted). */
function turn(cursor: string, rooms: Record<string, Record<string, unknown> | undefined>, history: TurnResult['history'] = new Map()): TurnResult {
  const roomWrites: TurnResult['roomWrites'] = new Map(
    Object.entries(rooms).map(([jid, r]) => [jid, r === undefined ? undefined : roomFromJson({ ...emptyRoom(jid), ...r })]),
  );
  return { cursor, applied: 1, outputs: [], roomWrites, history, replies: [] };
}

describe('shard lease', () => {
  it('is granted once, with increasing fencing tokens', async () => {
    const [lease, fence] = [keys.shardLease(1), keys.shardFence(1)];
    const t1 = await redis.acquireLease(lease, fence, 'w1', 5000);
    assert.equal(t1, 1);
    assert.equal(await redis.acquireLease(lease, fence, 'w2', 5000), null, 'held: refused to another worker');
    assert.equal(await redis.acquireLease(lease, fence, 'w1', 5000), null, 'held: refused to its holder too');
    assert.equal(await redis.get(lease), 'w1 1');
    assert.equal(await redis.releaseLease(lease, 'w2 1'), 0, 'only the holder releases');
    assert.equal(await redis.releaseLease(lease, 'w1 1'), 1);
    assert.equal(await redis.exists(lease), 0);
    assert.equal(await redis.acquireLease(lease, fence, 'w2', 5000), 2);
    assert.equal(await redis.get(lease), 'w2 2');
  });

  it('is renewed only by the holder of that grant', async () => {
    const [lease, fence] = [keys.shardLease(2), keys.shardFence(2)];
    const token = await redis.acquireLease(lease, fence, 'w1', 300);
    assert.equal(await redis.renewLease(lease, `w1 ${token}`, 5000), 1);
    assert.ok((await redis.pttl(lease)) > 1000, 'the TTL was extended');
    assert.equal(await redis.renewLease(lease, 'w2 1', 5000), 0);
    assert.equal(await redis.renewLease(lease, `w1 ${token! + 1}`, 5000), 0, 'a different token is another grant');
  });

  it('expires without renewal, and the old grant can neither renew nor release the new one', async () => {
    const [lease, fence] = [keys.shardLease(3), keys.shardFence(3)];
    const old = await redis.acquireLease(lease, fence, 'w1', 150);
    await sleep(250);
    assert.equal(await redis.exists(lease), 0, 'expired');
    assert.equal(await redis.renewLease(lease, `w1 ${old}`, 5000), 0, 'renewing an expired lease fails');
    const next = await redis.acquireLease(lease, fence, 'w1', 5000);
    assert.equal(next, old! + 1, 'a new grant, even to the same worker, has a new token');
    assert.equal(await redis.releaseLease(lease, `w1 ${old}`), 0);
    assert.equal(await redis.get(lease), `w1 ${next}`);
  });
});

describe('commit-shard-n', () => {
  it('writes rooms, history, cursor and trims the applied entries, atomically', async () => {
    const shard = 4;
    const token = await redis.acquireLease(keys.shardLease(shard), keys.shardFence(shard), 'w1', 5000);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await redis.xadd(keys.shardStream(shard), '*', ...encodeRoomInput({ kind: 'gateway-down', gateway: `g${i}` })) as string);
    await redis.hset(keys.shardRooms(shard), 'old@conference.localhost', '{}');
    await redis.rpush(keys.roomHistory(shard, 'old@conference.localhost'), 'x');
    const history = new Map([
      ['a@conference.localhost', { reset: false, keep: 2, append: ['h1', 'h2', 'h3'] }],
      ['old@conference.localhost', { reset: true, keep: 0, append: [] }],
    ]);
    const stored = emptyRoom('a@conference.localhost');
    const r = await commitTurn(redis, keys, shard, `w1 ${token}`, turn(ids[2]!, {
      'a@conference.localhost': { history: [{ xml: '<m/>', nick: 'n', at: 1 }] },
      'old@conference.localhost': undefined,
    }, history));
    assert.equal(r, 'ok');
    assert.deepEqual(JSON.parse((await redis.hget(keys.shardRooms(shard), 'a@conference.localhost'))!), { ...stored, occupantsInHash: true }, 'stored without history and occupants');
    assert.equal(await redis.hexists(keys.shardRooms(shard), 'old@conference.localhost'), 0);
    assert.deepEqual(await redis.lrange(keys.roomHistory(shard, 'a@conference.localhost'), 0, -1), ['h2', 'h3'], 'trimmed to keep');
    assert.equal(await redis.exists(keys.roomHistory(shard, 'old@conference.localhost')), 0);
    assert.equal(await redis.get(keys.shardCursor(shard)), ids[2]);
    const left = (await redis.xrange(keys.shardStream(shard), '-', '+')).map(([id]) => id);
    assert.deepEqual(left, ids.slice(3), 'exactly the applied entries are trimmed');
  });

  it('applies a commit sent twice once: the second finds the cursor there and writes nothing', async () => {
    const shard = 6;
    const token = await redis.acquireLease(keys.shardLease(shard), keys.shardFence(shard), 'w1', 5000);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push(await redis.xadd(keys.shardStream(shard), '*', 'kind', 'gateway-down', 'gw', `g${i}`) as string);
    const room = 'twice@conference.localhost';
    const first = turn(ids[1]!, { [room]: { jid: room } }, new Map([[room, { reset: false, keep: 10, append: ['h1'] }]]));
    assert.equal(await commitTurn(redis, keys, shard, `w1 ${token}`, first), 'ok');
    assert.equal(await commitTurn(redis, keys, shard, `w1 ${token}`, first), 'ok');
    assert.deepEqual(await redis.lrange(keys.roomHistory(shard, room), 0, -1), ['h1'], 'history appended once');
    // An older turn arriving late changes nothing either; the next one is applied.
    const older = turn(ids[0]!, { [room]: { jid: 'older' } }, new Map([[room, { reset: false, keep: 10, append: ['h0'] }]]));
    assert.equal(await commitTurn(redis, keys, shard, `w1 ${token}`, older), 'ok');
    assert.equal(await redis.get(keys.shardCursor(shard)), ids[1]);
    const next = turn(ids[2]!, {}, new Map([[room, { reset: false, keep: 10, append: ['h2'] }]]));
    assert.equal(await commitTurn(redis, keys, shard, `w1 ${token}`, next), 'ok');
    assert.deepEqual(await redis.lrange(keys.roomHistory(shard, room), 0, -1), ['h1', 'h2']);
    assert.equal(await redis.get(keys.shardCursor(shard)), ids[2]);
  });

  it('with a stale token, answers fenced and writes nothing', async () => {
    const shard = 5;
    const [lease, fence] = [keys.shardLease(shard), keys.shardFence(shard)];
    const stale = await redis.acquireLease(lease, fence, 'w1', 100);
    await sleep(200); // w1 paused past its TTL...
    const fresh = await redis.acquireLease(lease, fence, 'w2', 5000); // ...and w2 took over
    assert.ok(fresh! > stale!);
    const id = (await redis.xadd(keys.shardStream(shard), '*', 'kind', 'gateway-down', 'gw', 'g')) as string;
    const history = new Map([['r@conference.localhost', { reset: false, keep: 5, append: ['h'] }]]);
    const r = await commitTurn(redis, keys, shard, `w1 ${stale}`, turn(id, { 'r@conference.localhost': { jid: 'r' } }, history));
    assert.equal(r, 'fenced');
    assert.equal(await redis.exists(keys.shardRooms(shard), keys.shardCursor(shard), keys.roomHistory(shard, 'r@conference.localhost')), 0, 'nothing written');
    assert.equal(await redis.xlen(keys.shardStream(shard)), 1, 'nothing trimmed');
    // Without any lease at all (expired, nobody took it), a commit is fenced too.
    await redis.del(lease);
    assert.equal(await commitTurn(redis, keys, shard, `w2 ${fresh}`, turn(id, {})), 'fenced');
    assert.equal(await redis.exists(keys.shardCursor(shard)), 0);
  });

  it('answers gap and writes nothing when the commit before it is missing (two commits of a shard in one pipeline)', async () => {
    const shard = 7;
    const token = await redis.acquireLease(keys.shardLease(shard), keys.shardFence(shard), 'w1', 5000);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await redis.xadd(keys.shardStream(shard), '*', 'kind', 'gateway-down', 'gw', `g${i}`)) as string);
    const room = 'gap@conference.localhost';
    const numbered = (cursor: string, commit: number, h: string) => ({ ...turn(cursor, { [room]: { jid: room } }, new Map([[room, { reset: false, keep: 10, append: [h] }]])), commit });
    assert.equal(await commitTurn(redis, keys, shard, `w1 ${token}`, numbered(ids[0]!, 1, 'h1')), 'ok');
    // Commit 2 failed (not stored); commit 3, sent behind it, must not skip it.
    assert.equal(await commitTurn(redis, keys, shard, `w1 ${token}`, numbered(ids[2]!, 3, 'h3')), 'gap');
    assert.equal(await redis.get(keys.shardCursor(shard)), ids[0], 'cursor unchanged');
    assert.deepEqual(await redis.lrange(keys.roomHistory(shard, room), 0, -1), ['h1'], 'history unchanged');
    assert.equal(await redis.hget(keys.shardLanes(shard), 'n'), '1');
    // In sequence, both land.
    assert.equal(await commitTurn(redis, keys, shard, `w1 ${token}`, numbered(ids[1]!, 2, 'h2')), 'ok');
    assert.equal(await commitTurn(redis, keys, shard, `w1 ${token}`, numbered(ids[2]!, 3, 'h3')), 'ok');
    assert.deepEqual(await redis.lrange(keys.roomHistory(shard, room), 0, -1), ['h1', 'h2', 'h3']);
  });

  it('nextStreamId is the smallest id after its argument', () => {
    assert.equal(nextStreamId('1700000000000-0'), '1700000000000-1');
    assert.equal(nextStreamId('5-18446744073709551614'), '5-18446744073709551615');
  });
});
