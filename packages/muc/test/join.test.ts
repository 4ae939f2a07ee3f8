import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NS } from '@parley/xml';
import { ADMIN, JULIET, ROMEO, ROOM, ROSALINE, Sim, errorCondition, to, xShape } from './harness.js';

describe('join (XEP-0045 §7.2)', () => {
  it('creates a locked room owned by the first occupant (§10.1.1)', () => {
    const sim = new Sim();
    sim.join(ROMEO, 'Romeo');
    assert.equal(sim.room?.locked, true);
    assert.deepEqual(sim.room?.affiliations, new Map([['user@localhost', { affiliation: 'owner' }]]));
    assert.equal(sim.room?.occupants.get('romeo')?.role, 'moderator');
    assert.ok(sim.effects.some((e) => e.kind === 'persist'));
  });

  it('sends occupants, self-presence, history, subject in order, then the new presence to others (§7.1)', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo');
    sim.send(ROMEO, `<message type='groupchat' to='${ROOM}' id='m1'><body>hello</body></message>`);
    sim.send(ROMEO, `<message type='groupchat' to='${ROOM}'><subject>Topic</subject></message>`);
    const out = sim.send(JULIET, `<presence to='${ROOM}/Juliet' id='j1'><show>away</show><x xmlns='${NS.MUC}'/></presence>`);
    const juliet = to(out, JULIET);
    assert.deepEqual(
      juliet.map((s) => `${s.name}:${String(s.attrs.from)}`),
      [`presence:${ROOM}/Romeo`, `presence:${ROOM}/Juliet`, `message:${ROOM}/Romeo`, `message:${ROOM}/Romeo`],
    );
    // Semi-anonymous: a participant does not see Romeo's JID.
    assert.equal(xShape(juliet[0]), 'item(affiliation=owner,role=moderator)');
    assert.equal(xShape(juliet[1]), `item(affiliation=none,jid=${JULIET},role=participant) status(code=110)`);
    assert.equal(juliet[1]!.getChildText('show'), 'away');
    assert.equal(juliet[1]!.getChild('x', NS.MUC), undefined, 'the join <x/> is not reflected');
    assert.equal(juliet[2]!.getChildText('body'), 'hello');
    assert.equal(juliet[2]!.getChild('delay', NS.DELAY)?.attrs.from, ROOM);
    assert.equal(juliet[3]!.getChildText('subject'), 'Topic');
    const romeo = to(out, ROMEO);
    assert.equal(romeo.length, 1);
    assert.equal(xShape(romeo[0]), `item(affiliation=none,jid=${JULIET},role=participant)`);
    assert.equal(romeo[0]!.getChildText('show'), 'away');
  });

  it('refuses a nick held by another user with conflict (§7.2.8)', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo');
    const out = sim.join(JULIET, 'Romeo');
    assert.equal(errorCondition(to(out, JULIET)[0]), 'conflict');
    assert.equal(to(out, JULIET)[0]!.getChild('x', NS.MUC)?.name, 'x');
    assert.equal(sim.room!.occupants.size, 1);
  });

  it('lets the same bare JID join its nick from a second resource (§7.2.8)', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo');
    sim.join(JULIET, 'Juliet');
    const out = sim.join('user@localhost/phone', 'Romeo');
    const phone = to(out, 'user@localhost/phone');
    assert.equal(xShape(phone[1]), `item(affiliation=owner,jid=user@localhost/phone,role=moderator) status(code=110)`);
    assert.equal(to(out, JULIET).length, 0, 'others see no change');
    assert.equal(sim.room?.occupants.get('romeo')?.sessions.length, 2);
    const msg = sim.send(JULIET, `<message type='groupchat' to='${ROOM}'><body>hi</body></message>`);
    assert.equal(to(msg, ROMEO).length, 1);
    assert.equal(to(msg, 'user@localhost/phone').length, 1);
  });

  it('answers presence without a nick with jid-malformed (§7.2.1)', () => {
    const sim = new Sim();
    const out = sim.send(ROMEO, `<presence to='${ROOM}'><x xmlns='${NS.MUC}'/></presence>`);
    assert.equal(errorCondition(out[0]?.stanza), 'jid-malformed');
    assert.equal(out[0]?.stanza.getChild('error')?.attrs.type, 'modify');
    assert.equal(sim.room, undefined);
  });

  it('kicks a non-occupant that sends presence without <x/> with 110, 307 and 333 (§7.2.18)', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo');
    const out = sim.send(JULIET, `<presence to='${ROOM}/Juliet'/>`);
    assert.equal(out.length, 1);
    assert.equal(out[0]?.to, JULIET);
    assert.equal(out[0]?.stanza.attrs.type, 'unavailable');
    assert.equal(out[0]?.stanza.attrs.from, `${ROOM}/Juliet`);
    assert.equal(xShape(out[0]?.stanza), 'status(code=307) status(code=333) item(affiliation=none,role=none)[reason()"You are not in the room."] status(code=110)');
    assert.equal(sim.room?.occupants.size, 1, 'not joined');
    assert.ok(!sim.effects.some((e) => e.kind === 'persist'));
  });

  it('does not create a room for presence without <x/> (§7.2.18)', () => {
    const sim = new Sim();
    const out = sim.send(JULIET, `<presence to='${ROOM}/Juliet'/>`);
    assert.equal(sim.room, undefined);
    assert.equal(xShape(out[0]?.stanza), 'status(code=307) status(code=333) item(affiliation=none,role=none)[reason()"You are not in the room."] status(code=110)');
  });

  it('still treats presence without <x/> from a joined session as a presence update (§7.7)', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo');
    sim.join(JULIET, 'Juliet');
    const out = sim.send(JULIET, `<presence to='${ROOM}/Juliet'><show>away</show></presence>`);
    assert.equal(to(out, ROMEO)[0]?.getChildText('show'), 'away');
  });

  it('shows each joiner the occupant presence as it is now, after it changed and changed back (§7.2.3)', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo');
    const romeoAsShown = (out: ReturnType<Sim['join']>, joiner: string) => to(out, joiner).find((s) => s.attrs.from === `${ROOM}/Romeo`);
    assert.equal(romeoAsShown(sim.join(JULIET, 'Juliet'), JULIET)?.getChildText('show'), null);
    sim.send(ROMEO, `<presence to='${ROOM}/Romeo'><show>dnd</show><status>busy</status></presence>`);
    const second = romeoAsShown(sim.join(ROSALINE, 'Rosaline'), ROSALINE);
    assert.equal(second?.getChildText('show'), 'dnd');
    assert.equal(second?.getChildText('status'), 'busy');
    sim.send(ROMEO, `<presence to='${ROOM}/Romeo'/>`);
    sim.send(ROSALINE, `<presence type='unavailable' to='${ROOM}/Rosaline'/>`);
    const third = romeoAsShown(sim.join(ROSALINE, 'Rosaline'), ROSALINE);
    assert.equal(third?.getChildText('show'), null);
    assert.equal(xShape(third), 'item(affiliation=owner,role=moderator)');
  });

  it('resends the join sequence to a joined session that sends an x-tagged join again (§7.2.1)', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo');
    sim.join(JULIET, 'Juliet');
    const out = sim.join(JULIET, 'Juliet');
    assert.deepEqual(to(out, JULIET).map((s) => s.name), ['presence', 'presence', 'message']);
    assert.equal(to(out, ROMEO).length, 0, 'unchanged presence is not rebroadcast');
  });

  it('shows real JIDs to everyone and adds status 100 in a non-anonymous room (§7.2.3)', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo', `<field var='muc#roomconfig_whois'><value>anyone</value></field>`);
    const out = sim.join(JULIET, 'Juliet');
    const juliet = to(out, JULIET);
    assert.equal(xShape(juliet[0]), `item(affiliation=owner,jid=${ROMEO},role=moderator)`);
    assert.equal(xShape(juliet[1]), `status(code=100) item(affiliation=none,jid=${JULIET},role=participant) status(code=110)`);
  });

  it('treats service admins as owners', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo', `<field var='muc#roomconfig_membersonly'><value>1</value></field>`);
    const out = sim.join(ADMIN, 'Admin');
    assert.equal(xShape(to(out, ADMIN)[1]), `item(affiliation=owner,jid=${ADMIN},role=moderator) status(code=110)`);
    const refused = sim.join(ROSALINE, 'Rosaline');
    assert.equal(errorCondition(refused[0]?.stanza), 'registration-required');
  });
});
