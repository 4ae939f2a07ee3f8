import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { JULIET, ROMEO, ROOM, Sim, to, xShape } from './harness.js';

const ERR = `<error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>`;
const PHONE = 'user2@localhost/phone';

function room(): Sim {
  const sim = new Sim();
  sim.create(ROMEO, 'Romeo');
  sim.join(JULIET, 'Juliet');
  return sim;
}

describe('error kick (XEP-0045 service-error-kick, status 333)', () => {
  it('removes the last session of an occupant after a presence error, with 333 to it and to the others', () => {
    const sim = room();
    const out = sim.send(JULIET, `<presence type='error' to='${ROOM}/Juliet'>${ERR}</presence>`);
    assert.equal(sim.room?.occupants.has('juliet'), false);
    const self = to(out, JULIET);
    assert.equal(self.length, 1);
    assert.equal(self[0]?.attrs.type, 'unavailable');
    assert.equal(self[0]?.getChildText('status'), 'Kicked: service unavailable');
    assert.equal(xShape(self[0]), `status(code=333) item(affiliation=none,jid=${JULIET},role=none) status(code=110)`);
    const other = to(out, ROMEO);
    assert.equal(other.length, 1);
    assert.equal(xShape(other[0]), `status(code=333) item(affiliation=none,jid=${JULIET},role=none)`);
    assert.ok(sim.effects.some((e) => e.kind === 'persist'));
  });

  it('removes the session after a message error to the room or to an occupant', () => {
    const sim = room();
    sim.send(JULIET, `<message type='error' to='${ROOM}'>${ERR}</message>`);
    assert.equal(sim.room?.occupants.has('juliet'), false);
    sim.join(JULIET, 'Juliet');
    const out = sim.send(JULIET, `<message type='error' to='${ROOM}/Romeo'><error type='cancel'><remote-server-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>`);
    assert.equal(sim.room?.occupants.has('juliet'), false);
    assert.equal(to(out, ROMEO)[0]?.getChildText('status'), 'Kicked: remote server not found');
  });

  it('keeps the session after a message error that is not a delivery failure (as Prosody 0.12)', () => {
    const sim = room();
    for (const condition of ['not-acceptable', 'feature-not-implemented', 'forbidden', 'undefined-condition']) {
      const out = sim.send(JULIET, `<message type='error' to='${ROOM}'><error type='cancel'><${condition} xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>`);
      assert.deepEqual(out, [], condition);
    }
    assert.deepEqual(sim.send(JULIET, `<message type='error' to='${ROOM}'><error type='cancel'/></message>`), []);
    assert.equal(sim.room?.occupants.has('juliet'), true);
    for (const condition of ['gone', 'item-not-found', 'recipient-unavailable', 'remote-server-timeout']) {
      sim.join(JULIET, 'Juliet');
      sim.send(JULIET, `<message type='error' to='${ROOM}'><error type='cancel'><${condition} xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>`);
      assert.equal(sim.room?.occupants.has('juliet'), false, condition);
    }
  });

  it('passes other message errors to an occupant JID on to that occupant, from the sender occupant JID (§7.5)', () => {
    const sim = room();
    const out = sim.send(JULIET, `<message type='error' id='pm1' to='${ROOM}/Romeo'><body>hi</body><error type='modify'><not-acceptable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>`);
    assert.equal(sim.room?.occupants.has('juliet'), true);
    assert.equal(out.length, 1);
    const m = to(out, ROMEO)[0]!;
    assert.equal(m.attrs.from, `${ROOM}/Juliet`);
    assert.equal(m.attrs.type, 'error');
    assert.equal(m.attrs.id, 'pm1');
    assert.ok(m.getChild('error')?.getChild('not-acceptable'));
    assert.ok(m.getChild('x', 'http://jabber.org/protocol/muc#user'));
    assert.ok(!m.toString().includes(JULIET), 'no real JID');
    assert.deepEqual(sim.send(JULIET, `<message type='error' to='${ROOM}/Nobody'><error type='modify'><not-acceptable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>`), []);
    assert.deepEqual(sim.send('x@localhost/y', `<message type='error' to='${ROOM}/Romeo'><error type='modify'><not-acceptable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>`), []);
  });

  it('names undefined-condition when the error has no defined condition', () => {
    const sim = room();
    const out = sim.send(JULIET, `<presence type='error' to='${ROOM}/Juliet'><error type='cancel'/></presence>`);
    assert.equal(to(out, JULIET)[0]?.getChildText('status'), 'Kicked: undefined condition');
  });

  it('removes only the failing session of a multi-session nick and publishes the occupant again', () => {
    const sim = room();
    sim.send(PHONE, `<presence to='${ROOM}/Juliet'><x xmlns='http://jabber.org/protocol/muc'/><status>phone</status></presence>`);
    const out = sim.send(PHONE, `<presence type='error' to='${ROOM}/Juliet'>${ERR}</presence>`);
    const occupant = sim.room?.occupants.get('juliet');
    assert.deepEqual(occupant?.sessions.map((s) => s.fullJid), [JULIET]);
    assert.equal(to(out, PHONE).length, 0, 'the failing session is told nothing');
    assert.equal(xShape(to(out, JULIET)[0]), `item(affiliation=none,jid=${JULIET},role=participant) status(code=110)`);
    assert.equal(to(out, JULIET)[0]?.attrs.type, undefined);
    assert.equal(xShape(to(out, ROMEO)[0]), `item(affiliation=none,jid=${JULIET},role=participant)`);
  });

  it('ignores errors from sessions that are not in the room, and never answers an error', () => {
    const sim = room();
    const out = sim.send('someone@localhost/x', `<presence type='error' to='${ROOM}/Juliet'>${ERR}</presence>`);
    assert.deepEqual(out, []);
    assert.equal(sim.room?.occupants.size, 2);
    assert.deepEqual(new Sim().send(JULIET, `<message type='error' to='${ROOM}'>${ERR}</message>`), []);
  });

  it('destroys a temporary room whose last occupant is removed', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo');
    sim.send(ROMEO, `<presence type='error' to='${ROOM}/Romeo'>${ERR}</presence>`);
    assert.equal(sim.room, undefined);
  });
});
