import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NS } from '@parley/xml';
import { JULIET, ROMEO, ROOM, Sim, to, xShape } from './harness.js';

function setAffiliation(jid: string, affiliation: string, reason = ''): string {
  const r = reason === '' ? '' : `<reason>${reason}</reason>`;
  return `<iq type='set' id='a1' to='${ROOM}'><query xmlns='${NS.MUC_ADMIN}'><item jid='${jid}' affiliation='${affiliation}'>${r}</item></query></iq>`;
}

describe('affiliation changes of users not in the room (XEP-0045 §9.1, §10.6)', () => {
  it('a ban carries status 301 before the item (as Prosody 0.12); a membership none', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo');
    sim.join(JULIET, 'Juliet');
    const ban = sim.send(ROMEO, setAffiliation('user9@localhost', 'outcast', 'Spy'));
    const toRomeo = to(ban, ROMEO).filter((el) => el.name === 'message');
    assert.equal(toRomeo.length, 1);
    assert.equal(toRomeo[0]!.attrs.from, ROOM);
    assert.equal(xShape(toRomeo[0]), 'status(code=301) item(affiliation=outcast,jid=user9@localhost)[reason()"Spy"]');
    // Juliet (a participant of a semi-anonymous room) may not see the JID: no notice.
    assert.equal(to(ban, JULIET).length, 0);
    const member = sim.send(ROMEO, setAffiliation('user8@localhost', 'member'));
    const notice = to(member, ROMEO).filter((el) => el.name === 'message');
    assert.equal(xShape(notice[0]), 'item(affiliation=member,jid=user8@localhost)');
  });
});
