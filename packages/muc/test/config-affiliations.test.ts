// XEP-0045 §10.2 configuration form: muc#roomconfig_roomowners / _roomadmins (full lists,
// applied as affiliation changes), lenient list values, boolean errors naming the field;
// §6.4 muc#roominfo_subjectmod.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NS } from '@parley/xml';
import { JULIET, ROMEO, ROOM, Sim, errorCondition, to, xShape } from './harness.js';

const field = (v: string, ...values: string[]) => `<field var='${v}'>${values.map((x) => `<value>${x}</value>`).join('')}</field>`;

describe('configuration form: owner and admin lists (XEP-0045 §10.2, §16.5.3)', () => {
  it('lists the stored owners and admins as jid-multi fields', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo', field('muc#roomconfig_roomadmins', 'user2@localhost'));
    const form = sim.send(ROMEO, `<iq type='get' id='f' to='${ROOM}'><query xmlns='${NS.MUC_OWNER}'/></iq>`)[0]!.stanza.getChild('query')!.getChild('x', NS.DATA)!;
    const f = (name: string) => form.getChildren('field').find((x) => x.attrs.var === name);
    assert.equal(f('muc#roomconfig_roomowners')?.attrs.type, 'jid-multi');
    assert.deepEqual(f('muc#roomconfig_roomowners')?.getChildren('value').map((v) => v.getText()), ['user@localhost']);
    assert.deepEqual(f('muc#roomconfig_roomadmins')?.getChildren('value').map((v) => v.getText()), ['user2@localhost']);
  });

  it('applies a new owner list as affiliation changes, announced with actor before the result', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo');
    sim.join(JULIET, 'Juliet');
    const out = sim.configure(ROMEO, field('muc#roomconfig_roomowners', 'user@localhost', 'user2@localhost/ignored-resource'));
    assert.equal(sim.room?.affiliations.get('user2@localhost')?.affiliation, 'owner');
    assert.equal(xShape(to(out, JULIET)[0]), `item(affiliation=owner,jid=${JULIET},role=moderator)[actor(nick=Romeo)] status(code=110)`);
    const romeo = to(out, ROMEO);
    assert.equal(romeo[0]?.name, 'presence');
    assert.equal(romeo[1]?.attrs.type, 'result');
    assert.equal(romeo.length, 2, 'no 104: the configuration itself did not change');
    // Dropping Juliet from the owner list while naming her as admin demotes her to admin.
    sim.configure(ROMEO, field('muc#roomconfig_roomowners', 'user@localhost') + field('muc#roomconfig_roomadmins', 'user2@localhost'));
    assert.equal(sim.room?.affiliations.get('user2@localhost')?.affiliation, 'admin');
    // An empty admin list removes her (affiliation none).
    sim.configure(ROMEO, `<field var='muc#roomconfig_roomadmins'><value/></field>`);
    assert.equal(sim.room?.affiliations.get('user2@localhost'), undefined);
  });

  it('refuses the whole form when the lists would leave no owner (conflict) or name a bad JID (jid-malformed)', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo');
    const noOwner = sim.configure(ROMEO, field('muc#roomconfig_roomowners') + field('muc#roomconfig_roomname', 'Changed'));
    assert.equal(errorCondition(to(noOwner, ROMEO)[0]), 'conflict');
    assert.equal(sim.room?.config.name, '');
    const bad = sim.configure(ROMEO, field('muc#roomconfig_roomadmins', 'a@b@c'));
    assert.equal(errorCondition(to(bad, ROMEO)[0]), 'jid-malformed');
    assert.match(to(bad, ROMEO)[0]!.getChild('error')!.getChildText('text', NS.STANZAS) ?? '', /muc#roomconfig_roomadmins/);
    assert.equal(sim.room?.affiliations.get('user@localhost')?.affiliation, 'owner');
  });

  it('an admin-only list naming an owner keeps them owner', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo');
    sim.configure(ROMEO, field('muc#roomconfig_roomadmins', 'user@localhost'));
    assert.equal(sim.room?.affiliations.get('user@localhost')?.affiliation, 'owner');
  });
});

describe('configuration form: values (XEP-0004 §3.3)', () => {
  it('an empty <value/> for a boolean gets bad-request naming the field, and changes nothing', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo');
    const out = sim.configure(ROMEO, `<field var='muc#roomconfig_moderatedroom'><value/></field>` + field('muc#roomconfig_roomname', 'X'));
    const error = to(out, ROMEO)[0]!;
    assert.equal(errorCondition(error), 'bad-request');
    assert.match(error.getChild('error')!.getChildText('text', NS.STANZAS) ?? '', /muc#roomconfig_moderatedroom/);
    assert.equal(sim.room?.config.name, '');
  });

  it('disco#info carries muc#roominfo_subjectmod (§16.5.4), not a roomconfig name', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo', field('muc#roomconfig_changesubject', '1'));
    const info = sim.send(ROMEO, `<iq type='get' id='d' to='${ROOM}'><query xmlns='${NS.DISCO_INFO}'/></iq>`)[0]!.stanza;
    const fields = info.getChild('query')!.getChild('x', NS.DATA)!.getChildren('field');
    const vars = fields.map((f) => f.attrs.var);
    assert.ok(!vars.includes('muc#roomconfig_changesubject'));
    assert.equal(fields.find((f) => f.attrs.var === 'muc#roominfo_subjectmod')?.getChildText('value'), '1');
  });
});
