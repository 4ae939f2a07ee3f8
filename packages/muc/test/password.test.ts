import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { JULIET, ROMEO, Sim, errorCondition, to } from './harness.js';

const SECRET = `<field var='muc#roomconfig_roomsecret'><value>cauldronburn</value></field>`;

describe('password-protected rooms (XEP-0045 §7.2.5)', () => {
  it('refuses a wrong password with not-authorized', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo', SECRET);
    assert.equal(errorCondition(sim.join(JULIET, 'Juliet', '<password>nope</password>')[0]?.stanza), 'not-authorized');
    assert.equal(sim.room?.occupants.get('juliet'), undefined);
  });

  it('lets owners in without the password', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo', SECRET);
    const out = sim.join('user@localhost/phone', 'Romeo');
    const self = to(out, 'user@localhost/phone')[0]!;
    assert.equal(self.name, 'presence');
    assert.equal(self.attrs.type, undefined);
  });

  it('passwordprotectedroom=0 clears the secret', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo', SECRET);
    sim.configure(ROMEO, `<field var='muc#roomconfig_passwordprotectedroom'><value>0</value></field>`);
    assert.equal(sim.room?.config.password, '');
    assert.equal(sim.room?.config.passwordProtected, false);
  });

  it('does not reveal the password in disco', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo', SECRET);
    const out = sim.send(JULIET, `<iq type='get' id='d' to='room@conference.localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`);
    assert.ok(!out[0]!.stanza.toString().includes('cauldronburn'));
    assert.ok(out[0]!.stanza.toString().includes('muc_passwordprotected'));
  });
});
