import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseOwnElement, NS } from '@parley/xml';
import { decodeItem, encodeItem, itemElement, parseRosterSet, rosterIsCurrent, rosterPush, rosterQuery, stateOf, withState, worthKeeping, type RosterItem } from '../src/index.js';

const q = (inner: string) => parseOwnElement(`<query xmlns='jabber:iq:roster'>${inner}</query>`, NS.CLIENT);
const self = 'juliet@example.com';

test('a set with one item: bare JID, name, groups in order, duplicates collapsed (RFC 6121 §2.3.3)', () => {
  const r = parseRosterSet(q(`<item jid='Romeo@Example.net/orchard' name='Romeo'><group>Friends</group><group>Lovers</group><group>Friends</group></item>`), self);
  assert.deepEqual(r, { kind: 'update', jid: 'romeo@example.net', name: 'Romeo', groups: ['Friends', 'Lovers'] });
});

test('subscription and ask attributes in a set are ignored; remove is recognised (§2.1.2.5, §2.5)', () => {
  assert.deepEqual(parseRosterSet(q(`<item jid='romeo@example.net' subscription='both' ask='subscribe'/>`), self), { kind: 'update', jid: 'romeo@example.net', groups: [] });
  assert.deepEqual(parseRosterSet(q(`<item jid='romeo@example.net' subscription='remove'/>`), self), { kind: 'remove', jid: 'romeo@example.net' });
});

test('refusals: not one item, bad jid, own jid, empty or long group, long name, too many groups', () => {
  const cond = (inner: string, bounds?: { maxNameBytes: number; maxGroupBytes: number; maxGroups: number }) => {
    const r = parseRosterSet(q(inner), self, bounds);
    return 'error' in r ? r.error : 'ok';
  };
  assert.equal(cond(''), 'bad-request');
  assert.equal(cond(`<item jid='a@b'/><item jid='c@d'/>`), 'bad-request');
  assert.equal(cond(`<item jid='a@b'/><foo xmlns='x'/>`), 'bad-request');
  assert.equal(cond(`<item/>`), 'bad-request');
  assert.equal(cond(`<item jid='@@'/>`), 'bad-request');
  assert.equal(cond(`<item jid='juliet@example.com/balcony'/>`), 'not-allowed');
  assert.equal(cond(`<item jid='a@b'><group/></item>`), 'not-acceptable');
  const b = { maxNameBytes: 4, maxGroupBytes: 4, maxGroups: 2 };
  assert.equal(cond(`<item jid='a@b' name='abcde'/>`, b), 'not-acceptable');
  assert.equal(cond(`<item jid='a@b' name='abcd'/>`, b), 'ok');
  assert.equal(cond(`<item jid='a@b' name='ééé'/>`, b), 'not-acceptable'); // 6 bytes
  assert.equal(cond(`<item jid='a@b'><group>abcde</group></item>`, b), 'not-acceptable');
  assert.equal(cond(`<item jid='a@b'><group>x</group><group>y</group><group>z</group></item>`, b), 'not-acceptable');
  assert.equal(cond(`<item jid='a@b'><group>x</group><group>y</group><group>x</group></item>`, b), 'ok');
});

test('serialisation of items, results and pushes (RFC 6121 §2.1.2, §2.1.4, §2.1.6)', () => {
  const item: RosterItem = { jid: 'romeo@example.net', name: 'Romeo', groups: ['Friends'], subscription: 'none', ask: true, approved: true };
  assert.equal(itemElement(item).toString(), `<item jid="romeo@example.net" subscription="none" name="Romeo" ask="subscribe" approved="true"><group>Friends</group></item>`);
  assert.equal(itemElement({ jid: 'a@b', subscription: 'remove' }).toString(), `<item jid="a@b" subscription="remove"/>`);
  const result = rosterQuery([item], '7');
  assert.equal(result.attrs.ver, '7');
  assert.equal(result.getChildren('item').length, 1);
  const push = rosterPush(item, '8', 'p1');
  assert.equal(push.attrs.type, 'set');
  assert.equal(push.getChild('query', 'jabber:iq:roster')?.attrs.ver, '8');
});

test('storage round trip, and malformed stored values are rejected', () => {
  const item: RosterItem = { jid: 'romeo@example.net', name: 'R', groups: ['a', 'b'], subscription: 'both', ask: false, approved: false };
  assert.deepEqual(decodeItem('romeo@example.net', encodeItem(item)), item);
  const bare: RosterItem = { jid: 'x@y', groups: [], subscription: 'to', ask: true, approved: true };
  assert.deepEqual(decodeItem('x@y', encodeItem(bare)), bare);
  assert.equal(decodeItem('x@y', '{"s":"maybe"}'), undefined);
  assert.equal(decodeItem('x@y', 'not json'), undefined);
  assert.equal(decodeItem('x@y', null), undefined);
});

test('state helpers and versioning (RFC 6121 §2.6.3)', () => {
  assert.deepEqual(stateOf(undefined, true), { subscription: 'none', pendingOut: false, pendingIn: true, approved: false });
  const s = { subscription: 'to' as const, pendingOut: false, pendingIn: false, approved: false };
  assert.equal(withState(undefined, 'a@b', s).subscription, 'to');
  assert.equal(worthKeeping({ ...s, subscription: 'none' }), false);
  assert.equal(worthKeeping({ ...s, subscription: 'none', pendingIn: true }), false);
  assert.equal(worthKeeping({ ...s, subscription: 'none', pendingOut: true }), true);
  assert.equal(rosterIsCurrent('3', '3'), true);
  assert.equal(rosterIsCurrent('2', '3'), false);
  assert.equal(rosterIsCurrent(undefined, '3'), false);
  assert.equal(rosterIsCurrent('', '0'), false);
});
