import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NS } from '@parley/xml';
import { JULIET, ROMEO, ROOM, Sim, to, xShape } from './harness.js';

describe('moderated rooms (XEP-0045 §5.1.2, §8.3)', () => {
  it('unaffiliated users enter as visitors, members as participants', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo', `<field var='muc#roomconfig_moderatedroom'><value>1</value></field>`);
    let out = sim.join(JULIET, 'Juliet');
    assert.equal(xShape(to(out, JULIET)[1]), `item(affiliation=none,jid=${JULIET},role=visitor) status(code=110)`);
    out = sim.send(ROMEO, `<iq type='set' id='m' to='${ROOM}'><query xmlns='${NS.MUC_ADMIN}'><item affiliation='member' jid='user2@localhost'/></query></iq>`);
    assert.equal(xShape(to(out, JULIET)[0]), `item(affiliation=member,jid=${JULIET},role=participant)[actor(nick=Romeo)] status(code=110)`);
  });

  it('granting voice lets a visitor speak', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo', `<field var='muc#roomconfig_moderatedroom'><value>1</value></field>`);
    sim.join(JULIET, 'Juliet');
    sim.send(ROMEO, `<iq type='set' id='v' to='${ROOM}'><query xmlns='${NS.MUC_ADMIN}'><item nick='Juliet' role='participant'/></query></iq>`);
    const out = sim.send(JULIET, `<message type='groupchat' to='${ROOM}'><body>thanks</body></message>`);
    assert.equal(to(out, ROMEO)[0]!.getChildText('body'), 'thanks');
  });
});
