import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareStreamIds, DeliveryMarks, formatDeliveryMark, parseDeliveryMark } from '@parley/bus';

test('a mark survives formatting and parsing; malformed marks are rejected', () => {
  const mark = { shard: 12, entry: '1700000000000-3', seq: 4 };
  assert.equal(formatDeliveryMark(mark), '12:1700000000000-3:4');
  assert.deepEqual(parseDeliveryMark(formatDeliveryMark(mark)), mark);
  for (const bad of ['', '12', '12:1-1', 'x:1-1:0', '1:1-1:-1', '1:1:0']) assert.equal(parseDeliveryMark(bad), undefined, bad);
});

test('stream ids compare numerically, not as strings', () => {
  assert.ok(compareStreamIds('9-0', '10-0') < 0);
  assert.ok(compareStreamIds('10-2', '10-10') < 0);
  assert.ok(compareStreamIds('10-10', '10-2') > 0);
  assert.equal(compareStreamIds('5-5', '5-5'), 0);
});

test('DeliveryMarks accepts each mark once and drops replays of earlier ones, per shard', () => {
  const marks = new DeliveryMarks();
  assert.equal(marks.accept({ shard: 1, entry: '10-0', seq: 0 }), true);
  assert.equal(marks.accept({ shard: 1, entry: '10-0', seq: 1 }), true);
  assert.equal(marks.accept({ shard: 1, entry: '10-0', seq: 1 }), false, 'same mark again');
  assert.equal(marks.accept({ shard: 1, entry: '10-0', seq: 0 }), false, 'earlier seq of the same entry');
  assert.equal(marks.accept({ shard: 1, entry: '9-5', seq: 7 }), false, 'earlier entry');
  assert.equal(marks.accept({ shard: 2, entry: '9-5', seq: 0 }), true, 'another shard has its own order');
  assert.equal(marks.accept({ shard: 1, entry: '11-0', seq: 0 }), true);
});
