import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NS } from '@parley/xml';
import { JULIET, ROMEO, ROOM, ROSALINE, Sim, to, xShape } from './harness.js';

const OID = 'urn:xmpp:occupant-id:0';

function affiliate(sim: Sim, items: string): void {
  const out = sim.send(ROMEO, `<iq type='set' id='aff' to='${ROOM}'><query xmlns='${NS.MUC_ADMIN}'>${items}</query></iq>`);
  assert.equal(to(out, ROMEO).find((s) => s.name === 'iq')?.attrs.type, 'result');
}

/** A room with Romeo (owner) in it and absent members: Tybalt (nick), Benvolio (no nick), Paris (banned, nick). */
function room(broadcast: string, extra = ''): Sim {
  const sim = new Sim();
  const values = broadcast.split(' ').map((v) => `<value>${v}</value>`).join('');
  sim.create(ROMEO, 'Romeo', `<field var='muc#roomconfig_presencebroadcast'>${values}</field>${extra}`);
  affiliate(
    sim,
    `<item affiliation='member' jid='tybalt@localhost' nick='Tybalt'/>` +
      `<item affiliation='admin' jid='benvolio@localhost'/>` +
      `<item affiliation='outcast' jid='paris@localhost' nick='Paris'/>` +
      `<item affiliation='member' jid='user2@localhost' nick='Juliet'/>`,
  );
  return sim;
}

describe('absent members (presencebroadcast none, as Prosody 0.12)', () => {
  it('is off by default: a joiner gets no presence for absent members', () => {
    const sim = room('moderator participant visitor');
    const join = to(sim.join(ROSALINE, 'Rosaline'), ROSALINE).filter((s) => s.name === 'presence');
    assert.deepEqual(join.map((s) => s.attrs.from), [`${ROOM}/Romeo`, `${ROOM}/Rosaline`]);
  });

  it('shows absent members with a nick as unavailable, role none, after the occupants and before self-presence', () => {
    const sim = room('moderator participant visitor none');
    const join = to(sim.join(ROSALINE, 'Rosaline'), ROSALINE).filter((s) => s.name === 'presence');
    // Not Benvolio (no nick) nor Paris (outcast); Juliet is an absent member too.
    assert.deepEqual(
      join.map((s) => `${String(s.attrs.from)} ${String(s.attrs.type ?? 'available')}`),
      [`${ROOM}/Romeo available`, `${ROOM}/Tybalt unavailable`, `${ROOM}/Juliet unavailable`, `${ROOM}/Rosaline available`],
    );
    assert.equal(xShape(join[1]), 'item(affiliation=member,nick=Tybalt,role=none)');
    assert.equal(join[1]!.getChildren('occupant-id', OID).length, 1, 'XEP-0421: every presence');
  });

  it('leaves out members in the room and the joiner itself', () => {
    const sim = room('moderator participant visitor none');
    sim.join(JULIET, 'Juliet');
    const join = to(sim.join('tybalt@localhost/home', 'Tybalt'), 'tybalt@localhost/home').filter((s) => s.name === 'presence');
    assert.deepEqual(join.map((s) => s.attrs.from), [`${ROOM}/Romeo`, `${ROOM}/Juliet`, `${ROOM}/Tybalt`]);
    assert.equal(join[2]!.attrs.type, undefined);
  });

  it('shows real JIDs to those who may see them, still not members without a nick (as Prosody)', () => {
    const sim = room('moderator participant visitor none', `<field var='muc#roomconfig_whois'><value>anyone</value></field>`);
    const join = to(sim.join(ROSALINE, 'Rosaline'), ROSALINE).filter((s) => s.attrs.type === 'unavailable');
    assert.deepEqual(
      join.map((s) => [s.attrs.from, xShape(s)]),
      [
        [`${ROOM}/Tybalt`, 'item(affiliation=member,jid=tybalt@localhost,nick=Tybalt,role=none)'],
        [`${ROOM}/Juliet`, 'item(affiliation=member,jid=user2@localhost,nick=Juliet,role=none)'],
      ],
    );
  });

  it('is read from the form and offered in it', () => {
    const sim = room('moderator none');
    assert.deepEqual(sim.room?.config.presenceBroadcast, ['moderator', 'none']);
    const form = to(sim.send(ROMEO, `<iq type='get' id='f' to='${ROOM}'><query xmlns='${NS.MUC_OWNER}'/></iq>`), ROMEO)[0]!;
    const field = form.getChild('query')!.getChild('x', 'jabber:x:data')!.getChildren('field').find((f) => f.attrs.var === 'muc#roomconfig_presencebroadcast')!;
    assert.deepEqual(field.getChildren('option').map((o) => o.getChildText('value')), ['moderator', 'participant', 'visitor', 'none']);
    assert.deepEqual(field.getChildren('value').map((v) => v.getText()), ['moderator', 'none']);
  });
});
