import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NS } from '@parley/xml';
import { JULIET, ROMEO, ROOM, Sim, errorCondition, to } from './harness.js';

describe('room lock (XEP-0045 §10.1, §7.2.10)', () => {
  it('refuses others with item-not-found until the owner configures the room', () => {
    const sim = new Sim();
    sim.join(ROMEO, 'Romeo');
    const out = sim.join(JULIET, 'Juliet');
    assert.equal(errorCondition(out[0]?.stanza), 'item-not-found');
    assert.equal(out[0]?.stanza.getChild('error')?.attrs.by, ROOM);
    const disco = sim.send(JULIET, `<iq type='get' id='d' to='${ROOM}'><query xmlns='${NS.DISCO_INFO}'/></iq>`);
    assert.equal(errorCondition(disco[0]?.stanza), 'item-not-found');
    sim.configure(ROMEO, '');
    assert.equal(to(sim.join(JULIET, 'Juliet'), JULIET).length, 3);
  });

  it('destroys a locked room when its creator leaves, even if rooms default to persistent', () => {
    const sim = new Sim();
    sim.ctx = { ...sim.ctx, defaults: { persistent: true } };
    sim.join(ROMEO, 'Romeo');
    assert.equal(sim.room?.config.persistent, true);
    sim.send(ROMEO, `<presence type='unavailable' to='${ROOM}/Romeo'/>`);
    assert.equal(sim.room, undefined);
  });
});
