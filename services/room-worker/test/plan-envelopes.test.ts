// Grouping of a turn's stanzas into marked delivery envelopes.
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { Element } from 'ltx';
import { DeliveryMarks, parseDeliveryMark } from '@parley/bus';
import { planEnvelopes, type Delivery } from '../src/delivery/plan-envelopes.js';

const msg = (body: string, to: string) => new Element('message', { xmlns: 'jabber:client', from: 'r@c/n', to, type: 'groupchat' }).c('body').t(body).root();
// Mark sequence numbers as resolveRecipients assigns them: the output's position in its entry.
let position = new Map<string, number>();
const d = (entry: string, gatewayId: string, to: string, stanza: Element, sessionId = `s-${to}`): Delivery => {
  const seq = position.get(entry) ?? 0;
  position.set(entry, seq + 1);
  return { entry, seq, gatewayId, sessionId, to, stanza };
};
beforeEach(() => {
  position = new Map();
});
/** Each stanza of a plan as [recipient, xml], in order. */
const stanzasOf = (plan: ReturnType<typeof planEnvelopes>): Array<[string, string]> =>
  plan.flatMap(({ envelope: e }): Array<[string, string]> =>
    e.kind === 'fanout' ? e.recipients.map((r) => [r.to, e.xml]) : e.kind === 'stanzas' ? e.xml.map((x) => [e.to, x]) : e.kind === 'stanza' ? [[e.to, e.xml]] : [],
  );

describe('planEnvelopes', () => {
  it('sends a broadcast once per gateway as a fanout, marked by its first stanza\'s position in the entry', () => {
    const plan = planEnvelopes(7, [
      d('1-0', 'g1', 'a@x/1', msg('hi', 'a@x/1')),
      d('1-0', 'g2', 'b@x/1', msg('hi', 'b@x/1')),
      d('1-0', 'g1', 'c@x/1', msg('hi', 'c@x/1')),
      d('2-0', 'g1', 'a@x/1', msg('yo', 'a@x/1')),
    ]);
    assert.deepEqual(plan.map((p) => [p.gatewayId, p.envelope.kind, 'mark' in p.envelope ? p.envelope.mark : '']), [
      ['g1', 'fanout', '7:1-0:0'],
      ['g2', 'stanzas', '7:1-0:1'],
      ['g1', 'stanzas', '7:2-0:0'],
    ]);
    const fan = plan[0]!.envelope;
    assert.ok(fan.kind === 'fanout');
    assert.deepEqual(fan.recipients, [{ to: 'a@x/1', sessionId: 's-a@x/1' }, { to: 'c@x/1', sessionId: 's-c@x/1' }]);
    assert.ok(!fan.xml.includes(' to='), 'a fanout stanza has no to');
    assert.ok(!fan.xml.includes('xmlns="jabber:client"'), 'room stanza text has no root xmlns');
    const single = plan[1]!.envelope;
    assert.ok(single.kind === 'stanzas' && single.to === 'b@x/1');
    assert.deepEqual(single.xml, ['<message from="r@c/n" type="groupchat"><body>hi</body></message>']);
  });

  it('keeps every recipient\'s order: no merging across a stanza it already got after', () => {
    // a gets X then Y; b gets Y then X: merging b's X into a's X would reorder b.
    const X = (to: string) => msg('X', to);
    const Y = (to: string) => msg('Y', to);
    const plan = planEnvelopes(0, [
      d('1-0', 'g', 'a@x/1', X('a@x/1')),
      d('1-0', 'g', 'a@x/1', Y('a@x/1')),
      d('1-0', 'g', 'b@x/1', Y('b@x/1')),
      d('1-0', 'g', 'b@x/1', X('b@x/1')),
    ]);
    const perRecipient = new Map<string, string[]>();
    for (const [to, xml] of stanzasOf(plan)) perRecipient.set(to, [...(perRecipient.get(to) ?? []), /<body>(\w)</.exec(xml)![1]!]);
    assert.deepEqual(perRecipient.get('a@x/1'), ['X', 'Y']);
    assert.deepEqual(perRecipient.get('b@x/1'), ['Y', 'X']);
    // Each recipient's two stanzas go as one envelope, marked by its first stanza.
    assert.deepEqual(plan.map((p) => [p.envelope.kind, p.envelope.kind === 'kick' ? '' : p.envelope.mark]), [
      ['stanzas', '0:1-0:0'],
      ['stanzas', '0:1-0:2'],
    ]);
  });

  it('sends a joiner\'s view of the room as one envelope, and its presence to the others as a fanout', () => {
    // XEP-0045 §7.2.3 as @parley/muc orders it: the joiner's presence to everyone else, then
    // every other occupant's presence to the joiner, then its self-presence, then the subject.
    const shared = new Element('presence', { xmlns: 'jabber:client', from: 'r@c/new' }).c('x', { xmlns: 'http://jabber.org/protocol/muc#user' }).root();
    const broadcast = { stanza: shared };
    const head = (to: string) => {
      const h = new Element('presence', { ...shared.attrs, to });
      h.children = shared.children;
      return h;
    };
    const others = Array.from({ length: 50 }, (_, i) => `u${i}@x/r`);
    const joiner = 'new@x/r';
    const pres = (nick: string) => new Element('presence', { xmlns: 'jabber:client', from: `r@c/${nick}`, to: joiner });
    const plan = planEnvelopes(4, [
      ...others.map((to) => ({ ...d('8-0', 'g', to, head(to)), broadcast })),
      ...others.map((_, i) => d('8-0', 'g', joiner, pres(`u${i}`))),
      d('8-0', 'g', joiner, pres('new')),
      d('8-0', 'g', joiner, msg('', joiner)),
    ]);
    assert.deepEqual(plan.map((p) => p.envelope.kind), ['fanout', 'stanzas']);
    const view = plan[1]!.envelope;
    assert.ok(view.kind === 'stanzas' && view.to === joiner && view.mark === '4:8-0:50');
    assert.deepEqual(view.xml.slice(0, 2), ['<presence from="r@c/u0"/>', '<presence from="r@c/u1"/>']);
    assert.equal(view.xml.length, 52);
    assert.ok(view.xml.every((x) => !x.includes(' to=')));
  });

  it('sends a stanza for an account (viaServer) as a marked route envelope of its own', () => {
    const vcard = new Element('iq', { xmlns: 'jabber:client', from: 'r@c/n', to: 'u@x', type: 'get', id: 't' }).c('vCard', { xmlns: 'vcard-temp' }).root();
    const plan = planEnvelopes(2, [d('1-0', 'g', 'a@x/1', msg('hi', 'a@x/1')), { ...d('1-0', 'g', 'u@x', vcard, ''), viaServer: true }, d('1-0', 'g', 'b@x/1', msg('hi', 'b@x/1'))]);
    assert.deepEqual(plan.map((p) => p.envelope.kind), ['fanout', 'route']);
    const route = plan[1]!.envelope;
    assert.ok(route.kind === 'route' && route.mark === '2:1-0:1');
    assert.ok(route.kind === 'route' && route.xml.includes('to="u@x"') && route.xml.includes('vcard-temp'));
  });

  it('keeps a stanza addressed to a bare JID as it is, and sets a missing to', () => {
    const invite = new Element('message', { from: 'r@c', to: 'u@x' }).c('x').root();
    const noTo = new Element('presence', { from: 'r@c/n' });
    const plan = planEnvelopes(0, [d('1-0', 'g', 'u@x/1', invite), d('1-0', 'g', 'u@x/2', invite), d('1-0', 'g', 'v@x/1', noTo)]);
    assert.equal(plan.length, 3, 'not merged: the to is not the recipient');
    assert.ok(plan[0]!.envelope.kind === 'stanza' && plan[0]!.envelope.xml.includes('to="u@x"'));
    const third = plan[2]!.envelope;
    assert.ok(third.kind === 'stanzas' && third.to === 'v@x/1');
    assert.deepEqual(third.xml, ['<presence from="r@c/n"/>'], 'the gateway sets the to');
    assert.equal(noTo.attrs.to, undefined, 'the room\'s element is not modified');
  });

  it('produces marks a gateway accepts once, even when the turn is planned twice', () => {
    const deliveries = [d('1-0', 'g', 'a@x/1', msg('1', 'a@x/1')), d('1-0', 'g', 'a@x/1', msg('2', 'a@x/1')), d('2-0', 'g', 'a@x/1', msg('3', 'a@x/1'))];
    const marks = new DeliveryMarks();
    const accepted: string[] = [];
    for (const round of [planEnvelopes(3, deliveries), planEnvelopes(3, deliveries)]) {
      for (const p of round) {
        if (p.envelope.kind !== 'kick' && marks.accept(parseDeliveryMark(p.envelope.mark!)!)) accepted.push(...stanzasOf([p]).map(([, xml]) => xml));
      }
    }
    assert.equal(accepted.length, 3);
  });

  it('keeps the marks of a replay when a gateway has gone in between: nothing after it is taken for a repeat', () => {
    // First application: stanzas to g1 (output 0), g2 (output 1), g2 (output 2, another
    // session). The replay finds g1 gone: g2's stanzas must keep their marks, so the gateway
    // drops exactly the repeats.
    const first = [d('5-0', 'g1', 'a@x/1', msg('A', 'a@x/1')), d('5-0', 'g2', 'b@x/1', msg('B', 'b@x/1')), d('5-0', 'g2', 'c@x/1', msg('C', 'c@x/1'))];
    const marks = new DeliveryMarks();
    const g2 = (plan: ReturnType<typeof planEnvelopes>) => plan.filter((p) => p.gatewayId === 'g2').map((p) => (p.envelope.kind === 'kick' ? '' : p.envelope.mark!));
    // The original owner delivered only the first of g2's stanzas before it died.
    const [firstB] = g2(planEnvelopes(1, first));
    assert.equal(marks.accept(parseDeliveryMark(firstB!)!), true);
    const replay = planEnvelopes(1, first.slice(1));
    assert.deepEqual(g2(replay).map((m) => marks.accept(parseDeliveryMark(m)!)), [false, true]);
  });

  it('plans a room\'s broadcast (shared stanza) exactly as the same stanzas built one by one', () => {
    // As @parley/muc Turn.broadcast makes them: one stanza without `to`, a head per recipient.
    const shared = new Element('message', { xmlns: 'jabber:client', from: 'r@c/n', type: 'groupchat', id: 'm1' }).c('body').t('hi & bye').root();
    const broadcast = { stanza: shared };
    const head = (to: string) => {
      const h = new Element('message', { ...shared.attrs, to });
      h.children = shared.children;
      return h;
    };
    const copy = (to: string) => new Element('message', { ...shared.attrs, to }).c('body').t('hi & bye').root();
    const recipients = Array.from({ length: 1000 }, (_, i) => [`u${i}@x/r`, i % 3 === 0 ? 'g1' : 'g2'] as const);
    const withShared = recipients.map(([to, g]) => ({ ...d('9-0', g, to, head(to)), broadcast }));
    position = new Map();
    const oneByOne = recipients.map(([to, g]) => d('9-0', g, to, copy(to)));
    const a = planEnvelopes(2, withShared);
    const b = planEnvelopes(2, oneByOne);
    assert.deepEqual(a, b);
    // One fanout per gateway, whatever the number of occupants.
    assert.deepEqual(a.map((p) => [p.gatewayId, p.envelope.kind]), [['g1', 'fanout'], ['g2', 'fanout']]);
    assert.equal(shared.attrs.to, undefined, 'the shared stanza is not modified');
  });

  it('keeps the order rule with a broadcast between two stanzas to the same recipient', () => {
    const shared = msg('B', 'x');
    delete shared.attrs.to;
    const broadcast = { stanza: shared };
    const head = (to: string) => {
      const h = new Element('message', { ...shared.attrs, to });
      h.children = shared.children;
      return h;
    };
    // a: B then X then B again (two outputs); the second B to a must not join the first fanout.
    const plan = planEnvelopes(0, [
      { ...d('1-0', 'g', 'a@x/1', head('a@x/1')), broadcast },
      { ...d('1-0', 'g', 'b@x/1', head('b@x/1')), broadcast },
      d('1-0', 'g', 'a@x/1', msg('X', 'a@x/1')),
      { ...d('1-0', 'g', 'a@x/1', head('a@x/1')), broadcast },
    ]);
    assert.deepEqual(plan.map((p) => p.envelope.kind), ['fanout', 'stanzas']);
    assert.deepEqual(stanzasOf(plan).filter(([to]) => to === 'a@x/1').map(([, x]) => /<body>(\w)</.exec(x)![1]), ['B', 'X', 'B']);
  });
});
