import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { JULIET, ROMEO, ROOM, Sim, errorCondition, to, xShape } from './harness.js';

describe('nick change (XEP-0045 §7.6)', () => {
  it('sends unavailable with 303 and the new nick, then the new presence', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo');
    sim.join(JULIET, 'Juliet');
    const out = sim.send(JULIET, `<presence to='${ROOM}/Jules'/>`);
    const juliet = to(out, JULIET);
    assert.equal(juliet[0]!.attrs.from, `${ROOM}/Juliet`);
    assert.equal(juliet[0]!.attrs.type, 'unavailable');
    assert.equal(xShape(juliet[0]), `status(code=303) item(affiliation=none,jid=${JULIET},nick=Jules,role=participant) status(code=110)`);
    assert.equal(juliet[1]!.attrs.from, `${ROOM}/Jules`);
    assert.equal(xShape(juliet[1]), `item(affiliation=none,jid=${JULIET},role=participant) status(code=110)`);
    const romeo = to(out, ROMEO);
    assert.equal(xShape(romeo[0]), `status(code=303) item(affiliation=none,jid=${JULIET},nick=Jules,role=participant)`);
    assert.equal(romeo[1]!.attrs.from, `${ROOM}/Jules`);
    assert.deepEqual([...sim.room!.occupants.values()].map((o) => o.nick), ['Romeo', 'Jules']);
  });

  it('refuses a nick in use with conflict', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo');
    sim.join(JULIET, 'Juliet');
    const out = sim.send(JULIET, `<presence to='${ROOM}/Romeo'/>`);
    assert.equal(errorCondition(to(out, JULIET)[0]), 'conflict');
    assert.equal(to(out, ROMEO).length, 0);
  });

  it('refuses a nick reserved by someone else (§7.12)', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo');
    sim.send(ROMEO, `<iq type='set' id='r' to='${ROOM}'><query xmlns='http://jabber.org/protocol/muc#admin'><item affiliation='member' jid='user3@localhost' nick='Rosa'/></query></iq>`);
    sim.join(JULIET, 'Juliet');
    const out = sim.send(JULIET, `<presence to='${ROOM}/Rosa'/>`);
    assert.equal(errorCondition(to(out, JULIET)[0]), 'conflict');
  });
});
