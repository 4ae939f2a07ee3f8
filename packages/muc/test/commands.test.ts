// Admin commands (issue #4): create, get, configure, destroy, send-message, refusals,
// one command-result per command, JSON round trips. Occupant commands (kick, set-role,
// set-affiliations, remove-user) are in commands-occupants.test.ts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NS } from '@parley/xml';
import { step, type RoomState } from '@parley/muc';
import { JULIET, ROMEO, ROOM, ROSALINE, Sim, fromJson, makeCtx, roundTrip, shape, toJson, to, userX, xShape } from './harness.js';

const OWNER = 'user@localhost';

/** A room created by command, owned by Romeo's account, with Romeo and Juliet in it. */
function populated(config: Record<string, unknown> = {}): Sim {
  const sim = new Sim();
  sim.command({ op: 'create', owners: [OWNER], config });
  sim.join(ROMEO, 'Romeo');
  sim.join(JULIET, 'Juliet');
  return sim;
}

function failure(sim: Sim): string | undefined {
  const r = sim.result;
  return r.ok ? undefined : r.error;
}

describe('command: create (§10.1.3)', () => {
  it('creates an unlocked, persistent room with its owners and answers with the snapshot', () => {
    const sim = new Sim();
    const out = sim.command({ op: 'create', owners: ['user@localhost/ignored', 'user2@LOCALHOST'], config: { name: 'Verona', maxUsers: 10 } }, 'c-1');
    assert.deepEqual(out, []);
    assert.equal(sim.room?.locked, false);
    assert.equal(sim.room?.config.persistent, true);
    assert.equal(sim.room?.config.name, 'Verona');
    assert.equal(sim.room?.config.maxUsers, 10);
    assert.deepEqual(sim.effects.map((e) => e.kind), ['log', 'persist', 'command-result']);
    const r = sim.result;
    assert.ok(r.ok);
    assert.deepEqual(r.room?.affiliations, [
      { jid: 'user2@localhost', affiliation: 'owner' },
      { jid: 'user@localhost', affiliation: 'owner' },
    ]);
    assert.deepEqual(JSON.parse(JSON.stringify(r)), r);
  });

  it('a client then gets a normal join: no 201, no lock; an owner enters as moderator', () => {
    const sim = new Sim();
    sim.command({ op: 'create', owners: [OWNER] });
    const juliet = sim.join(JULIET, 'Juliet');
    assert.equal(xShape(to(juliet, JULIET)[0]), `item(affiliation=none,jid=${JULIET},role=participant) status(code=110)`);
    const romeo = to(sim.join(ROMEO, 'Romeo'), ROMEO);
    assert.equal(xShape(romeo.find((s) => s.attrs.from === `${ROOM}/Romeo`)), `item(affiliation=owner,jid=${ROMEO},role=moderator) status(code=110)`);
    assert.ok(!sim.effects.some((e) => e.kind === 'destroyed'));
  });

  it('refuses an existing room (conflict) and bad configuration or owners (bad-request), creating nothing', () => {
    const sim = new Sim();
    sim.command({ op: 'create' });
    const room = sim.room;
    sim.command({ op: 'create' });
    assert.equal(failure(sim), 'conflict');
    assert.deepEqual(sim.room, room);
    assert.ok(!sim.effects.some((e) => e.kind === 'persist'));
    for (const config of [
      { maxUsers: -1 },
      { maxUsers: 1.5 },
      { maxUsers: '10' },
      { whois: 'everybody' },
      { allowPm: 'some' },
      { presenceBroadcast: ['moderator', 'king'] },
      { persistent: 'yes' },
      { passwordProtected: true },
      { historyLength: 100000 },
      { colour: 'red' },
    ]) {
      const fresh = new Sim();
      fresh.command({ op: 'create', config });
      assert.equal(failure(fresh), 'bad-request', JSON.stringify(config));
      assert.equal(fresh.room, undefined);
      assert.deepEqual(fresh.effects.map((e) => e.kind), ['log', 'command-result']);
    }
    const bad = new Sim();
    bad.command({ op: 'create', owners: ['@nowhere'] });
    assert.equal(failure(bad), 'bad-request');
    bad.command({ op: 'create', owners: 'user@localhost' });
    assert.equal(failure(bad), 'bad-request');
  });

  it('derives password protection like the form does', () => {
    const sim = new Sim();
    sim.command({ op: 'create', config: { password: 'secret' } });
    assert.equal(sim.room?.config.passwordProtected, true);
    assert.equal(sim.room?.config.password, 'secret');
  });

  it('a temporary room stays empty until its first occupant has entered and left', () => {
    const sim = new Sim();
    sim.command({ op: 'create', config: { persistent: false } });
    assert.equal(sim.room?.config.persistent, false);
    sim.command({ op: 'get' });
    assert.ok(sim.room);
    sim.send(ROMEO, `<iq type='get' id='d' to='${ROOM}'><query xmlns='${NS.DISCO_INFO}'/></iq>`);
    assert.ok(sim.room);
    sim.join(JULIET, 'Juliet');
    sim.send(JULIET, `<presence type='unavailable' to='${ROOM}/Juliet'/>`);
    assert.equal(sim.room, undefined);
    assert.ok(sim.effects.some((e) => e.kind === 'destroyed'));
  });
});

describe('command: get', () => {
  it('shows occupants (every session) and affiliations sorted by JID', () => {
    const sim = populated();
    sim.join('user2@localhost/other', 'Juliet');
    sim.send(ROMEO, `<message type='groupchat' to='${ROOM}'><subject>Fair Verona</subject></message>`);
    sim.command({ op: 'set-affiliations', items: [{ jid: 'b@localhost', affiliation: 'member', nick: 'Bee' }, { jid: 'a@localhost', affiliation: 'outcast', reason: 'Spam' }] });
    const out = sim.command({ op: 'get' });
    assert.deepEqual(out, []);
    assert.ok(!sim.effects.some((e) => e.kind === 'persist'));
    const r = sim.result;
    assert.ok(r.ok && r.room);
    assert.equal(r.room.jid, ROOM);
    assert.equal(r.room.locked, false);
    assert.deepEqual(r.room.subject, { text: 'Fair Verona', nick: 'Romeo' });
    assert.equal(r.room.created, makeCtx().now);
    assert.deepEqual(r.room.occupants, [
      { nick: 'Romeo', jid: OWNER, fullJids: [ROMEO], role: 'moderator', affiliation: 'owner' },
      { nick: 'Juliet', jid: 'user2@localhost', fullJids: [JULIET, 'user2@localhost/other'], role: 'participant', affiliation: 'none' },
    ]);
    assert.deepEqual(r.room.affiliations, [
      { jid: 'a@localhost', affiliation: 'outcast', reason: 'Spam' },
      { jid: 'b@localhost', affiliation: 'member', nick: 'Bee' },
      { jid: OWNER, affiliation: 'owner' },
    ]);
    assert.deepEqual(r.room.config, sim.room?.config);
  });

  it('shows service admins in the room as owners', () => {
    const sim = populated();
    sim.join('admin@localhost/console', 'Boss');
    const r = (sim.command({ op: 'get' }), sim.result);
    assert.ok(r.ok);
    assert.equal(r.room?.occupants.find((o) => o.nick === 'Boss')?.affiliation, 'owner');
  });
});

describe('command refusals', () => {
  it('answers item-not-found for every op but create when the room does not exist', () => {
    for (const command of [
      { op: 'get' },
      { op: 'configure', config: {} },
      { op: 'destroy' },
      { op: 'kick', nick: 'x' },
      { op: 'set-role', nick: 'x', role: 'visitor' },
      { op: 'set-affiliations', items: [{ jid: 'a@localhost', affiliation: 'member' }] },
      { op: 'send-message', body: 'hi' },
      { op: 'remove-user', jid: 'a@localhost' },
    ]) {
      const sim = new Sim();
      const out = sim.command(command);
      assert.deepEqual(out, []);
      assert.equal(failure(sim), 'item-not-found', command.op);
      assert.equal(sim.room, undefined);
    }
  });

  it('answers bad-request for malformed commands, changing nothing', () => {
    const sim = populated();
    const before = toJson(sim.room!);
    for (const command of [
      null,
      'get',
      [],
      {},
      { op: 'explode' },
      { op: 'configure' },
      { op: 'configure', config: [] },
      { op: 'kick' },
      { op: 'kick', nick: 7 },
      { op: 'kick', nick: 'Juliet', reason: 3 },
      { op: 'set-role', nick: 'Juliet', role: 'none' },
      { op: 'set-role', nick: 'Juliet', role: 'king' },
      { op: 'set-affiliations', items: [] },
      { op: 'set-affiliations', items: [{ jid: 'a@localhost', affiliation: 'friend' }] },
      { op: 'set-affiliations', items: [{ jid: '@bad', affiliation: 'member' }] },
      { op: 'set-affiliations', items: [{ affiliation: 'member' }] },
      { op: 'send-message' },
      { op: 'send-message', body: '' },
      { op: 'remove-user', jid: 'a@b@c' },
      { op: 'destroy', alternate: '@bad' },
    ]) {
      const out = sim.command(command);
      assert.deepEqual(out, [], JSON.stringify(command));
      assert.equal(failure(sim), 'bad-request', JSON.stringify(command));
      assert.equal(toJson(sim.room!), before);
    }
  });

  it('answers bad-request for invalid configuration values and changes nothing', () => {
    const sim = populated();
    const before = toJson(sim.room!);
    for (const config of [{ maxUsers: -1 }, { whois: 'nobody' }, { membersOnly: 1 }, { unknown: true }]) {
      const out = sim.command({ op: 'configure', config });
      assert.deepEqual(out, []);
      assert.equal(failure(sim), 'bad-request');
      assert.equal(toJson(sim.room!), before);
    }
  });

  it('echoes the commandId, even for a malformed command', () => {
    const sim = new Sim();
    sim.command(undefined, 'abc');
    assert.deepEqual(sim.effects.at(-1), { kind: 'command-result', commandId: 'abc', result: { ok: false, error: 'bad-request', message: 'command must be an object' } });
  });
});

describe('command: configure (§10.2)', () => {
  it('sends the same 104/172 notices as an owner submitting the form, without the iq result', () => {
    const viaForm = populated();
    const formOut = viaForm.configure(ROMEO, `<field var='muc#roomconfig_whois'><value>anyone</value></field><field var='muc#roomconfig_roomname'><value>V</value></field>`);
    const viaCommand = populated();
    const commandOut = viaCommand.command({ op: 'configure', config: { whois: 'anyone', name: 'V' } });
    const notices = formOut.filter((o) => o.stanza.name !== 'iq');
    assert.deepEqual(commandOut.map((o) => [o.to, o.stanza.toString()]), notices.map((o) => [o.to, o.stanza.toString()]));
    assert.equal(xShape(to(commandOut, JULIET)[0]), 'status(code=104) status(code=172)');
    assert.equal(to(commandOut, JULIET)[0]?.attrs.type, 'groupchat');
    assert.deepEqual(viaCommand.room, viaForm.room);
    const r = viaCommand.result;
    assert.ok(r.ok);
    assert.equal(r.room?.config.whois, 'anyone');
    assert.ok(viaCommand.effects.some((e) => e.kind === 'persist'));
  });

  it('removes non-members with 322 when the room becomes members-only, as the form does', () => {
    const viaForm = populated();
    viaForm.join(ROSALINE, 'Rosaline');
    const formOut = viaForm.configure(ROMEO, `<field var='muc#roomconfig_membersonly'><value>1</value></field>`);
    const viaCommand = populated();
    viaCommand.join(ROSALINE, 'Rosaline');
    const commandOut = viaCommand.command({ op: 'configure', config: { membersOnly: true } });
    assert.deepEqual(
      commandOut.map((o) => [o.to, o.stanza.toString()]),
      formOut.filter((o) => o.stanza.name !== 'iq').map((o) => [o.to, o.stanza.toString()]),
    );
    assert.equal(xShape(to(commandOut, JULIET)[0]), `status(code=322) item(affiliation=none,jid=${JULIET},role=none) status(code=110)`);
    assert.deepEqual([...viaCommand.room!.occupants.values()].map((o) => o.nick), ['Romeo']);
  });

  it('sends nothing and persists nothing when nothing changes', () => {
    const sim = populated();
    const out = sim.command({ op: 'configure', config: { persistent: true } });
    assert.deepEqual(out, []);
    assert.deepEqual(sim.effects.map((e) => e.kind), ['command-result']);
    assert.ok(sim.result.ok);
  });

  it('unlocks a room still awaiting its initial configuration (§10.1.2)', () => {
    const sim = new Sim();
    sim.join(ROMEO, 'Romeo');
    assert.equal(sim.room?.locked, true);
    sim.command({ op: 'configure', config: { name: 'Now open' } });
    assert.equal(sim.room?.locked, false);
    assert.equal(to(sim.join(JULIET, 'Juliet'), JULIET).length > 0, true);
    assert.equal(sim.room?.occupants.get('juliet')?.role, 'participant');
  });

  it('closes an empty persistent room made temporary (nobody left to wait for)', () => {
    const sim = new Sim();
    sim.command({ op: 'create' });
    sim.command({ op: 'configure', config: { persistent: false } });
    assert.equal(sim.room, undefined);
    assert.deepEqual(sim.effects.slice(-2).map((e) => e.kind), ['destroyed', 'command-result']);
    assert.deepEqual(sim.result, { ok: true });
  });
});

describe('command: destroy (§10.9)', () => {
  it('sends each occupant one unavailable presence with <destroy/>, like an owner destroying it', () => {
    const viaOwner = populated();
    const ownerOut = viaOwner.send(
      ROMEO,
      `<iq type='set' id='d' to='${ROOM}'><query xmlns='${NS.MUC_OWNER}'><destroy jid='other@conference.localhost'><reason>Plague</reason></destroy></query></iq>`,
    );
    const viaCommand = populated();
    const out = viaCommand.command({ op: 'destroy', reason: 'Plague', alternate: 'other@conference.localhost' });
    assert.deepEqual(out.map((o) => [o.to, o.stanza.toString()]), ownerOut.filter((o) => o.stanza.name !== 'iq').map((o) => [o.to, o.stanza.toString()]));
    assert.equal(xShape(to(out, JULIET)[0]), `destroy(jid=other@conference.localhost)[reason()"Plague"] item(affiliation=none,jid=${JULIET},role=none) status(code=110)`);
    assert.equal(viaCommand.room, undefined);
    assert.deepEqual(viaCommand.effects.slice(-2), [
      { kind: 'destroyed', reason: 'Plague' },
      { kind: 'command-result', commandId: 'cmd', result: { ok: true } },
    ]);
  });

  it('destroys an empty persistent room, with a password for the alternate venue', () => {
    const sim = new Sim();
    sim.command({ op: 'create' });
    assert.deepEqual(sim.command({ op: 'destroy', password: 'pw' }), []);
    assert.equal(sim.room, undefined);
    assert.ok(sim.effects.some((e) => e.kind === 'destroyed'));
  });
});

describe('command: send-message', () => {
  it('sends a groupchat message from the room to every occupant session, outside the history', () => {
    const sim = populated();
    sim.join('user2@localhost/other', 'Juliet');
    const out = sim.command({ op: 'send-message', body: 'The service will restart' });
    assert.deepEqual(out.map((o) => o.to), [ROMEO, JULIET, 'user2@localhost/other']);
    for (const o of out) {
      assert.equal(shape(o.stanza), `message(from=${ROOM},to=${o.to},type=groupchat)[body()"The service will restart"]`);
      assert.ok(o.route);
    }
    assert.deepEqual(sim.room?.history, []);
    assert.deepEqual(sim.effects.map((e) => e.kind), ['command-result']);
    assert.deepEqual(sim.result, { ok: true });
    // A later joiner does not get it as history.
    const rosaline = to(sim.join(ROSALINE, 'Rosaline'), ROSALINE);
    assert.ok(!rosaline.some((s) => s.name === 'message' && s.getChild('body') !== undefined));
  });

  it('sends a normal message to one occupant, or item-not-found', () => {
    const sim = populated();
    const out = sim.command({ op: 'send-message', body: 'psst', nick: 'Juliet' });
    assert.deepEqual(out.map((o) => shape(o.stanza)), [`message(from=${ROOM},to=${JULIET},type=normal)[body()"psst"]`]);
    assert.equal(userX(out[0]?.stanza), undefined);
    sim.command({ op: 'send-message', body: 'psst', nick: 'Nobody' });
    assert.equal(failure(sim), 'item-not-found');
  });
});

describe('commands and JSON', () => {
  it('each command gives the same result on a JSON round-tripped room and leaves plain JSON', () => {
    const sim = populated({ moderated: true });
    sim.join(ROSALINE, 'Rosaline');
    const commands = [
      { op: 'set-role', nick: 'Rosaline', role: 'participant' },
      { op: 'set-affiliations', items: [{ jid: 'user2@localhost', affiliation: 'admin', reason: 'Trusted' }] },
      { op: 'configure', config: { whois: 'anyone', historyLength: 5 } },
      { op: 'kick', nick: 'Rosaline', reason: 'Bye' },
      { op: 'remove-user', jid: 'user2@localhost' },
      { op: 'get' },
    ];
    for (const [i, command] of commands.entries()) {
      const room = sim.room as RoomState;
      const frozen = toJson(room);
      const input = { kind: 'command' as const, command: command as never, commandId: `c${i}` };
      const a = step(room, ROOM, input, makeCtx());
      const b = step(fromJson(frozen), ROOM, input, makeCtx());
      assert.equal(toJson(room), frozen);
      assert.deepEqual(a.out.map((o) => [o.to, o.stanza.toString()]), b.out.map((o) => [o.to, o.stanza.toString()]));
      assert.deepEqual(a.effects, b.effects);
      assert.deepEqual(roundTrip(a.room), a.room);
      assert.deepEqual(JSON.parse(JSON.stringify(a.effects)), a.effects);
      assert.equal(a.effects.filter((e) => e.kind === 'command-result').length, 1);
      sim.command(command, `c${i}`);
      assert.ok(sim.result.ok, command.op);
    }
    assert.deepEqual([...sim.room!.occupants.values()].map((o) => o.nick), ['Romeo']);
  });
});
