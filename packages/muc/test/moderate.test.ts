// XEP-0425 (Moderated Message Retraction) 0.3.0 in the room core (features/moderate.ts),
// stanza by stanza: a moderator retracts (§3.1 notice and iq result), a participant is refused
// (§3.2), an unknown id, removal from the history, the archive effects, the §4 tombstone.
// The archive side on Redis: services/room-worker/test/archive-retract.test.ts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Element } from 'ltx';
import { NS, parseOwnElement } from '@parley/xml';
import { applyTombstone, archiveResults, type ArchiveEntry, type ArchiveRetraction, type Effect } from '@parley/muc';
import { JULIET, ROMEO, ROOM, ROSALINE, Sim, errorCondition, shape, to } from './harness.js';

const MODERATE = 'urn:xmpp:message-moderate:1';
const RETRACT = 'urn:xmpp:message-retract:1';
const SID = 'urn:xmpp:sid:0';

function room(fields = ''): Sim {
  const sim = new Sim();
  sim.create(ROMEO, 'Romeo', fields); // owner: moderator role
  sim.join(JULIET, 'Juliet'); // participant
  sim.join(ROSALINE, 'Rosaline');
  return sim;
}
/** Juliet says `body`; returns the room's stanza-id of it. */
function say(sim: Sim, body: string): string {
  const out = sim.send(JULIET, `<message type='groupchat' to='${ROOM}' id='m-${body}'><body>${body}</body></message>`);
  return to(out, ROMEO)[0]!.getChild('stanza-id', SID)!.attrs.id as string;
}
const moderate = (id: string, inner = `<retract xmlns='${RETRACT}'/><reason>spam</reason>`) =>
  `<iq type='set' id='mod1' to='${ROOM}'><moderate id='${id}' xmlns='${MODERATE}'>${inner}</moderate></iq>`;
const retractions = (effects: readonly Effect[]): ArchiveRetraction[] => effects.flatMap((e) => (e.kind === 'archive-retract' ? [e.retraction] : []));
const appended = (effects: readonly Effect[]): ArchiveEntry[] => effects.flatMap((e) => (e.kind === 'archive-append' ? [e.entry] : []));
const iqTo = (out: readonly { stanza: Element }[], jid: string) => out.map((o) => o.stanza).filter((s) => s.name === 'iq' && s.attrs.to === jid);

describe('XEP-0425 moderated retraction in the room core', () => {
  it('advertises urn:xmpp:message-moderate:1 in disco#info (§2)', () => {
    const sim = room();
    const info = to(sim.send(JULIET, `<iq type='get' id='d' to='${ROOM}'><query xmlns='${NS.DISCO_INFO}'/></iq>`), JULIET)[0]!;
    assert.ok(info.getChild('query')!.getChildren('feature').some((f) => f.attrs.var === MODERATE));
  });

  it('a moderator retracts: iq result, and every occupant gets the §3.1 notice from the room, with its own stanza-id', () => {
    const sim = room();
    const id = say(sim, 'buy potions');
    const out = sim.send(ROMEO, moderate(id));
    const result = iqTo(out, ROMEO);
    assert.equal(result.length, 1);
    assert.equal(result[0]!.attrs.type, 'result');
    assert.equal(result[0]!.attrs.id, 'mod1');
    for (const who of [ROMEO, JULIET, ROSALINE]) {
      const notices = to(out, who).filter((s) => s.name === 'message');
      assert.equal(notices.length, 1, `one notice to ${who}`);
      const n = notices[0]!;
      assert.equal(n.attrs.from, ROOM, 'from the room itself');
      assert.equal(n.attrs.type, 'groupchat');
      const retract = n.getChild('retract', RETRACT)!;
      assert.equal(retract.attrs.id, id);
      const moderated = retract.getChild('moderated', MODERATE)!;
      assert.equal(moderated.attrs.by, `${ROOM}/Romeo`, 'the moderator occupant JID, not the real JID');
      assert.ok(moderated.getChild('occupant-id', 'urn:xmpp:occupant-id:0')!.attrs.id, 'the moderator occupant id');
      assert.equal(retract.getChildText('reason'), 'spam');
      assert.equal(n.getChild('body'), undefined, 'XEP-0425 asks for no fallback body');
      const sid = n.getChild('stanza-id', SID)!;
      assert.equal(sid.attrs.by, ROOM);
      assert.notEqual(sid.attrs.id, id);
    }
    assert.equal(shape(to(out, JULIET)[0]!.getChild('retract', RETRACT)!).replace(/id=[^,)\]]+/g, 'id=*'),
      'retract(id=*)[moderated(by=room@conference.localhost/Romeo)[occupant-id(id=*)] reason()"spam"]');
  });

  it('removes the message from the history (late joiners do not get it), keeps the others, and does not add the notice', () => {
    const sim = room();
    say(sim, 'first');
    const id = say(sim, 'bad');
    say(sim, 'last');
    assert.equal(sim.room!.history.length, 3);
    sim.send(ROMEO, moderate(id));
    assert.ok(sim.effects.some((e) => e.kind === 'history-rewrite'), 'history written again');
    assert.equal(sim.room!.history.length, 2);
    const joinOut = sim.join('user4@localhost/late', 'Late');
    const bodies = to(joinOut, 'user4@localhost/late').filter((s) => s.name === 'message' && s.getChild('body')).map((s) => s.getChildText('body'));
    assert.deepEqual(bodies, ['first', 'last']);
    assert.ok(!to(joinOut, 'user4@localhost/late').some((s) => s.getChild('retract', RETRACT)), 'no notice in history');
  });

  it('archives the notice and emits the tombstone for the archive (decided: found in history)', () => {
    const sim = room();
    const id = say(sim, 'bad');
    const out = sim.send(ROMEO, moderate(id));
    const [r] = retractions(sim.effects);
    assert.ok(r);
    assert.equal(r.id, id);
    assert.equal(r.pending, undefined, 'the core decided');
    const retracted = parseOwnElement(r.retracted);
    assert.equal(retracted.name, 'retracted');
    assert.equal(retracted.attrs.xmlns, RETRACT);
    assert.equal(retracted.attrs.stamp, '2026-01-01T12:00:00Z');
    assert.equal(retracted.getChild('moderated', MODERATE)!.attrs.by, `${ROOM}/Romeo`);
    assert.equal(retracted.getChildText('reason'), 'spam');
    const [notice] = appended(sim.effects);
    assert.equal(notice!.id, to(out, JULIET)[0]!.getChild('stanza-id', SID)!.attrs.id);
    assert.match(notice!.xml, /<retract /);
    assert.doesNotMatch(notice!.xml, /stanza-id/);
    // In MAM results, from the room, with no sender item even for those who see real JIDs.
    const q = { room: ROOM, to: ROMEO, route: { gatewayId: 'g', sessionId: 's' }, iqId: 'q', max: 50, realJids: true, enabled: true };
    const forwarded = archiveResults(q, { entries: [notice!], complete: true }, sim.room)[0]!.getChild('result')!.getChild('forwarded')!.getChild('message')!;
    assert.equal(forwarded.attrs.from, ROOM);
    assert.equal(forwarded.getChild('x', NS.MUC_USER), undefined);
    assert.equal(forwarded.getChild('retract', RETRACT)!.attrs.id, id);
  });

  it('a participant, a visitor-less non-moderator and a non-occupant get forbidden; nothing changes', () => {
    const sim = room();
    const id = say(sim, 'bad');
    for (const from of [JULIET, 'stranger@localhost/x']) {
      const out = sim.send(from, moderate(id));
      assert.equal(out.length, 1);
      assert.equal(errorCondition(out[0]!.stanza), 'forbidden');
      assert.equal(out[0]!.stanza.getChild('error')!.attrs.type, 'modify', '§3.2 example');
      assert.equal(retractions(sim.effects).length, 0);
      assert.equal(sim.room!.history.length, 1);
    }
  });

  it('an id in neither history nor archive: item-not-found at once when the room does not archive', () => {
    const sim = room(`<field var='muc#roomconfig_enablearchiving'><value>0</value></field>`);
    say(sim, 'x');
    const out = sim.send(ROMEO, moderate('no-such-id'));
    assert.equal(out.length, 1);
    assert.equal(errorCondition(out[0]!.stanza), 'item-not-found');
    assert.equal(retractions(sim.effects).length, 0);
  });

  it('an id not in the history of an archiving room: the success and the error are left to the worker (pending)', () => {
    const sim = room();
    say(sim, 'x');
    const out = sim.send(ROMEO, moderate('archived-only'));
    assert.equal(out.length, 0, 'nothing sent before the archive is checked');
    const [r] = retractions(sim.effects);
    assert.ok(r?.pending);
    assert.equal(r.id, 'archived-only');
    assert.equal(errorCondition(r.pending.failure.stanza), 'item-not-found');
    assert.equal(r.pending.failure.to, ROMEO);
    assert.equal(r.pending.success.filter((o) => o.stanza.name === 'message').length, 3, 'notice to every session');
    assert.equal(r.pending.success.at(-1)!.stanza.attrs.type, 'result');
    assert.ok(r.pending.notice);
    assert.equal(appended(sim.effects).length, 0, 'the notice is appended only if found');
    assert.equal(sim.room!.history.length, 1);
    assert.ok(!sim.effects.some((e) => e.kind === 'log' && e.msg === 'refused'));
  });

  it('bad requests: no id, an id too long, a reason too long, no <retract/>', () => {
    const sim = room();
    const id = say(sim, 'x');
    const cond = (text: string) => errorCondition(sim.send(ROMEO, text)[0]?.stanza);
    assert.equal(cond(`<iq type='set' id='a' to='${ROOM}'><moderate xmlns='${MODERATE}'><retract xmlns='${RETRACT}'/></moderate></iq>`), 'bad-request');
    assert.equal(cond(moderate('x'.repeat(257))), 'bad-request');
    assert.equal(cond(moderate(id, `<retract xmlns='${RETRACT}'/><reason>${'r'.repeat(1025)}</reason>`)), 'bad-request');
    assert.equal(cond(moderate(id, `<reason>x</reason>`)), 'feature-not-implemented');
    assert.equal(cond(moderate(id, `<retract xmlns='urn:xmpp:message-retract:0'/>`)), 'feature-not-implemented');
    assert.equal(sim.room!.history.length, 1, 'nothing retracted');
  });

  it('without a reason the notice and tombstone carry none', () => {
    const sim = room();
    const id = say(sim, 'x');
    const out = sim.send(ROMEO, moderate(id, `<retract xmlns='${RETRACT}'/>`));
    assert.equal(to(out, JULIET)[0]!.getChild('retract', RETRACT)!.getChild('reason'), undefined);
    assert.equal(parseOwnElement(retractions(sim.effects)[0]!.retracted).getChild('reason'), undefined);
  });

  it('applyTombstone keeps the attributes and the author occupant-id, drops every other child (§4)', () => {
    const entry: ArchiveEntry = {
      id: 's1', at: 0, nick: 'Juliet', jid: 'user2@localhost',
      xml: `<message xmlns="jabber:client" from="${ROOM}/Juliet" type="groupchat" id="m1"><body>secret</body><occupant-id xmlns="urn:xmpp:occupant-id:0" id="occ"/><html xmlns="http://jabber.org/protocol/xhtml-im"><body>secret</body></html></message>`,
    };
    const out = applyTombstone(entry, `<retracted xmlns="${RETRACT}" stamp="2026-01-01T12:00:00Z"><moderated xmlns="${MODERATE}" by="${ROOM}/Romeo"/></retracted>`, ROOM);
    assert.doesNotMatch(out.xml, /secret/);
    const m = parseOwnElement(out.xml);
    assert.equal(m.attrs.from, `${ROOM}/Juliet`);
    assert.equal(m.attrs.id, 'm1');
    assert.deepEqual(m.getChildElements().map((c) => c.name), ['occupant-id', 'retracted']);
    assert.equal(out.id, 's1');
  });
});
