// The output budget of a turn (`roomWorker.maxOutputsPerTurn`): a turn stops applying entries
// once it has produced that many stanzas, and what it did not apply goes back to the pending
// entries in stream order, so that the next turns apply it with nothing lost, nothing
// applied twice and every room's inputs in order. Pure: the shard actor without I/O.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeRoomInput, laneForRoom } from '@parley/bus';
import type { RoomContext } from '@parley/muc';
import { ShardActor, type StreamEntry, type TurnEnv } from '../src/shard/shard-actor.js';
import { configure, groupchat, join, MUC, session } from './support/fake-cluster.js';
import { memoryLogger } from './support/harness.js';

const LANES = 64;
const ctx: RoomContext = { now: 1_700_000_000_000, serviceJid: MUC, serviceAdmins: [], defaults: { historyLength: 20 }, newId: () => 'id' };
let seq = 0;
const { log } = memoryLogger();

/** A stream entry of a stanza from `jid` to `room`, with a fresh increasing id. */
function entry(room: string, xml: string, jid: string): StreamEntry {
  seq += 1;
  return [`1000-${seq}`, encodeRoomInput({ kind: 'stanza', room, xml, gateway: 'gA', sessionId: `sid-${jid}` })];
}

function env(maxOutputs?: number): TurnEnv {
  return { ctx, publicRooms: [], log, ...(maxOutputs === undefined ? {} : { maxOutputs }) };
}

/** Two rooms in different lanes. */
const big = `big@${MUC}`;
let other = '';
for (let i = 0; !other; i++) if (laneForRoom(`other${i}@${MUC}`, LANES) !== laneForRoom(big, LANES)) other = `other${i}@${MUC}`;

const owner = session('owner@localhost/r', 'gA');

/** A shard actor with `rooms` created and configured (unlocked, XEP-0045 §10.1.2) by `owner`. */
function withRooms(...rooms: string[]): ShardActor {
  const actor = new ShardActor(0, new Map(), '0-0', { lanes: LANES });
  actor.enqueue(rooms.flatMap((room) => [entry(room, join(owner, room, 'owner'), owner.jid), entry(room, configure(owner, room), owner.jid)]));
  actor.apply(actor.next(100), env());
  assert.equal(actor.pending.length, 0);
  return actor;
}

describe('turn output budget', () => {
  it('stops after the entry that reaches the budget and puts the rest back in stream order', () => {
    const actor = withRooms(big, other);
    const users = Array.from({ length: 6 }, (_, i) => session(`u${i}@localhost/r`, 'gA'));
    const entries = users.map((u, i) => entry(i % 2 ? other : big, join(u, i % 2 ? other : big, `n${i}`), u.jid));
    actor.enqueue(entries);
    const all = actor.pending.map((e) => e.id);
    // A join produces the occupants' presence and the self-presence, at least one stanza.
    const first = actor.apply(actor.next(100), env(1));
    assert.equal(first.applied, 1, 'the first entry alone reaches a budget of 1');
    assert.ok(first.outputs.length >= 1);
    assert.deepEqual(actor.pending.map((e) => e.id), all.slice(1), 'the others wait, in stream order');
    assert.equal(first.cursor, all[0], 'the cursor covers the applied entry only');

    // With pending entries that the turn did not pick, the ones put back merge into place.
    const picked = actor.take([1, 3]); // entries 2 and 4 of the stream
    const second = actor.apply(picked, env(1));
    assert.equal(second.applied, 1);
    assert.deepEqual(actor.pending.map((e) => e.id), [all[1], all[3], all[4], all[5]]);
    assert.equal(second.cursor, first.cursor, 'entry 1 is still pending: the cursor cannot pass it');
    assert.deepEqual([...(second.laneMarks ?? [])], [[laneForRoom(big, LANES), all[2]]], 'the lane mark names the applied entry only');

    // Without a budget the rest goes in one turn, and every join is applied exactly once.
    const third = actor.apply(actor.next(100), env());
    assert.equal(third.applied, 4);
    assert.equal(actor.pending.length, 0);
    assert.equal(third.cursor, all[5]);
    assert.equal(actor.rooms.get(big)?.occupants.size, 4, 'the owner and three joiners');
    assert.equal(actor.rooms.get(other)?.occupants.size, 4);
  });

  it('always applies one entry, however small the budget, and bounds what a turn produces', () => {
    const actor = withRooms(big);
    const joiners = Array.from({ length: 40 }, (_, i) => session(`j${i}@localhost/r`, 'gA'));
    actor.enqueue(joiners.map((u, i) => entry(big, join(u, big, `j${i}`), u.jid)));
    actor.enqueue([entry(big, groupchat(owner, big, 'after the joins'), owner.jid)]);
    const sizes: number[] = [];
    let turns = 0;
    let last: string | undefined;
    while (actor.pending.length) {
      const result = actor.apply(actor.next(256), env(0));
      assert.equal(result.applied, 1, 'a budget of 0 still applies one entry per turn');
      sizes.push(result.outputs.length);
      last = result.outputs.at(-1)?.out.stanza.toString();
      turns += 1;
    }
    assert.equal(turns, 41);
    assert.equal(actor.rooms.get(big)?.occupants.size, 41);
    assert.match(last ?? '', /after the joins/, 'the message comes after every join, as in the stream');
    // Budget 64: a turn's outputs exceed it by at most one entry's outputs.
    const b = withRooms(big);
    b.enqueue(joiners.map((u, i) => entry(big, join(u, big, `j${i}`), u.jid)));
    const budgeted: number[] = [];
    while (b.pending.length) budgeted.push(b.apply(b.next(256), env(64)).outputs.length);
    assert.ok(budgeted.length > 1, 'the joins took several turns');
    assert.ok(Math.max(...budgeted) < 64 + Math.max(...sizes), `turn sizes ${budgeted.join(',')}`);
    assert.equal(b.rooms.get(big)?.occupants.size, 41);
  });
});
