// Admin commands that act on occupants and affiliations (issue #4): kick, set-role,
// set-affiliations, remove-user. Their notifications are compared with the same change
// made over XMPP (muc#admin) by an owner: identical but for the <actor/> (the service
// acts, and is not named) and the iq result.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Element } from 'ltx';
import { NS } from '@parley/xml';
import type { Outgoing } from '@parley/muc';
import { JULIET, ROMEO, ROOM, ROSALINE, Sim, to, toJson, xShape, xml } from './harness.js';

const OWNER = 'user@localhost';

function admin(items: string): string {
  return `<iq type='set' id='a' to='${ROOM}'><query xmlns='${NS.MUC_ADMIN}'>${items}</query></iq>`;
}

/** A room owned by Romeo's account (created by command), with Romeo, Juliet and Rosaline. */
function populated(config: Record<string, unknown> = {}): Sim {
  const sim = new Sim();
  sim.command({ op: 'create', owners: [OWNER], config });
  sim.join(ROMEO, 'Romeo');
  sim.join(JULIET, 'Juliet');
  sim.join(ROSALINE, 'Rosaline');
  return sim;
}

function withoutActor(stanza: Element): string {
  const copy = xml(stanza.toString());
  const item = copy.getChild('x', NS.MUC_USER)?.getChild('item');
  if (item !== undefined) item.children = item.children.filter((c: Element | string) => typeof c === 'string' || c.name !== 'actor');
  return copy.toString();
}

/** The XMPP path's notifications (no iq), actors removed, as [to, xml]. */
function notifications(out: readonly Outgoing[]): [string, string][] {
  return out.filter((o) => o.stanza.name !== 'iq').map((o) => [o.to, withoutActor(o.stanza)]);
}

function plain(out: readonly Outgoing[]): [string, string][] {
  return out.map((o) => [o.to, o.stanza.toString()]);
}

function failure(sim: Sim): string | undefined {
  const r = sim.result;
  return r.ok ? undefined : r.error;
}

describe('command: kick (§8.2)', () => {
  it('removes the occupant with 307 and the reason, as a moderator kick does, without <actor/>', () => {
    const viaXmpp = populated();
    const xmppOut = viaXmpp.send(ROMEO, admin(`<item nick='Juliet' role='none'><reason>Avaunt</reason></item>`));
    const viaCommand = populated();
    const out = viaCommand.command({ op: 'kick', nick: 'Juliet', reason: 'Avaunt' });
    assert.deepEqual(plain(out), notifications(xmppOut));
    assert.equal(xShape(to(out, JULIET)[0]), `status(code=307) item(affiliation=none,jid=${JULIET},role=none)[reason()"Avaunt"] status(code=110)`);
    assert.equal(xShape(to(out, ROSALINE)[0]), `status(code=307) item(affiliation=none,role=none)[reason()"Avaunt"]`);
    assert.deepEqual(viaCommand.room, viaXmpp.room);
    const r = viaCommand.result;
    assert.ok(r.ok);
    assert.deepEqual(r.room?.occupants.map((o) => o.nick), ['Romeo', 'Rosaline']);
  });

  it('may kick an owner; unknown nicks are item-not-found', () => {
    const sim = populated();
    const out = sim.command({ op: 'kick', nick: 'Romeo' });
    assert.equal(xShape(to(out, ROMEO)[0]), `status(code=307) item(affiliation=owner,jid=${ROMEO},role=none) status(code=110)`);
    sim.command({ op: 'kick', nick: 'Nobody' });
    assert.equal(failure(sim), 'item-not-found');
  });

  it('closes a temporary room when the last occupant is kicked (§7.14), answering without a snapshot', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo');
    sim.command({ op: 'kick', nick: 'Romeo' });
    assert.equal(sim.room, undefined);
    assert.deepEqual(sim.effects.slice(-2).map((e) => e.kind), ['destroyed', 'command-result']);
    assert.deepEqual(sim.result, { ok: true });
  });
});

describe('command: set-role (§8.3–§8.6, §9.6–§9.7)', () => {
  it('grants voice with the same presence broadcast as a moderator', () => {
    const viaXmpp = populated({ moderated: true });
    const xmppOut = viaXmpp.send(ROMEO, admin(`<item nick='Juliet' role='participant'><reason>Speak</reason></item>`));
    const viaCommand = populated({ moderated: true });
    assert.equal(viaCommand.room?.occupants.get('juliet')?.role, 'visitor');
    const out = viaCommand.command({ op: 'set-role', nick: 'Juliet', role: 'participant', reason: 'Speak' });
    assert.deepEqual(plain(out), notifications(xmppOut));
    assert.equal(xShape(to(out, JULIET)[0]), `item(affiliation=none,jid=${JULIET},role=participant)[reason()"Speak"] status(code=110)`);
    assert.equal(viaCommand.room?.occupants.get('juliet')?.role, 'participant');
  });

  it('grants and revokes moderator status; admins and owners keep theirs (not-allowed)', () => {
    const sim = populated();
    sim.command({ op: 'set-role', nick: 'Juliet', role: 'moderator' });
    assert.equal(sim.room?.occupants.get('juliet')?.role, 'moderator');
    sim.command({ op: 'set-role', nick: 'Juliet', role: 'visitor' });
    assert.equal(sim.room?.occupants.get('juliet')?.role, 'visitor');
    const before = toJson(sim.room!);
    assert.deepEqual(sim.command({ op: 'set-role', nick: 'Romeo', role: 'participant' }), []);
    assert.equal(failure(sim), 'not-allowed');
    assert.equal(toJson(sim.room!), before);
    sim.command({ op: 'set-role', nick: 'Romeo', role: 'moderator' });
    assert.ok(sim.result.ok);
    sim.command({ op: 'set-role', nick: 'Nobody', role: 'moderator' });
    assert.equal(failure(sim), 'item-not-found');
  });

  it('does nothing when the role is already the one asked for', () => {
    const sim = populated();
    assert.deepEqual(sim.command({ op: 'set-role', nick: 'Juliet', role: 'participant' }), []);
    assert.deepEqual(sim.effects.map((e) => e.kind), ['command-result']);
  });
});

describe('command: set-affiliations (§9, §10)', () => {
  it('bans an occupant with 301 and the reason, as an owner does', () => {
    const viaXmpp = populated();
    const xmppOut = viaXmpp.send(ROMEO, admin(`<item affiliation='outcast' jid='user2@localhost'><reason>Treason</reason></item>`));
    const viaCommand = populated();
    const out = viaCommand.command({ op: 'set-affiliations', items: [{ jid: 'user2@localhost', affiliation: 'outcast', reason: 'Treason' }] });
    assert.deepEqual(plain(out), notifications(xmppOut));
    assert.equal(xShape(to(out, JULIET)[0]), `status(code=301) item(affiliation=outcast,jid=${JULIET},role=none)[reason()"Treason"] status(code=110)`);
    assert.deepEqual(viaCommand.room, viaXmpp.room);
    const r = viaCommand.result;
    assert.ok(r.ok);
    assert.deepEqual(r.room?.affiliations.find((a) => a.jid === 'user2@localhost'), { jid: 'user2@localhost', affiliation: 'outcast', reason: 'Treason' });
  });

  it('re-broadcasts presence on promotion and removes with 321 on losing membership of a members-only room', () => {
    const viaXmpp = populated();
    const promote = viaXmpp.send(ROMEO, admin(`<item affiliation='admin' jid='user2@localhost'/>`));
    const viaCommand = populated();
    const out = viaCommand.command({ op: 'set-affiliations', items: [{ jid: 'user2@localhost', affiliation: 'admin' }] });
    assert.deepEqual(plain(out), notifications(promote));
    assert.equal(viaCommand.room?.occupants.get('juliet')?.role, 'moderator');

    const sim = new Sim();
    sim.command({ op: 'create', owners: [OWNER], config: { membersOnly: true } });
    sim.command({ op: 'set-affiliations', items: [{ jid: 'user2@localhost', affiliation: 'member' }] });
    sim.join(ROMEO, 'Romeo');
    sim.join(JULIET, 'Juliet');
    const removal = sim.command({ op: 'set-affiliations', items: [{ jid: 'user2@localhost', affiliation: 'none' }] });
    assert.equal(xShape(to(removal, JULIET)[0]), `status(code=321) item(affiliation=none,jid=${JULIET},role=none) status(code=110)`);
    assert.equal(xShape(to(removal, ROMEO)[0]), `status(code=321) item(affiliation=none,jid=${JULIET},role=none)`);
    assert.equal(sim.room?.occupants.get('juliet'), undefined);
  });

  it('tells occupants who may see real JIDs about users not in the room (§10.6)', () => {
    const viaXmpp = populated();
    const xmppOut = viaXmpp.send(ROMEO, admin(`<item affiliation='member' jid='friar@localhost' nick='Laurence'/>`));
    const viaCommand = populated();
    const out = viaCommand.command({ op: 'set-affiliations', items: [{ jid: 'friar@localhost', affiliation: 'member', nick: 'Laurence' }] });
    assert.deepEqual(plain(out), notifications(xmppOut));
    assert.deepEqual(out.map((o) => o.to), [ROMEO]);
    assert.equal(xShape(out[0]?.stanza), 'item(affiliation=member,jid=friar@localhost)');
    assert.deepEqual(viaCommand.room?.affiliations.get('friar@localhost'), { affiliation: 'member', nick: 'Laurence' });
  });

  it('keeps the last owner (conflict) but lets an ownerless room stay without one', () => {
    const sim = populated();
    const before = toJson(sim.room!);
    sim.command({ op: 'set-affiliations', items: [{ jid: OWNER, affiliation: 'member' }] });
    assert.equal(failure(sim), 'conflict');
    assert.equal(toJson(sim.room!), before);
    sim.command({ op: 'set-affiliations', items: [{ jid: 'user3@localhost', affiliation: 'owner' }, { jid: OWNER, affiliation: 'member' }] });
    assert.ok(sim.result.ok);
    assert.equal(sim.room?.occupants.get('romeo')?.role, 'participant');

    const ownerless = new Sim();
    ownerless.command({ op: 'create' });
    ownerless.command({ op: 'set-affiliations', items: [{ jid: 'a@localhost', affiliation: 'member' }] });
    assert.ok(ownerless.result.ok);
  });

  it('checks every item first: a reserved nick held by another user refuses them all (conflict)', () => {
    const sim = populated();
    sim.command({ op: 'set-affiliations', items: [{ jid: 'a@localhost', affiliation: 'member', nick: 'Tybalt' }] });
    const before = toJson(sim.room!);
    const out = sim.command({
      op: 'set-affiliations',
      items: [
        { jid: 'b@localhost', affiliation: 'admin' },
        { jid: 'c@localhost', affiliation: 'member', nick: 'Tybalt' },
      ],
    });
    assert.deepEqual(out, []);
    assert.equal(failure(sim), 'conflict');
    assert.equal(toJson(sim.room!), before);
  });
});

describe('command: remove-user', () => {
  it('in an open room: drops the affiliation and removes every session with 307, affiliation none', () => {
    const sim = populated();
    sim.command({ op: 'set-affiliations', items: [{ jid: 'user2@localhost', affiliation: 'member', nick: 'Juliet' }] });
    sim.join('user2@localhost/other', 'Juliet');
    const out = sim.command({ op: 'remove-user', jid: 'user2@localhost/whatever' });
    assert.deepEqual(to(out, JULIET).map(xShape), [`status(code=307) item(affiliation=none,jid=${JULIET},role=none) status(code=110)`]);
    assert.deepEqual(to(out, 'user2@localhost/other').map(xShape), [`status(code=307) item(affiliation=none,jid=user2@localhost/other,role=none) status(code=110)`]);
    assert.equal(xShape(to(out, ROSALINE)[0]), `status(code=307) item(affiliation=none,role=none)`);
    assert.equal(to(out, ROSALINE).length, 1);
    assert.equal(sim.room?.occupants.get('juliet'), undefined);
    assert.equal(sim.room?.affiliations.get('user2@localhost'), undefined);
    const r = sim.result;
    assert.ok(r.ok);
    assert.deepEqual(r.room?.occupants.map((o) => o.nick), ['Romeo', 'Rosaline']);
  });

  it('in a members-only room: removes with 321, as losing membership does (§9.4)', () => {
    const sim = new Sim();
    sim.command({ op: 'create', owners: [OWNER], config: { membersOnly: true } });
    sim.command({ op: 'set-affiliations', items: [{ jid: 'user2@localhost', affiliation: 'member' }] });
    sim.join(ROMEO, 'Romeo');
    sim.join(JULIET, 'Juliet');
    const out = sim.command({ op: 'remove-user', jid: 'user2@localhost' });
    assert.equal(xShape(to(out, JULIET)[0]), `status(code=321) item(affiliation=none,jid=${JULIET},role=none) status(code=110)`);
    assert.equal(to(out, JULIET).length, 1);
    assert.equal(sim.room?.occupants.get('juliet'), undefined);
  });

  it('for an absent user: drops the affiliation (even the last owner) and tells moderators', () => {
    const sim = new Sim();
    sim.command({ op: 'create', owners: ['gone@localhost'] });
    sim.join('admin@localhost/console', 'Boss');
    sim.join(JULIET, 'Juliet');
    const out = sim.command({ op: 'remove-user', jid: 'gone@localhost' });
    assert.deepEqual(out.map((o) => o.to), ['admin@localhost/console']);
    assert.equal(xShape(out[0]?.stanza), 'item(affiliation=none,jid=gone@localhost)');
    assert.equal(sim.room?.affiliations.size, 0);
    assert.ok(sim.result.ok);
  });

  it('succeeds with nothing to do', () => {
    const sim = populated();
    const out = sim.command({ op: 'remove-user', jid: 'stranger@localhost' });
    assert.deepEqual(out, []);
    assert.ok(sim.result.ok);
    assert.ok(!sim.effects.some((e) => e.kind === 'persist'));
  });
});
