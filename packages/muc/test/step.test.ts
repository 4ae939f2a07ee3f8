import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NS } from '@parley/xml';
import { defaultRoomConfig, roomSummary, step, type RoomState } from '@parley/muc';
import { JULIET, ROMEO, ROOM, Sim, errorCondition, makeCtx, xml } from './harness.js';

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

  it('does not mutate its room argument and behaves the same after a JSON round trip', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo');
    sim.join(JULIET, 'Juliet');
    const room = sim.room as RoomState;
    const frozen = JSON.stringify(room);
    const input = () => stanza(JULIET, `<message type='groupchat' id='z' to='${ROOM}'><body>hi</body></message>`);
    const a = step(room, ROOM, input(), makeCtx());
    const b = step(JSON.parse(frozen) as RoomState, ROOM, input(), makeCtx());
    assert.equal(JSON.stringify(room), frozen);
    assert.deepEqual(a.out.map((o) => [o.to, o.stanza.toString()]), b.out.map((o) => [o.to, o.stanza.toString()]));
    assert.deepEqual(a.effects, b.effects);
    assert.deepEqual(JSON.parse(JSON.stringify(a.room)), a.room);
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
