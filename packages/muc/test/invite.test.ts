import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NS } from '@parley/xml';
import { JULIET, ROMEO, ROOM, ROSALINE, Sim, errorCondition, to, xShape } from './harness.js';

function invite(who: string): string {
  return `<message to='${ROOM}' id='i1'><x xmlns='${NS.MUC_USER}'><invite to='${who}'><reason>Come!</reason></invite></x></message>`;
}

describe('mediated invitations (XEP-0045 §7.8.2)', () => {
  it('forwards the invitation from the room with the inviter and the password', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo', `<field var='muc#roomconfig_roomsecret'><value>pw</value></field>`);
    const out = sim.send(ROMEO, invite('user3@localhost'));
    assert.equal(out.length, 1);
    assert.equal(out[0]!.to, 'user3@localhost');
    assert.equal(out[0]!.route, undefined, 'unknown recipient: the worker routes it');
    assert.equal(out[0]!.stanza.attrs.from, ROOM);
    // Semi-anonymous room: the inviter by occupant JID, never the real JID (§7.8.2).
    assert.equal(xShape(out[0]!.stanza), `invite(from=${ROOM}/Romeo)[reason()"Come!"] password()"pw"`);
    assert.equal(out[0]!.stanza.getChildText('body'), `${ROOM}/Romeo invites you to the room ${ROOM} (Come!)`);
    const conference = out[0]!.stanza.getChild('x', 'jabber:x:conference');
    assert.deepEqual({ ...conference?.attrs }, { xmlns: 'jabber:x:conference', jid: ROOM, password: 'pw', reason: 'Come!' });
    assert.ok(!out[0]!.stanza.toString().includes('user@localhost'), 'no real JID anywhere in the invitation');
  });

  it('names the inviter by real JID in a non-anonymous room; an empty <reason/> when none was given', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo', `<field var='muc#roomconfig_whois'><value>anyone</value></field>`);
    const out = sim.send(ROMEO, `<message to='${ROOM}'><x xmlns='${NS.MUC_USER}'><invite to='user3@localhost'/></x></message>`);
    assert.equal(xShape(out[0]!.stanza), `invite(from=${ROMEO})[reason()]`);
    assert.equal(out[0]!.stanza.getChildText('body'), `${ROMEO} invites you to the room ${ROOM}`);
    assert.deepEqual({ ...out[0]!.stanza.getChild('x', 'jabber:x:conference')?.attrs }, { xmlns: 'jabber:x:conference', jid: ROOM });
  });

  it('passes <continue/> and its thread on to the invitee (§7.9, Ex. 63–64)', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo');
    const withThread = sim.send(ROMEO, `<message to='${ROOM}'><x xmlns='${NS.MUC_USER}'><invite to='user3@localhost'><reason>Join us</reason><continue thread='e0ffe42b'/></invite></x></message>`);
    assert.equal(xShape(withThread[0]!.stanza), `invite(from=${ROOM}/Romeo)[reason()"Join us" continue(thread=e0ffe42b)]`);
    const bare = sim.send(ROMEO, `<message to='${ROOM}'><x xmlns='${NS.MUC_USER}'><invite to='user3@localhost'><continue/></invite></x></message>`);
    assert.equal(xShape(bare[0]!.stanza), `invite(from=${ROOM}/Romeo)[reason() continue()]`);
  });

  it('in members-only rooms: members may not invite unless allowed; an admin invite adds a member', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo', `<field var='muc#roomconfig_membersonly'><value>1</value></field>`);
    sim.send(ROMEO, `<iq type='set' id='m' to='${ROOM}'><query xmlns='${NS.MUC_ADMIN}'><item affiliation='member' jid='user2@localhost'/></query></iq>`);
    sim.join(JULIET, 'Juliet');
    assert.equal(errorCondition(sim.send(JULIET, invite('user3@localhost'))[0]?.stanza), 'forbidden');
    const out = sim.send(ROMEO, invite('user3@localhost'));
    assert.equal(to(out, 'user3@localhost').length, 1);
    assert.equal(sim.room?.affiliations.get('user3@localhost')?.affiliation, 'member');
    sim.configure(ROMEO, `<field var='muc#roomconfig_allowinvites'><value>1</value></field>`);
    assert.equal(sim.send(JULIET, invite('user4@localhost'))[0]?.to, 'user4@localhost');
  });

  it('non-occupants may not invite; declines go back to the inviter', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo');
    assert.equal(errorCondition(sim.send(ROSALINE, invite('user2@localhost'))[0]?.stanza), 'not-acceptable');
    const out = sim.send(ROSALINE, `<message to='${ROOM}'><x xmlns='${NS.MUC_USER}'><decline to='${ROMEO}'><reason>Busy</reason></decline></x></message>`);
    assert.equal(out[0]!.to, ROMEO);
    assert.ok(out[0]!.route, 'the inviter is an occupant: routed');
    assert.equal(xShape(out[0]!.stanza), `decline(from=user3@localhost)[reason()"Busy"]`);
    void JULIET;
  });
});
