// XEP-0334 storage hints and the discussion history (XEP-0045 §7.2.13).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { JULIET, ROMEO, ROOM, ROSALINE, Sim, to } from './harness.js';

const HINTS = 'urn:xmpp:hints';

describe('storage hints in the history (XEP-0334 §4)', () => {
  it('keeps <store/> without a body; drops <no-store/>, <no-permanent-store/> and bodiless messages', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo');
    sim.join(JULIET, 'Juliet');
    const sent = [
      `<message type='groupchat' to='${ROOM}' id='m1'><store xmlns='${HINTS}'/><x xmlns='urn:example'/></message>`,
      `<message type='groupchat' to='${ROOM}' id='m2'><body>nostore</body><no-store xmlns='${HINTS}'/></message>`,
      `<message type='groupchat' to='${ROOM}' id='m3'><body>noperm</body><no-permanent-store xmlns='${HINTS}'/></message>`,
      `<message type='groupchat' to='${ROOM}' id='m4'><body>plain</body></message>`,
      `<message type='groupchat' to='${ROOM}' id='m5'><x xmlns='urn:example'/></message>`,
    ];
    for (const m of sent) {
      const out = sim.send(ROMEO, m);
      assert.equal(to(out, JULIET).length, 1, 'every message is still reflected');
      assert.equal(sim.effects.some((e) => e.kind === 'history-append'), m.includes("id='m1'") || m.includes("id='m4'"));
    }
    const history = to(sim.join(ROSALINE, 'Rosaline'), ROSALINE).filter((s) => s.name === 'message' && s.getChild('subject') === undefined);
    assert.deepEqual(history.map((m) => m.attrs.id), ['m1', 'm4']);
    assert.ok(history[0]!.getChild('store', HINTS), 'kept as reflected');
  });
});
