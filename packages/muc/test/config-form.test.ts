import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NS } from '@parley/xml';
import { JULIET, ROMEO, ROOM, Sim, errorCondition, to, xShape } from './harness.js';

const GET = `<iq type='get' id='g' to='${ROOM}'><query xmlns='${NS.MUC_OWNER}'/></iq>`;

describe('room configuration (XEP-0045 §10.1, §10.2)', () => {
  it('returns the muc#roomconfig form with current values to owners', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo', `<field var='muc#roomconfig_roomname'><value>Cave</value></field>`);
    const out = sim.send(ROMEO, GET);
    const x = out[0]!.stanza.getChild('query', NS.MUC_OWNER)!.getChild('x', NS.DATA)!;
    assert.equal(x.attrs.type, 'form');
    const fields = x.getChildren('field');
    assert.equal(fields[0]!.attrs.var, 'FORM_TYPE');
    assert.equal(fields[0]!.attrs.type, 'hidden');
    assert.equal(fields[0]!.getChildText('value'), 'http://jabber.org/protocol/muc#roomconfig');
    const vars = fields.map((f) => String(f.attrs.var));
    for (const v of [
      'roomname', 'roomdesc', 'persistentroom', 'publicroom', 'membersonly', 'moderatedroom', 'passwordprotectedroom',
      'roomsecret', 'whois', 'maxusers', 'changesubject', 'allowinvites', 'allowpm', 'presencebroadcast', 'historylength', 'lang',
    ]) {
      assert.ok(vars.includes(`muc#roomconfig_${v}`), v);
    }
    const name = fields.find((f) => f.attrs.var === 'muc#roomconfig_roomname')!;
    assert.equal(name.getChildText('value'), 'Cave');
    const whois = fields.find((f) => f.attrs.var === 'muc#roomconfig_whois')!;
    assert.equal(whois.getChildText('value'), 'moderators');
  });

  it('refuses non-owners with forbidden', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo');
    sim.join(JULIET, 'Juliet');
    assert.equal(errorCondition(sim.send(JULIET, GET)[0]?.stanza), 'forbidden');
    const out = sim.configure(JULIET, `<field var='muc#roomconfig_persistentroom'><value>1</value></field>`);
    assert.equal(errorCondition(out[0]?.stanza), 'forbidden');
    assert.equal(sim.room?.config.persistent, false);
  });

  it('validates values: bad boolean → bad-request, protected without secret → not-acceptable', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo');
    assert.equal(errorCondition(sim.configure(ROMEO, `<field var='muc#roomconfig_moderatedroom'><value>maybe</value></field>`)[0]?.stanza), 'bad-request');
    assert.equal(errorCondition(sim.configure(ROMEO, `<field var='muc#roomconfig_passwordprotectedroom'><value>1</value></field>`)[0]?.stanza), 'not-acceptable');
    assert.equal(errorCondition(sim.configure(ROMEO, `<field var='muc#roomconfig_maxusers'><value>-3</value></field>`)[0]?.stanza), 'bad-request');
    assert.equal(errorCondition(sim.configure(ROMEO, `<field var='muc#roomconfig_allowpm'><value>everybody</value></field>`)[0]?.stanza), 'bad-request');
  });

  it('rejects a form of another FORM_TYPE', () => {
    const sim = new Sim();
    sim.join(ROMEO, 'Romeo');
    const out = sim.send(
      ROMEO,
      `<iq type='set' id='c' to='${ROOM}'><query xmlns='${NS.MUC_OWNER}'><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>urn:other</value></field></x></query></iq>`,
    );
    assert.equal(errorCondition(out[0]?.stanza), 'bad-request');
  });

  it('an empty submission makes an instant room without a 104 notice', () => {
    const sim = new Sim();
    sim.join(ROMEO, 'Romeo');
    const out = sim.send(ROMEO, `<iq type='set' id='c' to='${ROOM}'><query xmlns='${NS.MUC_OWNER}'><x xmlns='jabber:x:data' type='submit'/></query></iq>`);
    assert.deepEqual(out.map((o) => o.stanza.name), ['iq']);
    assert.equal(sim.room?.locked, false);
  });

  it('announces changes with 104, and 172/173 when anonymity changes (§10.2.1)', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo');
    sim.join(JULIET, 'Juliet');
    let out = sim.configure(ROMEO, `<field var='muc#roomconfig_whois'><value>anyone</value></field>`);
    assert.deepEqual(to(out, ROMEO).map((s) => s.name), ['iq', 'message']);
    assert.equal(xShape(to(out, JULIET)[0]), 'status(code=104) status(code=172)');
    out = sim.configure(ROMEO, `<field var='muc#roomconfig_whois'><value>moderators</value></field>`);
    assert.equal(xShape(to(out, JULIET)[0]), 'status(code=104) status(code=173)');
  });

  it('cancelling the initial configuration destroys the room (§10.1.3)', () => {
    const sim = new Sim();
    sim.join(ROMEO, 'Romeo');
    const out = sim.send(ROMEO, `<iq type='set' id='c' to='${ROOM}'><query xmlns='${NS.MUC_OWNER}'><x xmlns='jabber:x:data' type='cancel'/></query></iq>`);
    const romeo = to(out, ROMEO);
    assert.equal(romeo[0]!.attrs.type, 'unavailable');
    assert.ok(romeo[0]!.getChild('x', NS.MUC_USER)!.getChild('destroy'));
    assert.equal(romeo[1]!.attrs.type, 'result');
    assert.equal(sim.room, undefined);
    assert.ok(sim.effects.some((e) => e.kind === 'destroyed'));
  });

  it('cancelling a later configuration changes nothing', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo');
    const out = sim.send(ROMEO, `<iq type='set' id='c' to='${ROOM}'><query xmlns='${NS.MUC_OWNER}'><x xmlns='jabber:x:data' type='cancel'/></query></iq>`);
    assert.deepEqual(out.map((o) => o.stanza.attrs.type), ['result']);
    assert.ok(sim.room);
  });
});
