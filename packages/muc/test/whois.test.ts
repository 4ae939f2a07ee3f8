import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { JULIET, ROMEO, ROSALINE, Sim, to, xShape } from './harness.js';

describe('whois (XEP-0045 §7.2.3, §7.2.4)', () => {
  it('semi-anonymous: moderators see real JIDs, participants do not', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo');
    sim.join(JULIET, 'Juliet');
    const out = sim.join(ROSALINE, 'Rosaline');
    assert.equal(xShape(to(out, ROMEO)[0]), `item(affiliation=none,jid=${ROSALINE},role=participant)`);
    assert.equal(xShape(to(out, JULIET)[0]), 'item(affiliation=none,role=participant)');
  });

  it('non-anonymous: everyone sees real JIDs', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo', `<field var='muc#roomconfig_whois'><value>anyone</value></field>`);
    sim.join(JULIET, 'Juliet');
    const out = sim.join(ROSALINE, 'Rosaline');
    assert.equal(xShape(to(out, JULIET)[0]), `item(affiliation=none,jid=${ROSALINE},role=participant)`);
  });
});
