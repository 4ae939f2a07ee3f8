import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Element } from 'ltx';
import { NS } from '@parley/xml';
import { defaultRoomConfig, roomSummary, step, type RoomState } from '@parley/muc';
import { JULIET, ROMEO, ROOM, ROSALINE, Sim, errorCondition, fromJson, makeCtx, roundTrip, toJson, xml } from './harness.js';

function stanza(from: string, text: string) {
  const el = xml(text);
  el.attrs.from = from;
  return { kind: 'stanza' as const, stanza: el, origin: { gatewayId: 'gw', sessionId: 's' } };
}

describe('step', () => {
  it('answers non-presence stanzas to a missing room with item-not-found and creates nothing', () => {
    const ctx = makeCtx();
    for (const text of [
      `<message type='groupchat' to='${ROOM}'><body>x</body></message>`,
      `<iq type='get' id='1' to='${ROOM}'><query xmlns='${NS.REGISTER}'/></iq>`,
      `<iq type='get' id='1' to='${ROOM}'><query xmlns='${NS.DISCO_INFO}'/></iq>`,
    ]) {
      const r = step(undefined, ROOM, stanza(ROMEO, text), ctx);
      assert.equal(r.room, undefined);
      assert.equal(errorCondition(r.out[0]?.stanza), 'item-not-found');
      assert.ok(!r.effects.some((e) => e.kind === 'persist' || e.kind === 'destroyed'));
    }
  });

  it('never answers an error stanza with an error', () => {
    const r = step(undefined, ROOM, stanza(ROMEO, `<message type='error' to='${ROOM}'/>`), makeCtx());
    assert.deepEqual(r.out, []);
    const p = step(undefined, ROOM, stanza(ROMEO, `<presence type='error' to='${ROOM}/x'/>`), makeCtx());
    assert.deepEqual(p.out, []);
  });

  it('drops stanzas without a valid from, or for another room, with a warning', () => {
    const bad = xml(`<message type='groupchat' to='${ROOM}'><body>x</body></message>`);
    const r = step(undefined, ROOM, { kind: 'stanza', stanza: bad, origin: { gatewayId: 'g', sessionId: 's' } }, makeCtx());
    assert.deepEqual(r.out, []);
    assert.equal(r.effects[0]?.kind, 'log');
    const other = step(undefined, ROOM, stanza(ROMEO, `<presence to='other@conference.localhost/x'/>`), makeCtx());
    assert.deepEqual(other.out, []);
  });

  it('answers an iq without exactly one payload with bad-request', () => {
    const r = step(undefined, ROOM, stanza(ROMEO, `<iq type='get' id='1' to='${ROOM}'/>`), makeCtx());
    assert.equal(errorCondition(r.out[0]?.stanza), 'bad-request');
  });

  it('takes its room argument over (groupchat in place) and behaves the same after a JSON round trip', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo');
    sim.join(JULIET, 'Juliet');
    const room = sim.room as RoomState;
    const frozen = toJson(room);
    const input = () => stanza(JULIET, `<message type='groupchat' id='z' to='${ROOM}'><body>hi</body></message>`);
    const a = step(room, ROOM, input(), makeCtx());
    const b = step(fromJson(frozen), ROOM, input(), makeCtx());
    // The documented contract: the result may be the argument itself, changed in place.
    assert.equal(a.room, room);
    assert.deepEqual(a.out.map((o) => [o.to, o.stanza.toString()]), b.out.map((o) => [o.to, o.stanza.toString()]));
    assert.deepEqual(a.effects, b.effects);
    assert.deepEqual(roundTrip(a.room), a.room);
    assert.deepEqual(a.room, b.room);
    // Only the history changed, as the effects say (no persist); the XEP-0313 archive entry
    // is an effect for the worker, not room state.
    assert.deepEqual(a.effects.map((e) => e.kind), ['archive-append', 'history-append']);
    assert.deepEqual({ ...fromJson(frozen), history: [] }, { ...a.room, history: [] });
  });

  it('leaves the room as it was when an in-place input is refused', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo');
    sim.join(JULIET, 'Juliet');
    const room = sim.room as RoomState;
    const frozen = toJson(room);
    // A non-occupant's groupchat message and a subject change without permission.
    const r1 = step(room, ROOM, stanza(ROSALINE, `<message type='groupchat' to='${ROOM}'><body>x</body></message>`), makeCtx());
    assert.equal(errorCondition(r1.out[0]?.stanza), 'not-acceptable');
    const r2 = step(r1.room, ROOM, stanza(JULIET, `<message type='groupchat' to='${ROOM}'><subject>s</subject></message>`), makeCtx());
    assert.equal(errorCondition(r2.out[0]?.stanza), 'forbidden');
    assert.equal(toJson(r2.room!), frozen);
  });

  it('builds a groupchat broadcast once: one shared stanza, a head per recipient', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo');
    sim.join(JULIET, 'Juliet');
    const out = sim.send(JULIET, `<message type='groupchat' id='b' to='${ROOM}'><body>hi</body></message>`);
    assert.equal(out.length, 2);
    const shared = out[0]?.broadcast;
    assert.ok(shared);
    assert.equal(shared.stanza.attrs.to, undefined);
    for (const o of out) {
      assert.equal(o.broadcast, shared);
      assert.equal(o.stanza.children, shared.stanza.children);
      const expected: Element = new Element(shared.stanza.name, { ...shared.stanza.attrs, to: o.to });
      expected.children = shared.stanza.children;
      assert.equal(o.stanza.toString(), expected.toString());
    }
  });

  it('ignores session-ended for a missing room', () => {
    const r = step(undefined, ROOM, { kind: 'session-ended', fullJid: ROMEO, sessionId: 's' }, makeCtx());
    assert.deepEqual(r, { room: undefined, out: [], effects: [] });
  });
});

describe('defaultRoomConfig and roomSummary', () => {
  it('applies deployment defaults and derives passwordProtected', () => {
    const c = defaultRoomConfig({ ...makeCtx(), defaults: { persistent: true, password: 'x', historyLength: 5 } });
    assert.equal(c.persistent, true);
    assert.equal(c.passwordProtected, true);
    assert.equal(c.historyLength, 5);
    assert.equal(defaultRoomConfig().whois, 'moderators');
  });

  it('summarises a room', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo', `<field var='muc#roomconfig_publicroom'><value>0</value></field>`);
    assert.deepEqual(roomSummary(sim.room!), { jid: ROOM, name: 'room', public: false, persistent: false, membersOnly: false, occupants: 1 });
  });
});
