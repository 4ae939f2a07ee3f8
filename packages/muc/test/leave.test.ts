import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { JULIET, ROMEO, ROOM, Sim, to, xShape } from './harness.js';

describe('leave (XEP-0045 §7.14)', () => {
  it('sends unavailable self-presence with 110 and tells the others, keeping the status text', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo');
    sim.join(JULIET, 'Juliet');
    const out = sim.send(JULIET, `<presence type='unavailable' to='${ROOM}/Juliet'><status>bye</status></presence>`);
    const juliet = to(out, JULIET);
    assert.equal(juliet[0]!.attrs.type, 'unavailable');
    assert.equal(xShape(juliet[0]), `item(affiliation=none,jid=${JULIET},role=none) status(code=110)`);
    const romeo = to(out, ROMEO);
    assert.equal(xShape(romeo[0]), `item(affiliation=none,jid=${JULIET},role=none)`);
    assert.equal(romeo[0]!.getChildText('status'), 'bye');
    assert.equal(sim.room?.occupants.get('juliet'), undefined);
  });

  it('destroys a temporary room when the last occupant leaves', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo');
    sim.send(ROMEO, `<presence type='unavailable' to='${ROOM}/Romeo'/>`);
    assert.equal(sim.room, undefined);
    assert.deepEqual(sim.effects.filter((e) => e.kind !== 'log'), [{ kind: 'destroyed' }]);
  });

  it('keeps a persistent room when it empties', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo', `<field var='muc#roomconfig_persistentroom'><value>1</value></field>`);
    sim.send(ROMEO, `<presence type='unavailable' to='${ROOM}/Romeo'/>`);
    assert.ok(sim.room !== undefined);
    assert.equal(sim.room.occupants.size, 0);
    assert.ok(sim.effects.some((e) => e.kind === 'persist'));
  });

  it('ignores unavailable presence from non-occupants and to rooms that do not exist (§17.3)', () => {
    const sim = new Sim();
    assert.deepEqual(sim.send(ROMEO, `<presence type='unavailable' to='${ROOM}/Romeo'/>`), []);
    assert.equal(sim.room, undefined);
    sim.create(ROMEO, 'Romeo');
    assert.deepEqual(sim.send(JULIET, `<presence type='unavailable' to='${ROOM}/Juliet'/>`), []);
  });

  it('session-ended removes the session without sending anything to it', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo');
    sim.join(JULIET, 'Juliet');
    const out = sim.input({ kind: 'session-ended', fullJid: JULIET, sessionId: `s:${JULIET}` });
    assert.equal(to(out, JULIET).length, 0);
    assert.equal(to(out, ROMEO)[0]!.attrs.type, 'unavailable');
    assert.equal(sim.room?.occupants.get('juliet'), undefined);
  });

  it('session-ended with another session id changes nothing', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo');
    const out = sim.input({ kind: 'session-ended', fullJid: ROMEO, sessionId: 'other' });
    assert.deepEqual(out, []);
    assert.ok(sim.room?.occupants.get('romeo'));
  });

  it('gateway-down removes every session of that gateway', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo', `<field var='muc#roomconfig_persistentroom'><value>1</value></field>`);
    sim.join(JULIET, 'Juliet');
    sim.input({ kind: 'gateway-down', gatewayId: 'gw1' });
    assert.equal(sim.room?.occupants.size, 0);
  });

  it('a multi-session occupant stays while one session leaves; others see the new primary', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo');
    sim.join(JULIET, 'Juliet');
    sim.join('user@localhost/phone', 'Romeo');
    const out = sim.send(ROMEO, `<presence type='unavailable' to='${ROOM}/Romeo'/>`);
    assert.equal(xShape(to(out, ROMEO)[0]), `item(affiliation=owner,jid=${ROMEO},role=none) status(code=110)`);
    const juliet = to(out, JULIET);
    assert.equal(juliet.length, 1);
    assert.equal(juliet[0]!.attrs.type, undefined);
    assert.equal(sim.room?.occupants.get('romeo')?.sessions.length, 1);
  });
});
