import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NS } from '@parley/xml';
import { JULIET, ROMEO, ROOM, ROSALINE, Sim, errorCondition, to } from './harness.js';

describe('private messages (XEP-0045 §7.5)', () => {
  it('routes to every session of the nick from room/sender with a muc#user x', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo');
    sim.join(JULIET, 'Juliet');
    sim.join('user2@localhost/tablet', 'Juliet');
    const out = sim.send(ROMEO, `<message type='chat' id='p1' to='${ROOM}/Juliet'><body>psst</body></message>`);
    assert.equal(out.length, 2);
    for (const o of out) {
      assert.equal(o.stanza.attrs.from, `${ROOM}/Romeo`);
      assert.equal(o.stanza.attrs.type, 'chat');
      assert.equal(o.stanza.attrs.id, 'p1');
      assert.ok(o.stanza.getChild('x', NS.MUC_USER));
      assert.ok(o.route);
    }
    assert.deepEqual(out.map((o) => o.to).sort(), [JULIET, 'user2@localhost/tablet']);
  });

  it('refuses type groupchat, unknown nicks and non-occupants', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo');
    sim.join(JULIET, 'Juliet');
    assert.equal(errorCondition(sim.send(ROMEO, `<message type='groupchat' to='${ROOM}/Juliet'><body>x</body></message>`)[0]?.stanza), 'bad-request');
    assert.equal(errorCondition(sim.send(ROMEO, `<message type='chat' to='${ROOM}/Nobody'><body>x</body></message>`)[0]?.stanza), 'item-not-found');
    assert.equal(errorCondition(sim.send(ROSALINE, `<message type='chat' to='${ROOM}/Juliet'><body>x</body></message>`)[0]?.stanza), 'not-acceptable');
  });

  it('follows muc#roomconfig_allowpm', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo', `<field var='muc#roomconfig_allowpm'><value>moderators</value></field>`);
    sim.join(JULIET, 'Juliet');
    assert.equal(errorCondition(sim.send(JULIET, `<message type='chat' to='${ROOM}/Romeo'><body>x</body></message>`)[0]?.stanza), 'not-allowed');
    assert.equal(sim.send(ROMEO, `<message type='chat' to='${ROOM}/Juliet'><body>x</body></message>`)[0]?.to, JULIET);
  });

  it('answers iq to an occupant JID itself when it has no forward key (forwarding: iq-forward.test.ts)', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo');
    sim.join(JULIET, 'Juliet');
    const iq = `<iq type='get' id='v' to='${ROOM}/Juliet'><query xmlns='jabber:iq:version'/></iq>`;
    assert.equal(errorCondition(sim.send(ROMEO, iq)[0]?.stanza), 'service-unavailable');
    // XEP-0410 §3.2 / §17.4: a requester that is not joined gets not-acceptable.
    assert.equal(errorCondition(sim.send(ROSALINE, iq)[0]?.stanza), 'not-acceptable');
  });
});
