import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NS } from '@parley/xml';
import { JULIET, ROMEO, ROOM, ROSALINE, Sim, errorCondition, to, xShape } from './harness.js';

function role(items: string, type = 'set'): string {
  return `<iq type='${type}' id='r' to='${ROOM}'><query xmlns='${NS.MUC_ADMIN}'>${items}</query></iq>`;
}

describe('roles (XEP-0045 §5.1, §8)', () => {
  it('kicks with 307 and actor (§8.2)', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo');
    sim.join(JULIET, 'Juliet');
    sim.join(ROSALINE, 'Rosaline');
    const out = sim.send(ROMEO, role(`<item nick='Juliet' role='none'><reason>Avaunt</reason></item>`));
    assert.equal(xShape(to(out, JULIET)[0]), `status(code=307) item(affiliation=none,jid=${JULIET},role=none)[actor(nick=Romeo) reason()"Avaunt"] status(code=110)`);
    assert.equal(xShape(to(out, ROSALINE)[0]), `status(code=307) item(affiliation=none,role=none)[actor(nick=Romeo) reason()"Avaunt"]`);
    assert.deepEqual(to(out, ROMEO).map((s) => s.name), ['presence', 'iq']);
    assert.equal(sim.room?.occupants.get('juliet'), undefined);
  });

  it('refuses participants (forbidden), kicking owners (not-allowed) and kicking oneself (conflict)', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo');
    sim.join(JULIET, 'Juliet');
    assert.equal(errorCondition(sim.send(JULIET, role(`<item nick='Romeo' role='none'/>`))[0]?.stanza), 'forbidden');
    sim.send(ROMEO, role(`<item nick='Juliet' role='moderator'/>`));
    assert.equal(sim.room?.occupants.get('juliet')?.role, 'moderator');
    assert.equal(errorCondition(sim.send(JULIET, role(`<item nick='Romeo' role='none'/>`))[0]?.stanza), 'not-allowed');
    assert.equal(errorCondition(sim.send(ROMEO, role(`<item nick='Romeo' role='none'/>`))[0]?.stanza), 'conflict');
    assert.equal(errorCondition(sim.send(ROMEO, role(`<item nick='Nobody' role='none'/>`))[0]?.stanza), 'item-not-found');
  });

  it('a mere moderator may voice and devoice but not grant moderator', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo', `<field var='muc#roomconfig_moderatedroom'><value>1</value></field>`);
    sim.join(JULIET, 'Juliet');
    sim.join(ROSALINE, 'Rosaline');
    sim.send(ROMEO, role(`<item nick='Juliet' role='moderator'/>`));
    const out = sim.send(JULIET, role(`<item nick='Rosaline' role='participant'/>`));
    assert.equal(xShape(to(out, ROSALINE)[0]), `item(affiliation=none,jid=${ROSALINE},role=participant)[actor(nick=Juliet)] status(code=110)`);
    // §8.3: a participant does not see real JIDs in a semi-anonymous room: the actor by nick only.
    assert.equal(xShape(to(out, ROMEO)[0]), `item(affiliation=none,jid=${ROSALINE},role=participant)[actor(jid=${JULIET},nick=Juliet)]`);
    assert.equal(errorCondition(sim.send(JULIET, role(`<item nick='Rosaline' role='moderator'/>`))[0]?.stanza), 'not-allowed');
  });

  it('lists occupants by role for moderators (§8.5)', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo');
    sim.join(JULIET, 'Juliet');
    const out = sim.send(ROMEO, role(`<item role='participant'/>`, 'get'));
    const item = out[0]!.stanza.getChild('query')!.getChild('item')!;
    assert.deepEqual({ ...item.attrs }, { affiliation: 'none', nick: 'Juliet', role: 'participant', jid: JULIET });
    assert.equal(errorCondition(sim.send(JULIET, role(`<item role='participant'/>`, 'get'))[0]?.stanza), 'forbidden');
  });
});
