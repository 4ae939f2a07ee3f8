// Ids derived from the shard stream entry (entry-ids.ts): a turn applied again after a
// failover makes the same XEP-0359 stanza-ids as the first attempt, whose deliveries clients
// may already hold, so the history and the XEP-0313 archive keep the ids clients saw.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeRoomInput } from '@parley/bus';
import type { RoomContext } from '@parley/muc';
import { entryIds } from '../src/shard/entry-ids.js';
import { ShardActor, type StreamEntry } from '../src/shard/shard-actor.js';
import { configure, groupchat, join, MUC, session } from './support/fake-cluster.js';
import { memoryLogger } from './support/harness.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('ids derived from the entry', () => {
  it('are UUID-shaped, repeatable per (key, shard, entry), and differ otherwise', () => {
    const a = entryIds('k', 3, '1700000000000-0');
    const first = [a(), a(), a()];
    for (const id of first) assert.match(id, UUID_V4);
    assert.equal(new Set(first).size, 3, 'successive ids of one entry differ');
    const again = entryIds('k', 3, '1700000000000-0');
    assert.deepEqual([again(), again(), again()], first, 'the same entry makes the same ids');
    assert.notEqual(entryIds('k', 3, '1700000000000-1')(), first[0], 'another entry');
    assert.notEqual(entryIds('k', 4, '1700000000000-0')(), first[0], 'another shard');
    assert.notEqual(entryIds('other key', 3, '1700000000000-0')(), first[0], 'another cluster secret');
  });

  it('make a replayed turn stamp the same stanza-ids as its first attempt', () => {
    const room = `replay@${MUC}`;
    const owner = session('owner@localhost/r', 'gA');
    const entries: StreamEntry[] = [
      ['1000-1', encodeRoomInput({ kind: 'stanza', room, xml: join(owner, room, 'owner'), gateway: 'gA', sessionId: owner.sessionId })],
      ['1000-2', encodeRoomInput({ kind: 'stanza', room, xml: configure(owner, room), gateway: 'gA', sessionId: owner.sessionId })],
      ['1000-3', encodeRoomInput({ kind: 'stanza', room, xml: groupchat(owner, room, 'hello'), gateway: 'gA', sessionId: owner.sessionId })],
    ];
    const ctx: RoomContext = { now: 1_700_000_000_000, serviceJid: MUC, serviceAdmins: [], defaults: { historyLength: 20 }, newId: () => crypto.randomUUID() };
    const { log } = memoryLogger();
    /** The stanza-ids of the reflected groupchat message after applying every entry on a fresh actor. */
    const stanzaIds = (idKey?: string): string[] => {
      const actor = new ShardActor(5, new Map(), '0-0', { lanes: 4 });
      actor.enqueue(entries);
      const result = actor.apply(actor.next(10), { ctx, publicRooms: [], log, ...(idKey === undefined ? {} : { idKey }) });
      const ids = result.outputs.flatMap(({ out }) => out.stanza.getChildren('stanza-id', 'urn:xmpp:sid:0').map((el) => String(el.attrs.id)));
      assert.ok(ids.length > 0, 'the message carries a stanza-id');
      return ids;
    };
    assert.deepEqual(stanzaIds('secret'), stanzaIds('secret'), 'a replay with the cluster secret: the same ids');
    assert.notDeepEqual(stanzaIds(), stanzaIds(), 'random ids (no secret) differ between attempts');
  });
});
