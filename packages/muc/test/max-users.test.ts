import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN, JULIET, ROMEO, ROSALINE, Sim, errorCondition, to } from './harness.js';

describe('max users (XEP-0045 §7.2.9)', () => {
  it('refuses a join to a full room with service-unavailable (wait), admitting owners', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo', `<field var='muc#roomconfig_maxusers'><value>2</value></field>`);
    sim.join(JULIET, 'Juliet');
    const out = sim.join(ROSALINE, 'Rosaline');
    assert.equal(errorCondition(out[0]?.stanza), 'service-unavailable');
    assert.equal(out[0]?.stanza.getChild('error')?.attrs.type, 'wait');
    assert.equal(to(sim.join(ADMIN, 'Admin'), ADMIN)[1]?.attrs.type, undefined);
    assert.equal(sim.room!.occupants.size, 3);
  });

  it("'none' means unlimited", () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo', `<field var='muc#roomconfig_maxusers'><value>none</value></field>`);
    assert.equal(sim.room?.config.maxUsers, 0);
  });
});
