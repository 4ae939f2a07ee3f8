import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inbound, outbound, type SubState, type SubscriptionType } from '../src/index.js';

// The nine states of RFC 6121 Appendix A.1, by their names there.
const S: Record<string, SubState> = {
  'None': { subscription: 'none', pendingOut: false, pendingIn: false, approved: false },
  'None + Pending Out': { subscription: 'none', pendingOut: true, pendingIn: false, approved: false },
  'None + Pending In': { subscription: 'none', pendingOut: false, pendingIn: true, approved: false },
  'None + Pending Out/In': { subscription: 'none', pendingOut: true, pendingIn: true, approved: false },
  'To': { subscription: 'to', pendingOut: false, pendingIn: false, approved: false },
  'To + Pending In': { subscription: 'to', pendingOut: false, pendingIn: true, approved: false },
  'From': { subscription: 'from', pendingOut: false, pendingIn: false, approved: false },
  'From + Pending Out': { subscription: 'from', pendingOut: true, pendingIn: false, approved: false },
  'Both': { subscription: 'both', pendingOut: false, pendingIn: false, approved: false },
};
const name = (s: SubState) => {
  const found = Object.entries(S).find(([, v]) => v.subscription === s.subscription && v.pendingOut === s.pendingOut && v.pendingIn === s.pendingIn);
  return (found?.[0] ?? JSON.stringify(s)) + (s.approved ? ' (approved)' : '');
};

// Outbound tables, RFC 6121 Appendix A.2.1–A.2.4: [state, new state].
const OUT: Record<SubscriptionType, Array<[string, string]>> = {
  subscribe: [
    ['None', 'None + Pending Out'], ['None + Pending Out', 'None + Pending Out'], ['None + Pending In', 'None + Pending Out/In'],
    ['None + Pending Out/In', 'None + Pending Out/In'], ['To', 'To'], ['To + Pending In', 'To + Pending In'],
    ['From', 'From + Pending Out'], ['From + Pending Out', 'From + Pending Out'], ['Both', 'Both'],
  ],
  subscribed: [
    ['None', 'None (approved)'], ['None + Pending Out', 'None + Pending Out (approved)'], ['None + Pending In', 'From'],
    ['None + Pending Out/In', 'From + Pending Out'], ['To', 'To (approved)'], ['To + Pending In', 'Both'],
    ['From', 'From'], ['From + Pending Out', 'From + Pending Out'], ['Both', 'Both'],
  ],
  unsubscribe: [
    ['None', 'None'], ['None + Pending Out', 'None'], ['None + Pending In', 'None + Pending In'],
    ['None + Pending Out/In', 'None + Pending In'], ['To', 'None'], ['To + Pending In', 'None + Pending In'],
    ['From', 'From'], ['From + Pending Out', 'From'], ['Both', 'From'],
  ],
  unsubscribed: [
    ['None', 'None'], ['None + Pending Out', 'None + Pending Out'], ['None + Pending In', 'None'],
    ['None + Pending Out/In', 'None + Pending Out'], ['To', 'To'], ['To + Pending In', 'To'],
    ['From', 'None'], ['From + Pending Out', 'None + Pending Out'], ['Both', 'To'],
  ],
};

// Inbound tables, RFC 6121 Appendix A.3.1–A.3.4: [state, new state, delivered].
const IN: Record<SubscriptionType, Array<[string, string, boolean]>> = {
  subscribe: [
    ['None', 'None + Pending In', true], ['None + Pending Out', 'None + Pending Out/In', true], ['None + Pending In', 'None + Pending In', false],
    ['None + Pending Out/In', 'None + Pending Out/In', false], ['To', 'To + Pending In', true], ['To + Pending In', 'To + Pending In', false],
    ['From', 'From', false], ['From + Pending Out', 'From + Pending Out', false], ['Both', 'Both', false],
  ],
  unsubscribe: [
    ['None', 'None', false], ['None + Pending Out', 'None + Pending Out', false], ['None + Pending In', 'None', true],
    ['None + Pending Out/In', 'None + Pending Out', true], ['To', 'To', false], ['To + Pending In', 'To', true],
    ['From', 'None', true], ['From + Pending Out', 'None + Pending Out', true], ['Both', 'To', true],
  ],
  subscribed: [
    ['None', 'None', false], ['None + Pending Out', 'To', true], ['None + Pending In', 'None + Pending In', false],
    ['None + Pending Out/In', 'To + Pending In', true], ['To', 'To', false], ['To + Pending In', 'To + Pending In', false],
    ['From', 'From', false], ['From + Pending Out', 'Both', true], ['Both', 'Both', false],
  ],
  unsubscribed: [
    ['None', 'None', false], ['None + Pending Out', 'None', true], ['None + Pending In', 'None + Pending In', false],
    ['None + Pending Out/In', 'None + Pending In', true], ['To', 'None', true], ['To + Pending In', 'None + Pending In', true],
    ['From', 'From', false], ['From + Pending Out', 'From', true], ['Both', 'From', true],
  ],
};

for (const [type, rows] of Object.entries(OUT) as Array<[SubscriptionType, Array<[string, string]>]>) {
  test(`outbound ${type}: every state of RFC 6121 Appendix A.2`, () => {
    for (const [from, to] of rows) {
      const r = outbound(S[from]!, type);
      assert.equal(name(r.state), to, `${type} from ${from}`);
      const changed = name(r.state) !== from;
      // A change of Pending In alone is not visible in the roster item, so not pushed.
      const visible = changed && !(r.state.subscription === S[from]!.subscription && r.state.pendingOut === S[from]!.pendingOut && r.state.approved === S[from]!.approved);
      assert.equal(r.push, visible, `${type} from ${from}: push`);
    }
  });
}

for (const [type, rows] of Object.entries(IN) as Array<[SubscriptionType, Array<[string, string, boolean]>]>) {
  test(`inbound ${type}: every state of RFC 6121 Appendix A.3`, () => {
    for (const [from, to, delivered] of rows) {
      const r = inbound(S[from]!, type);
      assert.equal(name(r.state), to, `${type} from ${from}`);
      assert.equal(r.deliver, delivered, `${type} from ${from}: delivered`);
    }
  });
}

test('outbound routing: subscribe and unsubscribe always; subscribed only when it grants; unsubscribed only when it changes', () => {
  for (const s of Object.keys(S)) {
    assert.equal(outbound(S[s]!, 'subscribe').route, true, s);
    assert.equal(outbound(S[s]!, 'unsubscribe').route, true, s);
    assert.equal(outbound(S[s]!, 'subscribed').route, S[s]!.pendingIn, `subscribed from ${s}`);
    assert.equal(outbound(S[s]!, 'unsubscribed').route, S[s]!.pendingIn || S[s]!.subscription === 'from' || S[s]!.subscription === 'both', `unsubscribed from ${s}`);
  }
});

test('approving sends current presence; cancelling a granted subscription sends unavailable (RFC 6121 §3.1.5, §3.2.2)', () => {
  assert.equal(outbound(S['None + Pending In']!, 'subscribed').sendPresence, 'available');
  assert.equal(outbound(S['None']!, 'subscribed').sendPresence, undefined);
  assert.equal(outbound(S['Both']!, 'unsubscribed').sendPresence, 'unavailable');
  assert.equal(outbound(S['None + Pending In']!, 'unsubscribed').sendPresence, undefined);
});

test('inbound subscribe from a subscriber is auto-answered subscribed, not delivered (RFC 6121 §3.1.3)', () => {
  for (const s of ['From', 'From + Pending Out', 'Both']) {
    const r = inbound(S[s]!, 'subscribe');
    assert.equal(r.autoReply, 'subscribed', s);
    assert.equal(r.deliver, false, s);
    assert.equal(r.push, false, s);
  }
  assert.equal(inbound(S['None']!, 'subscribe').autoReply, undefined);
});

test('pre-approval (RFC 6121 §3.4): noted without routing, then the request is auto-approved', () => {
  const pre = outbound(S['None']!, 'subscribed');
  assert.equal(pre.route, false);
  assert.equal(pre.push, true);
  assert.equal(pre.state.approved, true);
  const r = inbound(pre.state, 'subscribe');
  assert.equal(r.autoReply, 'subscribed');
  assert.equal(r.deliver, false);
  assert.equal(name(r.state), 'From');
  assert.equal(r.push, true);
  // Cancelling a pre-approval (outbound unsubscribed) clears it.
  assert.equal(outbound(pre.state, 'unsubscribed').state.approved, false);
  // A pre-approval from To: the result is Both.
  assert.equal(name(inbound(outbound(S['To']!, 'subscribed').state, 'subscribe').state), 'Both');
});

test('a full round: subscribe, approve, mutual, cancel', () => {
  // Romeo subscribes to Juliet.
  let romeo = outbound(S['None']!, 'subscribe').state;
  let juliet = inbound(S['None']!, 'subscribe').state;
  assert.equal(name(romeo), 'None + Pending Out');
  assert.equal(name(juliet), 'None + Pending In');
  // Juliet approves.
  juliet = outbound(juliet, 'subscribed').state;
  romeo = inbound(romeo, 'subscribed').state;
  assert.equal(name(juliet), 'From');
  assert.equal(name(romeo), 'To');
  // Juliet subscribes back, Romeo approves.
  juliet = outbound(juliet, 'subscribe').state;
  romeo = inbound(romeo, 'subscribe').state;
  romeo = outbound(romeo, 'subscribed').state;
  juliet = inbound(juliet, 'subscribed').state;
  assert.equal(name(juliet), 'Both');
  assert.equal(name(romeo), 'Both');
  // Romeo unsubscribes from Juliet.
  romeo = outbound(romeo, 'unsubscribe').state;
  juliet = inbound(juliet, 'unsubscribe').state;
  assert.equal(name(romeo), 'From');
  assert.equal(name(juliet), 'To');
});
