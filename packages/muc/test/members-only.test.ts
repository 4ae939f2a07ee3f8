import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NS } from '@parley/xml';
import { JULIET, ROMEO, ROOM, ROSALINE, Sim, errorCondition, to, xShape } from './harness.js';

describe('members-only rooms (XEP-0045 §7.2.6, §10.2)', () => {
  it('refuses non-members with registration-required (auth)', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo', `<field var='muc#roomconfig_membersonly'><value>1</value></field>`);
    const out = sim.join(JULIET, 'Juliet');
    assert.equal(errorCondition(out[0]?.stanza), 'registration-required');
    assert.equal(out[0]?.stanza.getChild('error')?.attrs.type, 'auth');
  });

  it('removes non-members with 322 when the room becomes members-only, before the iq result', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo');
    sim.join(JULIET, 'Juliet');
    sim.send(ROMEO, `<iq type='set' id='m' to='${ROOM}'><query xmlns='${NS.MUC_ADMIN}'><item affiliation='member' jid='user3@localhost'/></query></iq>`);
    sim.join(ROSALINE, 'Rosaline');
    const out = sim.configure(ROMEO, `<field var='muc#roomconfig_membersonly'><value>1</value></field>`);
    assert.equal(xShape(to(out, JULIET)[0]), `status(code=322) item(affiliation=none,jid=${JULIET},role=none) status(code=110)`);
    const romeo = to(out, ROMEO);
    assert.deepEqual(romeo.map((s) => s.name), ['presence', 'iq', 'message']);
    assert.equal(xShape(romeo[0]), `status(code=322) item(affiliation=none,jid=${JULIET},role=none)`);
    assert.equal(xShape(to(out, ROSALINE)[0]), 'status(code=322) item(affiliation=none,role=none)');
    assert.deepEqual([...sim.room!.occupants.values()].map((o) => o.nick), ['Romeo', 'Rosaline']);
  });

  it('advertises muc_membersonly in disco', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo', `<field var='muc#roomconfig_membersonly'><value>1</value></field>`);
    const out = sim.send(ROMEO, `<iq type='get' id='d' to='${ROOM}'><query xmlns='${NS.DISCO_INFO}'/></iq>`);
    const vars = out[0]!.stanza.getChild('query')!.getChildren('feature').map((f) => f.attrs.var);
    assert.ok(vars.includes('muc_membersonly'));
    assert.ok(!vars.includes('muc_open'));
  });
});
