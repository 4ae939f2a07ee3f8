import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NS } from '@parley/xml';
import { JULIET, ROMEO, ROOM, ROSALINE, Sim, errorCondition, to, xShape } from './harness.js';

const GET = `<iq type='get' id='g' to='${ROOM}'><query xmlns='${NS.REGISTER}'/></iq>`;
function submit(nick: string): string {
  return `<iq type='set' id='s' to='${ROOM}'><query xmlns='${NS.REGISTER}'><x xmlns='jabber:x:data' type='submit'>` +
    `<field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#register</value></field>` +
    `<field var='muc#register_roomnick'><value>${nick}</value></field></x></query></iq>`;
}
/** The room policy that lets users without an affiliation register (off by default). */
const OPEN = `<field var='{urn:parley:muc}roomconfig_allowregister'><value>1</value></field>`;
const REMOVE = `<iq type='set' id='u' to='${ROOM}'><query xmlns='${NS.REGISTER}'><remove/></query></iq>`;

describe('registration (XEP-0045 §7.10, XEP-0077)', () => {
  it('returns the registration form, then <registered/> after registering', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo', OPEN);
    const form = sim.send(JULIET, GET)[0]!.stanza.getChild('query', NS.REGISTER)!.getChild('x', NS.DATA)!;
    const vars = form.getChildren('field').map((f) => f.attrs.var);
    assert.deepEqual(vars, ['FORM_TYPE', 'muc#register_roomnick']);
    const out = sim.send(JULIET, submit('Jules'));
    assert.equal(to(out, JULIET)[0]!.attrs.type, 'result');
    assert.equal(xShape(to(out, ROMEO)[0]), 'item(affiliation=member,jid=user2@localhost)', 'moderators hear of the new member');
    assert.deepEqual(sim.room?.affiliations.get('user2@localhost'), { affiliation: 'member', nick: 'Jules' });
    const q = sim.send(JULIET, GET)[0]!.stanza.getChild('query', NS.REGISTER)!;
    assert.ok(q.getChild('registered'));
    assert.equal(q.getChildText('username'), 'Jules');
  });

  it('reserves the nick: others joining with it get conflict', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo', OPEN);
    sim.send(JULIET, submit('Jules'));
    assert.equal(errorCondition(sim.join(ROSALINE, 'Jules')[0]?.stanza), 'conflict');
    assert.equal(errorCondition(sim.send(ROSALINE, submit('Jules'))[0]?.stanza), 'conflict');
    assert.equal(to(sim.join(JULIET, 'Jules'), JULIET)[1]?.name, 'presence');
  });

  it('updates the presence of a registering occupant', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo', OPEN);
    sim.join(JULIET, 'Juliet');
    const out = sim.send(JULIET, submit('Juliet'));
    assert.equal(xShape(to(out, ROMEO)[0]), `item(affiliation=member,jid=${JULIET},role=participant)`);
    assert.equal(to(out, JULIET).at(-1)?.attrs.type, 'result');
  });

  it('refuses non-members of members-only rooms and outcasts; bad forms get bad-request', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo', `<field var='muc#roomconfig_membersonly'><value>1</value></field>`);
    assert.equal(errorCondition(sim.send(JULIET, GET)[0]?.stanza), 'not-allowed');
    assert.equal(errorCondition(sim.send(JULIET, submit('Jules'))[0]?.stanza), 'not-allowed');
    sim.send(ROMEO, `<iq type='set' id='b' to='${ROOM}'><query xmlns='${NS.MUC_ADMIN}'><item affiliation='outcast' jid='user3@localhost'/></query></iq>`);
    assert.equal(errorCondition(sim.send(ROSALINE, GET)[0]?.stanza), 'forbidden');
    assert.equal(errorCondition(sim.send(ROMEO, `<iq type='set' id='x' to='${ROOM}'><query xmlns='${NS.REGISTER}'/></iq>`)[0]?.stanza), 'bad-request');
  });

  it('<remove/>: registration-required when not registered, conflict for the last owner, bad-request when not alone', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo', OPEN);
    assert.equal(errorCondition(sim.send(JULIET, REMOVE)[0]?.stanza), 'registration-required');
    assert.equal(errorCondition(sim.send(ROMEO, REMOVE)[0]?.stanza), 'conflict');
    sim.send(JULIET, submit('Jules'));
    assert.equal(errorCondition(sim.send(JULIET, `<iq type='set' id='u' to='${ROOM}'><query xmlns='${NS.REGISTER}'><remove/><username>x</username></query></iq>`)[0]?.stanza), 'bad-request');
    assert.equal(to(sim.send(JULIET, REMOVE), JULIET)[0]?.attrs.type, 'result');
    assert.equal(sim.room?.affiliations.get('user2@localhost'), undefined);
  });

  it('disco x-roomuser-item returns the reserved nick (§7.12)', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo', OPEN);
    sim.send(JULIET, submit('Jules'));
    const q = sim.send(JULIET, `<iq type='get' id='n' to='${ROOM}'><query xmlns='${NS.DISCO_INFO}' node='x-roomuser-item'/></iq>`)[0]!.stanza.getChild('query')!;
    assert.deepEqual({ ...q.getChild('identity')!.attrs }, { category: 'conference', type: 'text', name: 'Jules' });
    const none = sim.send(ROSALINE, `<iq type='get' id='n' to='${ROOM}'><query xmlns='${NS.DISCO_INFO}' node='x-roomuser-item'/></iq>`)[0]!.stanza.getChild('query')!;
    assert.equal(none.getChildElements().length, 0);
  });

  it('users without an affiliation may not register unless the room allows it (not-allowed with a text)', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo');
    for (const stanza of [GET, submit('Jules')]) {
      const reply = sim.send(JULIET, stanza)[0]!.stanza;
      assert.equal(errorCondition(reply), 'not-allowed');
      assert.equal(reply.getChild('error')?.getChildText('text', NS.STANZAS), 'Only members may register with this room');
    }
    assert.equal(sim.room?.affiliations.has('user2@localhost'), false);
    sim.send(ROMEO, `<iq type='set' id='m' to='${ROOM}'><query xmlns='${NS.MUC_ADMIN}'><item affiliation='member' jid='user2@localhost'/></query></iq>`);
    assert.equal(to(sim.send(JULIET, submit('Jules')), JULIET).at(-1)?.attrs.type, 'result', 'members may');
    assert.equal(sim.room?.affiliations.get('user2@localhost')?.nick, 'Jules');
  });

  it('a registration that keeps the affiliation is still announced, before the result (as Prosody)', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo');
    sim.join(JULIET, 'Juliet');
    const out = sim.send(ROMEO, submit('Romeo'));
    assert.equal(sim.room?.affiliations.get('user@localhost')?.affiliation, 'owner');
    assert.equal(sim.room?.affiliations.get('user@localhost')?.nick, 'Romeo');
    assert.equal(xShape(to(out, ROMEO)[0]), `item(affiliation=owner,jid=${ROMEO},role=moderator) status(code=110)`);
    assert.equal(to(out, ROMEO)[1]?.attrs.type, 'result');
    assert.equal(xShape(to(out, JULIET)[0]), 'item(affiliation=owner,role=moderator)');
  });

  it('a nick another occupant uses cannot be registered (conflict); nobody is removed', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo', OPEN);
    sim.join(ROSALINE, 'Jules');
    assert.equal(errorCondition(sim.send(JULIET, submit('jules'))[0]?.stanza), 'conflict');
    assert.equal(sim.room?.occupants.size, 2);
  });
});
