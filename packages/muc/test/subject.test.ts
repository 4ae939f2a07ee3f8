import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NS } from '@parley/xml';
import { JULIET, ROMEO, ROOM, Sim, errorCondition, to } from './harness.js';

describe('subject (XEP-0045 §8.1, §7.2.15)', () => {
  it('lets a moderator change the subject and shows it to later joiners with a delay stamp', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo');
    const out = sim.send(ROMEO, `<message type='groupchat' to='${ROOM}' id='s1'><subject>Fire Burn</subject></message>`);
    assert.equal(to(out, ROMEO)[0]!.getChildText('subject'), 'Fire Burn');
    assert.equal(to(out, ROMEO)[0]!.attrs.from, `${ROOM}/Romeo`);
    const romeoId = sim.room?.occupants.get('romeo')?.occupantId;
    assert.ok(romeoId !== undefined);
    assert.deepEqual(sim.room?.subject, { text: 'Fire Burn', nick: 'Romeo', at: sim.ctx.now, occupantId: romeoId });
    assert.equal(sim.room?.history.length, 0, 'subject changes are not history');
    const join = to(sim.join(JULIET, 'Juliet'), JULIET);
    const subject = join[join.length - 1]!;
    assert.equal(subject.attrs.from, `${ROOM}/Romeo`);
    assert.equal(subject.getChildText('subject'), 'Fire Burn');
    assert.equal(subject.getChild('delay', NS.DELAY)?.attrs.stamp, '2026-01-01T12:00:00Z');
    assert.equal(subject.getChild('occupant-id', 'urn:xmpp:occupant-id:0')?.attrs.id, romeoId, 'XEP-0421: the setter\'s occupant id');
  });

  it('refuses participants unless changesubject is on', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo');
    sim.join(JULIET, 'Juliet');
    let out = sim.send(JULIET, `<message type='groupchat' to='${ROOM}'><subject>mine</subject></message>`);
    assert.equal(errorCondition(to(out, JULIET)[0]), 'forbidden');
    assert.equal(sim.room?.subject, null);
    sim.configure(ROMEO, `<field var='muc#roomconfig_changesubject'><value>1</value></field>`);
    out = sim.send(JULIET, `<message type='groupchat' to='${ROOM}'><subject>mine</subject></message>`);
    assert.equal(to(out, ROMEO)[0]!.getChildText('subject'), 'mine');
  });

  it('a message with subject and body is an ordinary message', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo');
    sim.join(JULIET, 'Juliet');
    sim.send(JULIET, `<message type='groupchat' to='${ROOM}'><subject>x</subject><body>y</body></message>`);
    assert.equal(sim.room?.subject, null);
    assert.equal(sim.room?.history.length, 1);
  });

  it('an empty subject clears it', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo');
    sim.send(ROMEO, `<message type='groupchat' to='${ROOM}'><subject>x</subject></message>`);
    sim.send(ROMEO, `<message type='groupchat' to='${ROOM}'><subject/></message>`);
    assert.equal(sim.room?.subject, null);
  });
});
