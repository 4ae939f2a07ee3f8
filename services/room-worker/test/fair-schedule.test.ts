// Per-room fairness inside a shard's turn (issue #10 item 6): the pure schedule, and the
// shard actor's progress (cursor, lane marks) that makes it safe across a failover.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { encodeRoomInput, laneForRoom, nextStreamId, prevStreamId } from '@parley/bus';
import { BARRIER, pickFair, pickFairAcross, quietEntries, quietPicks } from '../src/shard/fair-schedule.js';
import { ShardActor, type StreamEntry, type TurnEnv } from '../src/shard/shard-actor.js';
import { configure, groupchat, join, MUC, session } from './support/fake-cluster.js';

const lanes = (...ls: number[]) => ls.map((lane) => ({ lane }));

describe('pickFair', () => {
  it('serves lanes round robin, each in stream order, up to max', () => {
    // Lane 1 has a backlog of 6, lanes 2 and 3 one entry each, behind it.
    const pending = lanes(1, 1, 1, 1, 1, 1, 2, 1, 3);
    assert.deepEqual(pickFair(pending, 3), [0, 6, 8], 'one each: the quiet lanes do not wait for the backlog');
    assert.deepEqual(pickFair(pending, 5), [0, 1, 2, 6, 8]);
    assert.deepEqual(pickFair(pending, 100), [0, 1, 2, 3, 4, 5, 6, 7, 8], 'everything when it fits');
  });

  it('gives the longest-waiting lane the first pick when max is below the number of lanes', () => {
    assert.deepEqual(pickFair(lanes(5, 4, 5, 3), 1), [0]);
    assert.deepEqual(pickFair(lanes(5, 4, 5, 3), 2), [0, 1]);
  });

  it('applies a barrier only after everything before it, and nothing after it before it', () => {
    const pending = lanes(1, 1, 1, BARRIER, 2, 2);
    assert.deepEqual(pickFair(pending, 2), [0, 1], 'lane 2 waits behind the barrier');
    assert.deepEqual(pickFair(pending, 4), [0, 1, 2, 3]);
    assert.deepEqual(pickFair(pending, 5), [0, 1, 2, 3, 4]);
    assert.deepEqual(pickFair(lanes(BARRIER, 1, BARRIER), 10), [0, 1, 2]);
    assert.deepEqual(pickFair([], 10), []);
  });

  it('keeps each lane in order and never picks an entry twice (random inputs)', () => {
    let seed = 7;
    const rand = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n);
    for (let round = 0; round < 200; round++) {
      const pending = Array.from({ length: rand(60) }, () => ({ lane: rand(10) === 0 ? BARRIER : rand(5) }));
      const max = 1 + rand(20);
      const picked = pickFair(pending, max);
      assert.ok(picked.length <= max);
      assert.equal(new Set(picked).size, picked.length);
      assert.deepEqual([...picked].sort((a, b) => a - b), picked, 'ascending');
      // Per lane, the picked entries are that lane's oldest ones (a prefix).
      const firstBarrier = pending.findIndex((e) => e.lane === BARRIER);
      for (let i = 0; i < pending.length; i++) {
        if (!picked.includes(i)) continue;
        for (let j = 0; j < i; j++) {
          if (pending[j]!.lane === pending[i]!.lane || pending[j]!.lane === BARRIER || pending[i]!.lane === BARRIER) {
            assert.ok(picked.includes(j), `entry ${j} (lane ${pending[j]!.lane}) skipped before ${i} (lane ${pending[i]!.lane})`);
          }
        }
      }
      if (pending.length) assert.ok(picked.length > 0);
      if (firstBarrier < 0 && pending.length >= max) assert.equal(picked.length, max);
    }
  });
});

describe('ShardActor progress', () => {
  const LANES = 64;
  // Two rooms of different lanes.
  const flood = `flood@${MUC}`;
  let quiet = '';
  for (let i = 0; quiet === ''; i++) if (laneForRoom(`quiet${i}@${MUC}`, LANES) !== laneForRoom(flood, LANES)) quiet = `quiet${i}@${MUC}`;
  const alice = session('alice@localhost/a', 'gA');
  const bob = session('bob@localhost/b', 'gA');
  const entry = (n: number, room: string, xml: string, s = alice): StreamEntry => [
    `1000-${n}`,
    encodeRoomInput({ kind: 'stanza', room, xml, gateway: s.gateway, sessionId: s.sessionId }),
  ];
  const env: TurnEnv = {
    ctx: { now: 1_000, serviceJid: MUC, serviceAdmins: [], defaults: { historyLength: 20 }, forwardTtlMs: 300_000 },
    publicRooms: [],
    log: pino({ level: 'silent' }),
  };
  // Flood room: join, configure (an instant room, XEP-0045 §10.1.2), then 20 messages
  // (1000-3 … 1000-22); the quiet room's join, configuration and message come last.
  const entries: StreamEntry[] = [entry(1, flood, join(alice, flood, 'A')), entry(2, flood, configure(alice, flood))];
  for (let i = 0; i < 20; i++) entries.push(entry(3 + i, flood, groupchat(alice, flood, `f${i}`)));
  entries.push(entry(30, quiet, join(bob, quiet, 'B'), bob), entry(31, quiet, configure(bob, quiet), bob), entry(32, quiet, groupchat(bob, quiet, 'q'), bob));
  const bodies = (outputs: { out: { stanza: { toString(): string } } }[]) =>
    outputs.map((o) => /<body>(\w+)<\/body>/.exec(o.out.stanza.toString())?.[1]).filter((b) => b !== undefined);

  it('serves the quiet room in the first turn, keeps the cursor before the backlog and marks the lanes', () => {
    const actor = new ShardActor(0, new Map(), '0-0', { lanes: LANES });
    actor.enqueue(entries);
    // Six picks, round robin: flood 1, quiet 30, flood 2, quiet 31, flood 3 (f0), quiet 32 (q).
    const first = actor.apply(actor.next(6), env);
    assert.ok(bodies(first.outputs).includes('q'), 'the quiet room\'s message is handled in the first turn');
    assert.deepEqual(bodies(first.outputs), ['f0', 'q'], 'the flood\'s backlog is not');
    // Every entry before the oldest pending one (the flood's f1) is applied.
    assert.equal(first.cursor, prevStreamId('1000-4'));
    assert.equal(nextStreamId(first.cursor), '1000-4', 'the trim keeps the oldest pending entry');
    assert.deepEqual([...first.laneMarks!], [[laneForRoom(quiet, LANES), '1000-32']], 'the quiet lane is ahead of the cursor');
    assert.equal(first.commit, 1);
    // Turns go on until the flood drains; the cursor then passes every lane mark.
    let last = first;
    while (actor.pending.length) last = actor.apply(actor.next(4), env);
    assert.equal(last.cursor, '1000-32');
    assert.deepEqual(last.laneDrops?.includes(laneForRoom(quiet, LANES)), true, 'the quiet lane\'s mark is dropped once the cursor passes it');
    assert.equal(actor.laneMarks.size, 0);
  });

  it('crowded: the rooms with at least n entries pending, most first', () => {
    const actor = new ShardActor(0, new Map(), '0-0', { lanes: LANES });
    actor.enqueue(entries);
    assert.deepEqual(actor.crowded(4, 64), [flood], 'the quiet room has 3 pending, the flood 22');
    assert.deepEqual(actor.crowded(3, 64), [flood, quiet], 'at least n');
    assert.deepEqual(actor.crowded(2, 1), [flood], 'at most max');
    assert.deepEqual(actor.crowded(23, 64), []);
  });

  it('after a failover, reads from the cursor and skips what the lane marks cover', () => {
    const a = new ShardActor(0, new Map(), '0-0', { lanes: LANES });
    a.enqueue(entries);
    const turn = a.apply(a.next(6), env);
    // A new owner loads the committed progress of that turn.
    const b = new ShardActor(0, new Map(a.rooms), turn.cursor, { lanes: LANES, laneMarks: turn.laneMarks!, commits: turn.commit! });
    b.enqueue(entries); // XRANGE from the cursor would return these and more: enqueue skips what is before it
    const replayed = b.pending.map((e) => e.id);
    assert.ok(!replayed.some((id) => ['1000-30', '1000-31', '1000-32'].includes(id)), 'the quiet room\'s committed entries are not applied again');
    assert.equal(replayed[0], '1000-4', 'the flood resumes at its oldest entry not applied');
    assert.equal(replayed.length, 19);
    const out: string[] = [];
    while (b.pending.length) out.push(...bodies(b.apply(b.next(4), env).outputs).filter((x) => x.startsWith('f')));
    // Each flood message reached the one occupant once, in order (f0 went in the first turn).
    assert.deepEqual(out, Array.from({ length: 19 }, (_, i) => `f${i + 1}`));
  });
});

describe('pickFairAcross', () => {
  it('shares one budget between the lanes of every shard: a quiet lane of another shard goes first too', () => {
    // Shard 0: a flooded lane; shard 1: another flooded lane and, behind it, one quiet entry.
    const s0 = Array.from({ length: 50 }, (_, i) => ({ lane: 1, id: `10-${i}` }));
    const s1 = [...Array.from({ length: 50 }, (_, i) => ({ lane: 2, id: `11-${i}` })), { lane: 3, id: '12-0' }];
    const [p0, p1] = pickFairAcross([s0, s1], 5) as [number[], number[]];
    assert.equal(p0.length + p1.length, 5, 'the turn stays within the budget, across shards');
    assert.ok(p1.includes(50), 'the quiet lane goes in the first turn');
    assert.deepEqual(p0, [0, 1], 'each lane from its oldest entry');
    assert.deepEqual(p1, [0, 1, 50]);
  });

  it('breaks a round by age: the older entry of two shards goes first', () => {
    const [p0, p1] = pickFairAcross([[{ lane: 0, id: '20-0' }], [{ lane: 0, id: '19-5' }]], 1) as [number[], number[]];
    assert.deepEqual([p0, p1], [[], [0]]);
  });
});

describe('quiet entries (rooms that are not behind)', () => {
  const flooded = Array.from({ length: 4 }, (_, i) => ({ lane: 1, id: `10-${i}` }));

  it('quietEntries: the picked entries alone in their lane among everything pending', () => {
    const pending = [...flooded, { lane: 2, id: '11-0' }, { lane: 3, id: '12-0' }, { lane: 3, id: '12-1' }];
    // Picked: two of the flooded lane, the lone lane 2 entry, the first of lane 3 (two pending).
    assert.deepEqual([...quietEntries(pending, [0, 1, 4, 5])], ['11-0']);
    assert.equal(quietEntries(pending, []).size, 0);
  });

  it('quietEntries: none while a barrier is pending (its effects keep their place)', () => {
    const pending = [{ lane: 2, id: '11-0' }, { lane: BARRIER, id: '11-1' }, { lane: 3, id: '12-0' }];
    assert.equal(quietEntries(pending, [0]).size, 0);
  });

  it('quietPicks: lone entries of lanes the first apply did not take, up to max, in stream order', () => {
    const pending = [{ lane: 5, id: '9-0' }, ...flooded, { lane: 2, id: '11-0' }, { lane: 3, id: '12-0' }, { lane: 4, id: '13-0' }];
    assert.deepEqual(quietPicks(pending, new Set([3]), 10), [0, 5, 7], 'lane 1 has a backlog, lane 3 was in the first apply');
    assert.deepEqual(quietPicks(pending, undefined, 2), [0, 5], 'at most max');
    assert.deepEqual(quietPicks([...pending, { lane: BARRIER, id: '14-0' }], undefined, 10), [], 'none with a barrier pending');
  });
});
