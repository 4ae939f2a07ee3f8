// The four seed scansion scripts (/work/shared/scansion/seeds), replayed at the step level:
// for each client, the stanzas it must receive in order, with the muc#user <x/> children
// compared strictly (names, attribute sets, order) as scansion does.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NS } from '@parley/xml';
import { JULIET, ROMEO, ROOM, ROSALINE, Sim, errorCondition, to, xShape } from './harness.js';

const MEMBERSONLY = `<field var='muc#roomconfig_membersonly'><value>1</value></field>`;

function createFlow(sim: Sim, extraFields = ''): void {
  const out = sim.join(ROMEO, 'Romeo');
  const romeo = to(out, ROMEO);
  assert.equal(romeo.length, 2);
  assert.equal(romeo[0]!.attrs.from, `${ROOM}/Romeo`);
  assert.equal(xShape(romeo[0]), `status(code=201) item(affiliation=owner,jid=${ROMEO},role=moderator) status(code=110)`);
  assert.equal(romeo[1]!.name, 'message');
  assert.equal(romeo[1]!.attrs.type, 'groupchat');
  assert.equal(romeo[1]!.attrs.from, ROOM);
  assert.equal(romeo[1]!.getChildText('subject'), '');
  const cfg = sim.configure(ROMEO, extraFields, 'config1');
  const result = to(cfg, ROMEO).find((s) => s.name === 'iq');
  assert.equal(result?.attrs.type, 'result');
  assert.equal(result?.attrs.id, 'config1');
  assert.equal(result?.attrs.from, ROOM);
  assert.equal(sim.room?.locked, false);
}

function julietJoins(sim: Sim, inner = ''): void {
  const out = sim.join(JULIET, 'Juliet', inner);
  const juliet = to(out, JULIET);
  assert.deepEqual(
    juliet.map((s) => `${s.name}:${String(s.attrs.from)}`),
    [`presence:${ROOM}/Romeo`, `presence:${ROOM}/Juliet`, `message:${ROOM}`],
  );
  assert.equal(juliet[2]!.getChildText('subject'), '');
  const romeo = to(out, ROMEO);
  assert.equal(romeo.length, 1);
  assert.equal(romeo[0]!.attrs.from, `${ROOM}/Juliet`);
}

describe('seed muc_affiliation_notify', () => {
  it('notifies moderators of affiliation changes of non-occupants, before the iq result', () => {
    const sim = new Sim();
    createFlow(sim);
    let out = sim.send(ROMEO, `<iq id='member1' to='${ROOM}' type='set'><query xmlns='${NS.MUC_ADMIN}'><item affiliation='member' jid='user2@localhost'/></query></iq>`);
    let romeo = to(out, ROMEO);
    assert.equal(romeo.length, 2);
    assert.equal(romeo[0]!.name, 'message');
    assert.equal(romeo[0]!.attrs.from, ROOM);
    assert.equal(xShape(romeo[0]), 'item(affiliation=member,jid=user2@localhost)');
    assert.equal(romeo[1]!.name, 'iq');
    assert.equal(romeo[1]!.attrs.type, 'result');
    assert.equal(romeo[1]!.attrs.id, 'member1');

    julietJoins(sim);

    out = sim.send(ROMEO, `<iq id='member3' to='${ROOM}' type='get'><query xmlns='${NS.MUC_ADMIN}'><item affiliation='member'/></query></iq>`);
    const list = to(out, ROMEO)[0]!;
    assert.equal(list.attrs.type, 'result');
    const items = list.getChild('query', NS.MUC_ADMIN)!.getChildElements();
    assert.deepEqual(items.map((i) => ({ ...i.attrs })), [{ affiliation: 'member', jid: 'user2@localhost' }]);

    out = sim.send(ROMEO, `<iq id='member2' to='${ROOM}' type='set'><query xmlns='${NS.MUC_ADMIN}'><item affiliation='member' jid='user3@localhost'/></query></iq>`);
    romeo = to(out, ROMEO);
    assert.equal(xShape(romeo[0]), 'item(affiliation=member,jid=user3@localhost)');
    assert.equal(romeo[1]!.attrs.id, 'member2');
    // Juliet is not a moderator in a semi-anonymous room: she does not learn Rosaline's JID.
    assert.equal(to(out, JULIET).length, 0);
    assert.equal(to(out, ROSALINE).length, 0);

    out = sim.send(ROMEO, `<message type='groupchat' to='${ROOM}'><body>Finished!</body></message>`);
    const got = to(out, JULIET)[0]!;
    assert.equal(got.attrs.from, `${ROOM}/Romeo`);
    assert.equal(got.attrs.type, 'groupchat');
    assert.equal(got.getChildText('body'), 'Finished!');
  });
});

describe('seed muc_members_only_change', () => {
  it('removes a member who loses membership with 321 and an actor', () => {
    const sim = new Sim();
    createFlow(sim, MEMBERSONLY);
    assert.equal(sim.room?.config.membersOnly, true);
    let out = sim.send(ROMEO, `<iq id='member1' to='${ROOM}' type='set'><query xmlns='${NS.MUC_ADMIN}'><item affiliation='member' jid='user2@localhost'/></query></iq>`);
    assert.equal(xShape(to(out, ROMEO)[0]), 'item(affiliation=member,jid=user2@localhost)');
    assert.equal(to(out, ROMEO)[1]!.attrs.type, 'result');
    julietJoins(sim);

    out = sim.send(ROMEO, `<iq id='member2' to='${ROOM}' type='set'><query xmlns='${NS.MUC_ADMIN}'><item affiliation='none' jid='user2@localhost'/></query></iq>`);
    const romeo = to(out, ROMEO);
    assert.equal(romeo.length, 2);
    assert.equal(romeo[0]!.name, 'presence');
    assert.equal(romeo[0]!.attrs.type, 'unavailable');
    assert.equal(romeo[0]!.attrs.from, `${ROOM}/Juliet`);
    assert.equal(xShape(romeo[0]), `status(code=321) item(affiliation=none,jid=${JULIET},role=none)[actor(jid=${ROMEO},nick=Romeo)]`);
    assert.equal(romeo[1]!.name, 'iq');
    assert.equal(romeo[1]!.attrs.id, 'member2');
    const juliet = to(out, JULIET);
    assert.equal(juliet.length, 1);
    assert.equal(xShape(juliet[0]), `status(code=321) item(affiliation=none,jid=${JULIET},role=none)[actor(nick=Romeo)] status(code=110)`);
    assert.equal(sim.room?.occupants.get('juliet'), undefined);

    // Romeo disconnects: the (temporary) room is destroyed.
    sim.input({ kind: 'session-ended', fullJid: ROMEO, sessionId: `s:${ROMEO}` });
    assert.equal(sim.room, undefined);
    assert.ok(sim.effects.some((e) => e.kind === 'destroyed'));
  });
});

describe('seed muc_members_only_deregister', () => {
  it('removes a member who unregisters with 321, self-presence then iq result', () => {
    const sim = new Sim();
    createFlow(sim, MEMBERSONLY);
    sim.send(ROMEO, `<iq id='member1' to='${ROOM}' type='set'><query xmlns='${NS.MUC_ADMIN}'><item affiliation='member' jid='user2@localhost'/></query></iq>`);
    julietJoins(sim);
    const out = sim.send(JULIET, `<iq type='set' to='${ROOM}' id='unreg1'><query xmlns='jabber:iq:register'><remove/></query></iq>`);
    const juliet = to(out, JULIET);
    assert.equal(juliet.length, 2);
    assert.equal(juliet[0]!.attrs.type, 'unavailable');
    assert.equal(juliet[0]!.attrs.from, `${ROOM}/Juliet`);
    assert.equal(xShape(juliet[0]), `status(code=321) item(affiliation=none,jid=${JULIET},role=none) status(code=110)`);
    assert.equal(juliet[1]!.name, 'iq');
    assert.equal(juliet[1]!.attrs.type, 'result');
    assert.equal(juliet[1]!.attrs.id, 'unreg1');
    assert.equal(juliet[1]!.attrs.from, ROOM);
    const romeo = to(out, ROMEO);
    assert.equal(romeo.length, 1);
    assert.equal(romeo[0]!.attrs.type, 'unavailable');
    assert.equal(xShape(romeo[0]), `status(code=321) item(affiliation=none,jid=${JULIET},role=none)`);
    assert.equal(sim.room?.affiliations.get('user2@localhost'), undefined);
  });
});

describe('seed muc_password', () => {
  it('refuses a wrong password, admits the right one, and drops the password on an empty secret', () => {
    const sim = new Sim();
    createFlow(sim, `<field var='muc#roomconfig_roomsecret'><value>cauldronburn</value></field>`);
    assert.equal(sim.room?.config.passwordProtected, true);

    let out = sim.join(JULIET, 'Juliet');
    let juliet = to(out, JULIET);
    assert.equal(juliet.length, 1);
    assert.equal(juliet[0]!.attrs.type, 'error');
    assert.equal(juliet[0]!.attrs.from, `${ROOM}/Juliet`);
    const error = juliet[0]!.getChild('error')!;
    assert.equal(error.attrs.type, 'auth');
    assert.equal(error.attrs.by, ROOM);
    assert.equal(errorCondition(juliet[0]), 'not-authorized');
    assert.equal(to(out, ROMEO).length, 0);

    julietJoins(sim, '<password>cauldronburn</password>');

    out = sim.send(JULIET, `<presence type='unavailable' to='${ROOM}'/>`);
    assert.equal(to(out, ROMEO)[0]!.attrs.type, 'unavailable');
    assert.equal(to(out, ROMEO)[0]!.attrs.from, `${ROOM}/Juliet`);
    juliet = to(out, JULIET);
    assert.equal(juliet[0]!.attrs.type, 'unavailable');
    assert.equal(juliet[0]!.attrs.from, `${ROOM}/Juliet`);

    out = sim.configure(ROMEO, `<field var='muc#roomconfig_roomsecret'></field>`, 'config2');
    const romeo = to(out, ROMEO);
    assert.equal(romeo[0]!.name, 'iq');
    assert.equal(romeo[0]!.attrs.id, 'config2');
    assert.equal(romeo[1]!.name, 'message');
    assert.equal(romeo[1]!.attrs.type, 'groupchat');
    assert.equal(romeo[1]!.attrs.from, ROOM);
    assert.equal(xShape(romeo[1]), 'status(code=104)');
    assert.equal(sim.room?.config.passwordProtected, false);

    julietJoins(sim);
  });
});
