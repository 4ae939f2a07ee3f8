import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NS } from '@parley/xml';
import { JULIET, ROMEO, ROOM, ROSALINE, Sim, errorCondition, to, xShape } from './harness.js';

function room(fields = ''): Sim {
  const sim = new Sim();
  sim.create(ROMEO, 'Romeo', fields);
  sim.send(ROMEO, `<iq type='set' id='m' to='${ROOM}'><query xmlns='${NS.MUC_ADMIN}'><item affiliation='member' jid='user3@localhost' nick='Rosa'/></query></iq>`);
  sim.send(JULIET, `<presence to='${ROOM}/Juliet'><x xmlns='${NS.MUC}'/><show>dnd</show></presence>`);
  return sim;
}

describe('presence probes to occupant JIDs (XEP-0045 §17.3 rule 4)', () => {
  it("answers an occupant's probe with the target's current presence, real JID to moderators", () => {
    const sim = room();
    const out = sim.send(ROMEO, `<presence type='probe' to='${ROOM}/Juliet'/>`);
    assert.equal(out.length, 1);
    const p = to(out, ROMEO)[0];
    assert.equal(p?.attrs.from, `${ROOM}/Juliet`);
    assert.equal(p?.attrs.type, undefined);
    assert.equal(p?.getChildText('show'), 'dnd');
    assert.equal(xShape(p), `item(affiliation=none,jid=${JULIET},role=participant)`);
  });

  it('hides real JIDs from participants of a semi-anonymous room', () => {
    const sim = room();
    const out = sim.send(JULIET, `<presence type='probe' to='${ROOM}/Romeo'/>`);
    assert.equal(xShape(to(out, JULIET)[0]), 'item(affiliation=owner,role=moderator)');
  });

  it('answers for a role whose presence is not broadcast', () => {
    const sim = room(`<field var='muc#roomconfig_presencebroadcast'><value>moderator</value></field>`);
    const out = sim.send(ROMEO, `<presence type='probe' to='${ROOM}/Juliet'/>`);
    assert.equal(xShape(to(out, ROMEO)[0]), `item(affiliation=none,jid=${JULIET},role=participant)`);
  });

  it('answers a probe to an absent registered nick with unavailable presence, role none', () => {
    const sim = room();
    const owner = to(sim.send(ROMEO, `<presence type='probe' to='${ROOM}/Rosa'/>`), ROMEO)[0];
    assert.equal(owner?.attrs.type, 'unavailable');
    assert.equal(owner?.attrs.from, `${ROOM}/Rosa`);
    assert.equal(xShape(owner), 'item(affiliation=member,jid=user3@localhost,nick=Rosa,role=none)');
    const participant = to(sim.send(JULIET, `<presence type='probe' to='${ROOM}/rosa'/>`), JULIET)[0];
    assert.equal(xShape(participant), 'item(affiliation=member,nick=Rosa,role=none)');
  });

  it('ignores a probe to a nick nobody holds or registered', () => {
    assert.deepEqual(room().send(ROMEO, `<presence type='probe' to='${ROOM}/Nobody'/>`), []);
  });

  it('refuses a probe from a non-occupant with not-acceptable, and changes nothing', () => {
    const sim = room();
    const out = sim.send(ROSALINE, `<presence type='probe' to='${ROOM}/Juliet'/>`);
    assert.equal(errorCondition(to(out, ROSALINE)[0]), 'not-acceptable');
    assert.equal(sim.room?.occupants.has('rosa'), false, 'a probe is not a join (§17.3 rule 1)');
    assert.ok(!sim.effects.some((e) => e.kind === 'persist'));
  });

  it('does not create a room', () => {
    const sim = new Sim();
    assert.deepEqual(sim.send(ROMEO, `<presence type='probe' to='${ROOM}/Romeo'/>`), []);
    assert.equal(sim.room, undefined);
  });
});
