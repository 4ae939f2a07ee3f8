// Nicks refused on top of RFC 8266 (nick.ts): emoji and variation selectors, as Prosody 0.12.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NS } from '@parley/xml';
import { JULIET, ROMEO, ROOM, Sim, errorCondition, to } from './harness.js';

describe('nick policy (XEP-0045 §7.2.1, §14)', () => {
  for (const nick of ['🐱', 'Ben🐱', '🇫🇷', '👍🏽']) {
    it(`refuses ${JSON.stringify(nick)} with jid-malformed and a text`, () => {
      const sim = new Sim();
      sim.create(ROMEO, 'Romeo');
      const reply = to(sim.join(JULIET, nick), JULIET)[0];
      assert.equal(errorCondition(reply), 'jid-malformed');
      assert.match(reply!.getChild('error')!.getChildText('text', NS.STANZAS) ?? '', /emoji/);
      assert.equal(sim.room?.occupants.size, 1);
    });
  }

  it('refuses variation selectors in a reserved nick (muc#admin item): jid-malformed with a text', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo');
    for (const nick of ['Ben☺\uFE0F', 'a\u{E0100}']) {
      const reply = sim.send(ROMEO, `<iq type='set' id='a' to='${ROOM}'><query xmlns='${NS.MUC_ADMIN}'><item affiliation='member' jid='user2@localhost' nick='${nick}'/></query></iq>`)[0]!.stanza;
      assert.equal(errorCondition(reply), 'jid-malformed');
      assert.match(reply.getChild('error')!.getChildText('text', NS.STANZAS) ?? '', /variation selectors/);
    }
    assert.equal(sim.room?.affiliations.has('user2@localhost'), false);
  });

  it('accepts symbols that are text by default (☺ without a variation selector) and other scripts', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo');
    assert.equal(to(sim.join(JULIET, 'Ben☺'), JULIET).at(-1)?.name, 'message');
    assert.equal(sim.room?.occupants.size, 2);
    const again = sim.send(JULIET, `<presence to='${ROOM}/Бенволио'/>`);
    assert.equal(to(again, JULIET)[0]?.attrs.type, 'unavailable', 'nick change to Cyrillic goes through');
  });
});
