import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { JULIET, ROMEO, ROOM, Sim, to } from './harness.js';

describe('session-moved (a XEP-0198 resumption on another gateway)', () => {
  it('routes the occupant session to the new gateway, sends nothing and persists', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo');
    sim.join(JULIET, 'Juliet');
    const out = sim.input({ kind: 'session-moved', fullJid: JULIET, sessionId: `s:${JULIET}`, gatewayId: 'gw2' });
    assert.deepEqual(out, []);
    assert.ok(sim.effects.some((e) => e.kind === 'persist'));
    assert.equal(sim.room?.occupants.get('juliet')?.sessions[0]?.gatewayId, 'gw2');
    // The room now addresses Juliet through gw2; a gateway-down of gw1 leaves her in.
    sim.input({ kind: 'gateway-down', gatewayId: 'gw1' });
    assert.ok(sim.room?.occupants.get('juliet'));
    assert.equal(sim.room?.occupants.get('romeo'), undefined);
    const msg = sim.send(JULIET, `<message type='groupchat' to='${ROOM}'><body>still here</body></message>`);
    assert.equal(to(msg, JULIET)[0]?.getChildText('body'), 'still here');
  });

  it('another session id, or a room without that session, changes nothing', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo');
    assert.deepEqual(sim.input({ kind: 'session-moved', fullJid: ROMEO, sessionId: 'other', gatewayId: 'gw2' }), []);
    assert.equal(sim.room?.occupants.get('romeo')?.sessions[0]?.gatewayId, 'gw1');
    assert.ok(!sim.effects.some((e) => e.kind === 'persist'));
  });
});
