import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseH, SmState } from '../src/sm/sm-state.js';

test('parseH accepts xs:unsignedInt only (XEP-0198 §4)', () => {
  assert.equal(parseH('0'), 0);
  assert.equal(parseH('4294967295'), 4294967295);
  assert.equal(parseH('4294967296'), undefined);
  assert.equal(parseH('-1'), undefined);
  assert.equal(parseH('+1'), undefined);
  assert.equal(parseH('1.0'), undefined);
  assert.equal(parseH(''), undefined);
  assert.equal(parseH(undefined), undefined);
  assert.equal(parseH('99999999999'), undefined);
});

test('acks remove the acknowledged stanzas, oldest first; the rest stay pending in order', () => {
  const sm = new SmState<string>(10);
  for (const s of ['a', 'b', 'c', 'd']) assert.equal(sm.push(s), true);
  assert.equal(sm.sent, 4);
  assert.deepEqual(sm.ack(2), { ok: true, acked: ['a', 'b'] });
  assert.deepEqual(sm.pending(), ['c', 'd']);
  assert.deepEqual(sm.ack(2), { ok: true, acked: [] }, 'a repeated h acknowledges nothing new');
  assert.equal(sm.unacked, 2);
  sm.push('e');
  assert.deepEqual(sm.ack(5), { ok: true, acked: ['c', 'd', 'e'] });
  assert.equal(sm.unacked, 0);
  assert.equal(sm.sent, 5);
});

test('an h above the sent count is refused with our count (XEP-0198 §6), and changes nothing', () => {
  const sm = new SmState<number>(10);
  sm.push(1);
  sm.push(2);
  assert.deepEqual(sm.ack(3), { ok: false, sent: 2 });
  assert.deepEqual(sm.pending(), [1, 2]);
  sm.ack(2);
  // An h older than the last one would acknowledge 2^32 - 1 more stanzas: too high.
  assert.deepEqual(sm.ack(1), { ok: false, sent: 2 });
});

test('push reports a full queue past max', () => {
  const sm = new SmState<number>(2);
  assert.equal(sm.push(1), true);
  assert.equal(sm.push(2), true);
  assert.equal(sm.push(3), false);
  assert.equal(sm.unacked, 3, 'the stanza is kept so that it is handled, not lost');
});

test('the inbound counter wraps from 2^32 - 1 to 0 (XEP-0198 §4)', () => {
  const sm = new SmState<number>(2);
  sm.inbound = 2 ** 32 - 1;
  sm.handled();
  assert.equal(sm.inbound, 0);
});

test('outbound sequence numbers wrap too: an ack across 2^32 works', () => {
  const big = new SmState<number>(10);
  (big as unknown as { ackedH: number }).ackedH = 2 ** 32 - 2;
  for (let i = 0; i < 4; i++) big.push(i);
  assert.equal(big.sent, 2);
  assert.deepEqual(big.ack(1), { ok: true, acked: [0, 1, 2] });
  assert.deepEqual(big.pending(), [3]);
});

test('drain empties the queue and counts its stanzas as done', () => {
  const sm = new SmState<number>(10);
  for (let i = 0; i < 100; i++) sm.push(i);
  sm.ack(70);
  assert.deepEqual(sm.drain(), Array.from({ length: 30 }, (_, i) => 70 + i));
  assert.equal(sm.unacked, 0);
  assert.equal(sm.sent, 100);
});
