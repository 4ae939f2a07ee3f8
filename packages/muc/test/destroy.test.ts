import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NS } from '@parley/xml';
import { JULIET, ROMEO, ROOM, Sim, errorCondition, to, xShape } from './harness.js';

const DESTROY = `<iq type='set' id='d' to='${ROOM}'><query xmlns='${NS.MUC_OWNER}'><destroy jid='other@conference.localhost'><reason>Macbeth doth come.</reason></destroy></query></iq>`;

describe('destroying a room (XEP-0045 §10.9)', () => {
  it('sends one unavailable presence with <destroy/> to each occupant, then the result', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo', `<field var='muc#roomconfig_persistentroom'><value>1</value></field>`);
    sim.join(JULIET, 'Juliet');
    const out = sim.send(ROMEO, DESTROY);
    const juliet = to(out, JULIET);
    assert.equal(juliet.length, 1);
    assert.equal(juliet[0]!.attrs.from, `${ROOM}/Juliet`);
    assert.equal(xShape(juliet[0]), `destroy(jid=other@conference.localhost)[reason()"Macbeth doth come."] item(affiliation=none,jid=${JULIET},role=none) status(code=110)`);
    assert.deepEqual(to(out, ROMEO).map((s) => s.name), ['presence', 'iq']);
    assert.equal(sim.room, undefined);
    assert.deepEqual(sim.effects.filter((e) => e.kind === 'destroyed'), [{ kind: 'destroyed', reason: 'Macbeth doth come.' }]);
  });

  it('refuses non-owners with forbidden', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo');
    sim.join(JULIET, 'Juliet');
    assert.equal(errorCondition(sim.send(JULIET, DESTROY)[0]?.stanza), 'forbidden');
    assert.ok(sim.room);
  });
});
