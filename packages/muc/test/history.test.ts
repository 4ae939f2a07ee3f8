import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NS } from '@parley/xml';
import { JULIET, ROMEO, ROOM, Sim, to } from './harness.js';

function roomWithHistory(n: number): Sim {
  const sim = new Sim();
  sim.create(ROMEO, 'Romeo');
  for (let i = 1; i <= n; i++) {
    sim.ctx = { ...sim.ctx, now: sim.ctx.now + 60_000 };
    sim.send(ROMEO, `<message type='groupchat' to='${ROOM}'><body>m${i}</body></message>`);
  }
  return sim;
}

function bodies(sim: Sim, inner: string): string[] {
  const out = to(sim.join(JULIET, 'Juliet', inner), JULIET);
  return out.filter((s) => s.name === 'message' && s.getChild('body')).map((s) => s.getChildText('body') ?? '');
}

describe('history (XEP-0045 §7.2.13, §7.2.14)', () => {
  it('replays all history with XEP-0203 delay from the room', () => {
    const sim = roomWithHistory(3);
    const out = to(sim.join(JULIET, 'Juliet'), JULIET).filter((s) => s.getChild('body'));
    assert.deepEqual(out.map((s) => s.getChildText('body')), ['m1', 'm2', 'm3']);
    const delay = out[0]!.getChild('delay', NS.DELAY)!;
    assert.equal(delay.attrs.from, ROOM);
    assert.equal(delay.attrs.stamp, '2026-01-01T12:01:00Z');
    assert.equal(out[0]!.attrs.to, JULIET);
  });

  it('honours maxstanzas, maxchars=0, seconds and since', () => {
    assert.deepEqual(bodies(roomWithHistory(3), `<history maxstanzas='2'/>`), ['m2', 'm3']);
    assert.deepEqual(bodies(roomWithHistory(3), `<history maxchars='0'/>`), []);
    assert.deepEqual(bodies(roomWithHistory(3), `<history seconds='90'/>`), ['m2', 'm3']);
    assert.deepEqual(bodies(roomWithHistory(3), `<history since='2026-01-01T12:02:30Z'/>`), ['m3']);
  });

  it('maxchars sends only complete stanzas that fit', () => {
    const sim = roomWithHistory(3);
    const all = to(sim.join(JULIET, 'Juliet'), JULIET).filter((s) => s.getChild('body'));
    const one = all[2]!.toString().length;
    const sim2 = roomWithHistory(3);
    assert.deepEqual(bodies(sim2, `<history maxchars='${one + 5}'/>`), ['m3']);
  });

  it('keeps at most historylength messages', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo', `<field var='muc#roomconfig_historylength'><value>2</value></field>`);
    for (const b of ['a', 'b', 'c']) sim.send(ROMEO, `<message type='groupchat' to='${ROOM}'><body>${b}</body></message>`);
    assert.equal(sim.room?.history.length, 2);
    assert.deepEqual(bodies(sim, ''), ['b', 'c']);
  });

  it('rejects a non-numeric historylength with bad-request', () => {
    const sim = new Sim();
    sim.join(ROMEO, 'Romeo');
    const out = sim.configure(ROMEO, `<field var='muc#roomconfig_historylength'><value>lots</value></field>`);
    assert.equal(out[0]!.stanza.attrs.type, 'error');
    assert.equal(sim.room?.locked, true, 'a refused submission changes nothing');
  });
});
