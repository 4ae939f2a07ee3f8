import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NS } from '@parley/xml';
import { JULIET, ROMEO, ROOM, ROSALINE, Sim, errorCondition } from './harness.js';

describe('room disco (XEP-0045 §6.4, §6.5)', () => {
  it('returns identity, features and the muc#roominfo form', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo', `<field var='muc#roomconfig_roomname'><value>A Dark Cave</value></field><field var='muc#roomconfig_roomdesc'><value>Witches</value></field>`);
    const q = sim.send(ROSALINE, `<iq type='get' id='d' to='${ROOM}'><query xmlns='${NS.DISCO_INFO}'/></iq>`)[0]!.stanza.getChild('query')!;
    assert.deepEqual({ ...q.getChild('identity')!.attrs }, { category: 'conference', type: 'text', name: 'A Dark Cave' });
    const vars = q.getChildren('feature').map((f) => f.attrs.var);
    for (const v of [NS.MUC, 'muc_public', 'muc_temporary', 'muc_open', 'muc_unmoderated', 'muc_unsecured', 'muc_semianonymous']) assert.ok(vars.includes(v), v);
    const form = q.getChild('x', NS.DATA)!;
    const value = (name: string): string | null | undefined => form.getChildren('field').find((f) => f.attrs.var === name)?.getChildText('value');
    assert.equal(value('FORM_TYPE'), 'http://jabber.org/protocol/muc#roominfo');
    assert.equal(value('muc#roominfo_description'), 'Witches');
    assert.equal(value('muc#roominfo_occupants'), '1');
  });

  it('lists no occupants in disco#items, to occupants or others (§6.5 Ex. 13, as Prosody 0.12)', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo');
    sim.join(JULIET, 'Juliet');
    const items = (from: string) =>
      sim.send(from, `<iq type='get' id='i' to='${ROOM}'><query xmlns='${NS.DISCO_ITEMS}'/></iq>`)[0]!.stanza.getChild('query')!.getChildren('item').map((i) => i.attrs.jid);
    assert.deepEqual(items(JULIET), []);
    assert.deepEqual(items(ROSALINE), []);
    const reply = sim.send(JULIET, `<iq type='get' id='i' to='${ROOM}'><query xmlns='${NS.DISCO_ITEMS}'/></iq>`)[0]!.stanza;
    assert.equal(reply.attrs.type, 'result');
  });

  it('answers unknown payloads with service-unavailable and ignores results', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo');
    assert.equal(errorCondition(sim.send(ROMEO, `<iq type='get' id='p' to='${ROOM}'><ping xmlns='urn:xmpp:ping'/></iq>`)[0]?.stanza), 'service-unavailable');
    assert.deepEqual(sim.send(ROMEO, `<iq type='result' id='p' to='${ROOM}'/>`), []);
    assert.equal(errorCondition(sim.send(ROMEO, `<iq type='get' id='p' to='${ROOM}'><query xmlns='${NS.DISCO_INFO}' node='nope'/></iq>`)[0]?.stanza), 'item-not-found');
  });
});
