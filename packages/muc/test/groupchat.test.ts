import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { JULIET, ROMEO, ROOM, ROSALINE, Sim, errorCondition, to } from './harness.js';

describe('groupchat (XEP-0045 §7.4)', () => {
  it('reflects to every occupant from room/nick with the same id and children, and records history', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo');
    sim.join(JULIET, 'Juliet');
    const out = sim.send(JULIET, `<message type='groupchat' id='abc' to='${ROOM}'><body>hi</body><active xmlns='http://jabber.org/protocol/chatstates'/></message>`);
    assert.equal(out.length, 2);
    for (const jid of [ROMEO, JULIET]) {
      const m = to(out, jid)[0]!;
      assert.equal(m.attrs.from, `${ROOM}/Juliet`);
      assert.equal(m.attrs.id, 'abc');
      assert.equal(m.getChildText('body'), 'hi');
      assert.ok(m.getChild('active', 'http://jabber.org/protocol/chatstates'));
    }
    const append = sim.effects.find((e) => e.kind === 'history-append');
    assert.ok(append && append.kind === 'history-append');
    assert.equal(append.entry.nick, 'Juliet');
    assert.equal(append.entry.at, sim.ctx.now);
    assert.ok(!append.entry.xml.includes(' to='));
    assert.equal(sim.room?.history.length, 1);
    assert.ok(!sim.effects.some((e) => e.kind === 'persist'), 'history only: no persist');
  });

  it('refuses non-occupants with not-acceptable', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo');
    const out = sim.send(ROSALINE, `<message type='groupchat' to='${ROOM}'><body>hi</body></message>`);
    assert.equal(out.length, 1);
    assert.equal(errorCondition(out[0]!.stanza), 'not-acceptable');
    assert.equal(out[0]!.stanza.getChild('error')?.attrs.by, ROOM);
  });

  it('refuses visitors with forbidden (§7.4)', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo', `<field var='muc#roomconfig_moderatedroom'><value>1</value></field>`);
    sim.join(JULIET, 'Juliet');
    const out = sim.send(JULIET, `<message type='groupchat' to='${ROOM}'><body>hi</body></message>`);
    assert.equal(out.length, 1);
    assert.equal(errorCondition(out[0]!.stanza), 'forbidden');
  });

  it('does not answer an error message with an error', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo');
    assert.deepEqual(sim.send(ROSALINE, `<message type='error' to='${ROOM}'><error type='cancel'/></message>`), []);
  });

  it('keeps no history when historylength is 0', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo', `<field var='muc#roomconfig_historylength'><value>0</value></field>`);
    sim.send(ROMEO, `<message type='groupchat' to='${ROOM}'><body>hi</body></message>`);
    assert.equal(sim.room?.history.length, 0);
    assert.ok(!sim.effects.some((e) => e.kind === 'history-append'));
  });
});
