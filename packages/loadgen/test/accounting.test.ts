import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accountDeliveries, DeliveryLedger, exitCodeFor, verdict } from '@parley/loadgen';

// Two rooms of 3 occupants; senders are clients 0 (room 0) and 3 (room 1), one sender per room.
const roomOfSender = (s: number) => Math.floor(s / 3);

/** Every receiver (3 slots per room) records every message of its room's sender. */
function perfectRun(ledger: DeliveryLedger, sent: number): void {
  for (const sender of [0, 3]) {
    for (let seq = 0; seq < sent; seq++) {
      const base = sender; // receiver slots 0..2 for room 0, 3..5 for room 1
      for (let r = base; r < base + 3; r++) ledger.record(r, 0, sender, seq);
    }
  }
}

const books = (ledger: DeliveryLedger, sent: number) =>
  accountDeliveries({
    sent: new Map([
      [0, sent],
      [3, sent],
    ]),
    roomOfSender,
    occupancy: [3, 3],
    distinct: ledger.distinctBySender,
    duplicates: ledger.duplicatesBySender,
  });

test('a clean run: expected = sent × occupants (the echo to the sender counts)', () => {
  const ledger = new DeliveryLedger(6, 1, 10);
  perfectRun(ledger, 10);
  const a = books(ledger, 10);
  assert.deepEqual(a, { sent: 20, expected: 60, delivered: 60, lost: 0, duplicates: 0, unexpected: 0 });
  const v = verdict({ accounting: a, failures: {}, stanzaErrors: {}, misrouted: 0 });
  assert.deepEqual(v, { ok: true, reasons: [] });
  assert.equal(exitCodeFor(v), 0);
});

test('a lost delivery is detected and counted', () => {
  const ledger = new DeliveryLedger(6, 1, 10);
  for (let seq = 0; seq < 10; seq++) for (let r = 0; r < 3; r++) if (!(seq === 7 && r === 2)) ledger.record(r, 0, 0, seq);
  for (let seq = 0; seq < 10; seq++) for (let r = 3; r < 6; r++) ledger.record(r, 0, 3, seq);
  const a = books(ledger, 10);
  assert.equal(a.lost, 1);
  assert.equal(a.delivered, 59);
  const v = verdict({ accounting: a, failures: {}, stanzaErrors: {}, misrouted: 0 });
  assert.equal(v.ok, false);
  assert.match(v.reasons.join(), /1 of 60 expected deliveries lost/);
  assert.equal(exitCodeFor(v), 1);
});

test('a duplicated delivery is detected and counted, and does not hide a loss', () => {
  const ledger = new DeliveryLedger(6, 1, 10);
  perfectRun(ledger, 10);
  assert.equal(ledger.record(4, 0, 3, 5), 'duplicate');
  let a = books(ledger, 10);
  assert.equal(a.duplicates, 1);
  assert.equal(a.lost, 0);
  assert.equal(a.delivered, 60);
  let v = verdict({ accounting: a, failures: {}, stanzaErrors: {}, misrouted: 0 });
  assert.match(v.reasons.join(), /1 duplicate deliveries/);
  assert.equal(exitCodeFor(v), 1);

  // Receiver 1 misses seq 2 of sender 0 but gets seq 3 twice: one loss and one duplicate, not "all fine".
  const l2 = new DeliveryLedger(6, 1, 10);
  for (let seq = 0; seq < 10; seq++) for (let r = 0; r < 3; r++) if (!(r === 1 && seq === 2)) l2.record(r, 0, 0, seq);
  l2.record(1, 0, 0, 3);
  for (let seq = 0; seq < 10; seq++) for (let r = 3; r < 6; r++) l2.record(r, 0, 3, seq);
  a = books(l2, 10);
  assert.equal(a.lost, 1);
  assert.equal(a.duplicates, 1);
  v = verdict({ accounting: a, failures: {}, stanzaErrors: {}, misrouted: 0 });
  assert.equal(v.reasons.length, 2);
});

test('sequence numbers beyond the planned size grow the bitmaps without losing bits', () => {
  const ledger = new DeliveryLedger(2, 2, 8);
  assert.equal(ledger.record(0, 1, 1, 3), 'new');
  assert.equal(ledger.record(1, 0, 0, 5), 'new');
  assert.equal(ledger.record(0, 1, 1, 1000), 'new');
  assert.equal(ledger.record(0, 1, 1, 3), 'duplicate');
  assert.equal(ledger.record(1, 0, 0, 5), 'duplicate');
  assert.equal(ledger.record(0, 0, 0, 3), 'new', 'another sender slot is a different bit');
  assert.equal(ledger.distinct, 4);
  assert.equal(ledger.duplicates, 2);
});

test('failures, stanza errors, misrouted and unexpected deliveries each fail the run', () => {
  const clean = { sent: 1, expected: 1, delivered: 1, lost: 0, duplicates: 0, unexpected: 0 };
  const ok = (v: { ok: boolean }) => exitCodeFor(v);
  assert.equal(ok(verdict({ accounting: clean, failures: { 'login: not-authorized': 2 }, stanzaErrors: {}, misrouted: 0 })), 1);
  assert.equal(ok(verdict({ accounting: clean, failures: {}, stanzaErrors: { 'message/forbidden': 1 }, misrouted: 0 })), 1);
  assert.equal(ok(verdict({ accounting: clean, failures: {}, stanzaErrors: {}, misrouted: 1 })), 1);
  assert.equal(ok(verdict({ accounting: { ...clean, delivered: 2, unexpected: 1 }, failures: {}, stanzaErrors: {}, misrouted: 0 })), 1);
  assert.equal(ok(verdict({ accounting: clean, failures: { 'join: x': 0 }, stanzaErrors: {}, misrouted: 0 })), 0);
});
