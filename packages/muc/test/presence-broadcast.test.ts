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

describe('presence broadcast changes (XEP-0045 §10.2 presencebroadcast, §8.4 revoking voice; as Prosody 0.12)', () => {
  const PB = (...roles: string[]) => `<field var='muc#roomconfig_presencebroadcast'>${roles.map((r) => `<value>${r}</value>`).join('')}</field>`;

  /** Romeo owner (moderator), Juliet participant, presence of moderators and participants broadcast. */
  function room(): Sim {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo', PB('moderator', 'participant'));
    sim.join(JULIET, 'Juliet');
    return sim;
  }

  it('a role change to a role that is not broadcast shows the occupant leaving to the others (ii)', () => {
    const sim = room();
    sim.send(JULIET, `<presence to='${ROOM}/Juliet'><status>here</status></presence>`);
    const out = sim.send(ROMEO, `<iq type='set' id='v' to='${ROOM}'><query xmlns='http://jabber.org/protocol/muc#admin'><item nick='Juliet' role='visitor'/></query></iq>`);
    const self = to(out, JULIET);
    assert.equal(self.length, 1);
    assert.equal(self[0]!.attrs.type, undefined);
    assert.equal(xShape(self[0]), `item(affiliation=none,jid=${JULIET},role=visitor)[actor(nick=Romeo)] status(code=110)`);
    const romeo = to(out, ROMEO);
    assert.equal(romeo.length, 2);
    assert.equal(romeo[0]!.attrs.type, 'unavailable');
    assert.equal(romeo[0]!.attrs.from, `${ROOM}/Juliet`);
    assert.equal(romeo[0]!.getChildText('status'), 'here', 'with the reflected presence, as Prosody');
    assert.equal(xShape(romeo[0]), `item(affiliation=none,jid=${JULIET},role=visitor)[actor(jid=${ROMEO},nick=Romeo)]`);
    assert.equal(romeo[1]!.attrs.type, 'result', 'before the iq result');
    // Voice again: the occupant is announced as it comes back.
    const back = to(sim.send(ROMEO, `<iq type='set' id='v2' to='${ROOM}'><query xmlns='http://jabber.org/protocol/muc#admin'><item nick='Juliet' role='participant'/></query></iq>`), ROMEO);
    assert.equal(back[0]!.attrs.type, undefined);
    assert.equal(xShape(back[0]), `item(affiliation=none,jid=${JULIET},role=participant)[actor(jid=${ROMEO},nick=Romeo)]`);
  });

  it('a role change between roles that are not broadcast sends the others nothing', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo', PB('moderator'));
    sim.join(JULIET, 'Juliet');
    const out = sim.send(ROMEO, `<iq type='set' id='v' to='${ROOM}'><query xmlns='http://jabber.org/protocol/muc#admin'><item nick='Juliet' role='visitor'/></query></iq>`);
    assert.deepEqual(to(out, ROMEO).map((s) => s.name), ['iq']);
    assert.equal(to(out, JULIET).length, 1);
  });

  it('a configuration change announces occupants whose role becomes broadcast, and the ones whose role stops being broadcast as leaving (i)', () => {
    const sim = room();
    sim.send(ROMEO, `<iq type='set' id='v' to='${ROOM}'><query xmlns='http://jabber.org/protocol/muc#admin'><item nick='Juliet' role='visitor'/></query></iq>`);
    sim.join(ROSALINE, 'Rosaline');
    let out = sim.configure(ROMEO, PB('moderator', 'participant', 'visitor'), 'c1');
    let romeo = to(out, ROMEO);
    assert.deepEqual(romeo.map((s) => `${s.name}:${s.attrs.type ?? ''}:${s.attrs.from}`), [
      `presence::${ROOM}/Juliet`,
      `iq:result:${ROOM}`,
      `message:groupchat:${ROOM}`,
    ]);
    assert.equal(xShape(romeo[0]), `item(affiliation=none,jid=${JULIET},role=visitor)`);
    assert.equal(xShape(to(out, ROSALINE)[0]), 'item(affiliation=none,role=visitor)');
    const juliet = to(out, JULIET);
    assert.equal(xShape(juliet[0]), `item(affiliation=none,jid=${JULIET},role=visitor) status(code=110)`, 'self-presence again');
    assert.equal(juliet[1]!.name, 'message');

    out = sim.configure(ROMEO, PB('moderator'), 'c2');
    romeo = to(out, ROMEO);
    assert.deepEqual(romeo.map((s) => `${s.name}:${s.attrs.type ?? ''}:${s.attrs.from}`), [
      `presence:unavailable:${ROOM}/Juliet`,
      `presence:unavailable:${ROOM}/Rosaline`,
      `iq:result:${ROOM}`,
      `message:groupchat:${ROOM}`,
    ]);
    assert.equal(xShape(romeo[1]), `item(affiliation=none,jid=${ROSALINE},role=participant)`);
    assert.equal(romeo[1]!.getChildren('x').length, 1, 'no presence content, as Prosody');
    const juliet2 = to(out, JULIET);
    assert.deepEqual(juliet2.map((s) => `${s.name}:${s.attrs.type ?? ''}:${s.attrs.from}`), [
      `presence::${ROOM}/Juliet`,
      `presence:unavailable:${ROOM}/Rosaline`,
      `message:groupchat:${ROOM}`,
    ]);
    assert.equal(xShape(juliet2[0]), `item(affiliation=none,jid=${JULIET},role=visitor) status(code=110)`);

    out = sim.configure(ROMEO, PB('moderator'), 'c3');
    assert.deepEqual(to(out, ROMEO).map((s) => s.name), ['iq'], 'no change, nothing announced');
  });
});
