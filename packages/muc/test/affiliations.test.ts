import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NS } from '@parley/xml';
import { JULIET, ROMEO, ROOM, ROSALINE, Sim, errorCondition, to, xShape } from './harness.js';

function admin(items: string, type = 'set', id = 'a'): string {
  return `<iq type='${type}' id='${id}' to='${ROOM}'><query xmlns='${NS.MUC_ADMIN}'>${items}</query></iq>`;
}

describe('affiliations (XEP-0045 §9, §10)', () => {
  it('bans an occupant with 301, actor and reason, then answers (§9.1)', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo');
    sim.join(JULIET, 'Juliet');
    const out = sim.send(ROMEO, admin(`<item affiliation='outcast' jid='user2@localhost'><reason>Treason</reason></item>`));
    assert.equal(xShape(to(out, JULIET)[0]), `status(code=301) item(affiliation=outcast,jid=${JULIET},role=none)[actor(nick=Romeo) reason()"Treason"] status(code=110)`);
    const romeo = to(out, ROMEO);
    assert.equal(xShape(romeo[0]), `status(code=301) item(affiliation=outcast,jid=${JULIET},role=none)[actor(jid=${ROMEO},nick=Romeo) reason()"Treason"]`);
    assert.equal(romeo[1]!.attrs.type, 'result');
    assert.deepEqual(sim.room?.affiliations.get('user2@localhost'), { affiliation: 'outcast', reason: 'Treason' });
    const again = sim.join(JULIET, 'Juliet');
    assert.equal(errorCondition(again[0]?.stanza), 'forbidden');
    const list = sim.send(ROMEO, admin(`<item affiliation='outcast'/>`, 'get'));
    assert.equal(list[0]!.stanza.getChild('query')!.getChildElements().map((e) => e.toString()).join(''), `<item affiliation="outcast" jid="user2@localhost"><reason>Treason</reason></item>`);
  });

  it('updates the presence of an occupant whose affiliation changes', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo');
    sim.join(JULIET, 'Juliet');
    const out = sim.send(ROMEO, admin(`<item affiliation='admin' jid='user2@localhost'/>`));
    // §9.3 ff.: the announcement names the actor (nick only in self-presence, as Prosody does).
    assert.equal(xShape(to(out, JULIET)[0]), `item(affiliation=admin,jid=${JULIET},role=moderator)[actor(nick=Romeo)] status(code=110)`);
    assert.equal(xShape(to(out, ROMEO)[0]), `item(affiliation=admin,jid=${JULIET},role=moderator)[actor(jid=${ROMEO},nick=Romeo)]`);
    assert.equal(to(out, ROMEO)[1]!.attrs.type, 'result');
    assert.equal(sim.room?.occupants.get('juliet')?.role, 'moderator');
  });

  it('only owners touch admins and owners; admins get forbidden / not-allowed (§9.1, §10.3)', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo');
    sim.send(ROMEO, admin(`<item affiliation='admin' jid='user2@localhost'/>`));
    sim.join(JULIET, 'Juliet');
    assert.equal(errorCondition(sim.send(JULIET, admin(`<item affiliation='owner' jid='user3@localhost'/>`))[0]?.stanza), 'forbidden');
    assert.equal(errorCondition(sim.send(JULIET, admin(`<item affiliation='outcast' jid='user@localhost'/>`))[0]?.stanza), 'not-allowed');
    assert.equal(sim.send(JULIET, admin(`<item affiliation='member' jid='user3@localhost'/>`)).at(-1)?.stanza.attrs.type, 'result');
  });

  it('mere occupants get forbidden', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo');
    sim.join(JULIET, 'Juliet');
    assert.equal(errorCondition(sim.send(JULIET, admin(`<item affiliation='member' jid='user3@localhost'/>`))[0]?.stanza), 'forbidden');
    assert.equal(errorCondition(sim.send(JULIET, admin(`<item affiliation='member'/>`, 'get'))[0]?.stanza), 'forbidden');
  });

  it('keeps the last owner (conflict) and refuses self-bans (conflict)', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo');
    assert.equal(errorCondition(sim.send(ROMEO, admin(`<item affiliation='member' jid='user@localhost'/>`))[0]?.stanza), 'conflict');
    assert.equal(errorCondition(sim.send(ROMEO, admin(`<item affiliation='outcast' jid='user@localhost'/>`))[0]?.stanza), 'conflict');
    sim.send(ROMEO, admin(`<item affiliation='owner' jid='user2@localhost'/>`));
    const out = sim.send(ROMEO, admin(`<item affiliation='member' jid='user@localhost'/>`));
    assert.equal(to(out, ROMEO).at(-1)?.attrs.type, 'result');
    assert.equal(sim.room?.occupants.get('romeo')?.role, 'participant');
  });

  it('applies several items atomically: one bad item changes nothing', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo');
    const out = sim.send(ROMEO, admin(`<item affiliation='member' jid='user2@localhost'/><item affiliation='bogus' jid='user3@localhost'/>`));
    assert.equal(errorCondition(out[0]?.stanza), 'bad-request');
    assert.equal(sim.room?.affiliations.get('user2@localhost'), undefined);
    sim.send(ROMEO, admin(`<item affiliation='member' jid='user2@localhost'/><item affiliation='member' jid='user3@localhost/res'/>`));
    assert.deepEqual([...sim.room!.affiliations.keys()].sort(), ['user2@localhost', 'user3@localhost', 'user@localhost']);
  });

  it('refuses an item with both role and affiliation, or without jid (§17.4)', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo');
    assert.equal(errorCondition(sim.send(ROMEO, admin(`<item affiliation='member' role='participant' jid='user2@localhost' nick='x'/>`))[0]?.stanza), 'bad-request');
    assert.equal(errorCondition(sim.send(ROMEO, admin(`<item affiliation='member'/>`))[0]?.stanza), 'bad-request');
    assert.equal(errorCondition(sim.send(ROMEO, admin(`<item affiliation='member' jid='@bad'/>`))[0]?.stanza), 'jid-malformed');
  });

  it('sends the non-occupant notice to everyone in a non-anonymous room', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo', `<field var='muc#roomconfig_whois'><value>anyone</value></field>`);
    sim.join(JULIET, 'Juliet');
    const out = sim.send(ROMEO, admin(`<item affiliation='member' jid='user3@localhost'/>`));
    assert.equal(xShape(to(out, JULIET)[0]), 'item(affiliation=member,jid=user3@localhost)');
    assert.equal(to(out, ROSALINE).length, 0);
  });

  it('lists members with their reserved nick', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo');
    sim.send(ROMEO, admin(`<item affiliation='member' jid='user2@localhost' nick='Jules'/>`));
    const out = sim.send(ROMEO, admin(`<item affiliation='member'/>`, 'get'));
    const item = out[0]!.stanza.getChild('query')!.getChild('item')!;
    assert.deepEqual({ ...item.attrs }, { affiliation: 'member', jid: 'user2@localhost', nick: 'Jules' });
  });
});
