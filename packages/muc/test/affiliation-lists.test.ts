// XEP-0045 §9.5, §10.5, §10.8: who may read which affiliation list; §9 items addressed by nick.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NS } from '@parley/xml';
import { JULIET, ROMEO, ROOM, ROSALINE, Sim, errorCondition, to, xShape } from './harness.js';

function admin(items: string, type = 'set', id = 'a'): string {
  return `<iq type='${type}' id='${id}' to='${ROOM}'><query xmlns='${NS.MUC_ADMIN}'>${items}</query></iq>`;
}

function list(sim: Sim, from: string, affiliation: string): string {
  const reply = sim.send(from, admin(`<item affiliation='${affiliation}'/>`, 'get'))[0]!.stanza;
  return errorCondition(reply) ?? reply.getChild('query')!.getChildren('item').map((i) => String(i.attrs.jid)).join(',');
}

/** Romeo owner, Juliet admin, Rosaline member. */
function room(whois: 'moderators' | 'anyone'): Sim {
  const sim = new Sim();
  sim.create(ROMEO, 'Romeo', `<field var='muc#roomconfig_whois'><value>${whois}</value></field>`);
  sim.send(ROMEO, admin(`<item affiliation='admin' jid='user2@localhost'/><item affiliation='member' jid='user3@localhost'/>`));
  return sim;
}

describe('affiliation lists (XEP-0045 §9.5, §10.5, §10.8)', () => {
  it('semi-anonymous room: the owner and admin lists are for owners only (admins: forbidden)', () => {
    const sim = room('moderators');
    assert.equal(list(sim, ROMEO, 'owner'), 'user@localhost');
    assert.equal(list(sim, ROMEO, 'admin'), 'user2@localhost');
    assert.equal(list(sim, JULIET, 'owner'), 'forbidden');
    assert.equal(list(sim, JULIET, 'admin'), 'forbidden');
    assert.equal(list(sim, JULIET, 'member'), 'user3@localhost', 'admins edit the member list (§9.5)');
    assert.equal(list(sim, JULIET, 'outcast'), '');
    assert.equal(list(sim, ROSALINE, 'owner'), 'forbidden');
    assert.equal(list(sim, ROSALINE, 'member'), 'forbidden');
  });

  it('non-anonymous room: members and admins may read the owner, admin and member lists, not the outcasts', () => {
    const sim = room('anyone');
    for (const who of [JULIET, ROSALINE]) {
      assert.equal(list(sim, who, 'owner'), 'user@localhost');
      assert.equal(list(sim, who, 'admin'), 'user2@localhost');
      assert.equal(list(sim, who, 'member'), 'user3@localhost');
    }
    assert.equal(list(sim, ROSALINE, 'outcast'), 'forbidden');
    assert.equal(list(sim, 'user4@localhost/x', 'owner'), 'forbidden', 'users without an affiliation get nothing');
  });
});

describe('affiliation items addressed by nick (XEP-0045 §9, as Prosody)', () => {
  it('applies <item nick affiliation/> without jid to the occupant\'s bare JID (reserving the nick), with actor and reason', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo');
    sim.join(JULIET, 'Juliet');
    const out = sim.send(ROMEO, admin(`<item affiliation='member' nick='juliet'><reason>welcome</reason></item>`));
    assert.equal(sim.room?.affiliations.get('user2@localhost')?.affiliation, 'member');
    assert.equal(sim.room?.affiliations.get('user2@localhost')?.nick, 'Juliet', 'the occupant\'s nick (as shown) is reserved, as Prosody does');
    assert.equal(xShape(to(out, JULIET)[0]), `item(affiliation=member,jid=${JULIET},role=participant)[actor(nick=Romeo) reason()"welcome"] status(code=110)`);
    assert.equal(to(out, ROMEO).at(-1)?.attrs.type, 'result');
  });

  it('item-not-found for a nick nobody has; bad-request with neither jid nor nick', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo');
    assert.equal(errorCondition(sim.send(ROMEO, admin(`<item affiliation='member' nick='Nobody'/>`))[0]?.stanza), 'item-not-found');
    assert.equal(errorCondition(sim.send(ROMEO, admin(`<item affiliation='member'/>`))[0]?.stanza), 'bad-request');
    assert.equal(sim.room?.affiliations.size, 1);
  });

  it('reserving a nick another occupant uses removes that occupant with 307 and a reason, before the announcement', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo');
    sim.join(JULIET, 'Juliet');
    sim.join(ROSALINE, 'Mercutio');
    const out = sim.send(ROMEO, admin(`<item affiliation='member' jid='user2@localhost' nick='Mercutio'/>`));
    const rosaline = to(out, ROSALINE);
    assert.equal(rosaline[0]?.attrs.type, 'unavailable');
    assert.equal(xShape(rosaline[0]), `status(code=307) item(affiliation=none,jid=${ROSALINE},role=none)[reason()"This nick is now reserved for another user"] status(code=110)`);
    const romeo = to(out, ROMEO);
    assert.equal(romeo[0]?.attrs.from, `${ROOM}/Mercutio`);
    assert.equal(romeo[1]?.attrs.from, `${ROOM}/Juliet`);
    assert.equal(romeo[2]?.attrs.type, 'result');
    assert.equal(sim.room?.occupants.has('mercutio'), false);
    assert.equal(sim.room?.affiliations.get('user2@localhost')?.nick, 'Mercutio');
  });
});
