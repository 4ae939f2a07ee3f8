import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { JULIET, ROMEO, ROOM, ROSALINE, Sim, to, xShape } from './harness.js';

describe('presence broadcast (XEP-0045 §7.2.2, §7.7)', () => {
  it('reflects a presence change to everyone, self with 110', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo');
    sim.join(JULIET, 'Juliet');
    const out = sim.send(JULIET, `<presence to='${ROOM}/Juliet'><show>xa</show><x xmlns='http://jabber.org/protocol/muc#user'><status code='201'/></x></presence>`);
    const romeo = to(out, ROMEO);
    assert.equal(romeo[0]!.getChildText('show'), 'xa');
    assert.equal(xShape(romeo[0]), `item(affiliation=none,jid=${JULIET},role=participant)`, 'client muc#user data is not reflected');
    assert.equal(xShape(to(out, JULIET)[0]), `item(affiliation=none,jid=${JULIET},role=participant) status(code=110)`);
  });

  it('does not broadcast roles left out of muc#roomconfig_presencebroadcast', () => {
    const sim = new Sim();
    sim.create(
      ROMEO,
      'Romeo',
      `<field var='muc#roomconfig_moderatedroom'><value>1</value></field>` +
        `<field var='muc#roomconfig_presencebroadcast'><value>moderator</value><value>participant</value></field>`,
    );
    assert.deepEqual(sim.room?.config.presenceBroadcast, ['moderator', 'participant']);
    const out = sim.join(JULIET, 'Juliet');
    assert.equal(sim.room?.occupants.get('juliet')?.role, 'visitor');
    assert.equal(to(out, ROMEO).length, 0, 'visitor joins silently');
    assert.equal(to(out, JULIET)[1]!.attrs.from, `${ROOM}/Juliet`, 'self-presence is still sent');
    const later = sim.join(ROSALINE, 'Rosaline');
    assert.deepEqual(to(later, ROSALINE).map((s) => s.attrs.from).filter((f) => f === `${ROOM}/Juliet`), [], 'visitors are not listed to joiners');
  });

  it('ignores values it does not offer in the presencebroadcast field, keeping the rest of the form (none is offered)', () => {
    const sim = new Sim();
    sim.join(ROMEO, 'Romeo');
    const out = sim.configure(
      ROMEO,
      `<field var='muc#roomconfig_presencebroadcast'><value>moderator</value><value>none</value><value>king</value></field>` +
        `<field var='muc#roomconfig_roomname'><value>Kept</value></field>`,
    );
    assert.equal(to(out, ROMEO)[0]!.attrs.type, 'result');
    assert.deepEqual(sim.room?.config.presenceBroadcast, ['moderator', 'none']);
    assert.equal(sim.room?.config.name, 'Kept');
  });
});
