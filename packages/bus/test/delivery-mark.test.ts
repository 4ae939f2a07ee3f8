import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareStreamIds, DeliveryMarks, formatDeliveryMark, laneForRoom, MAX_LANES, nextStreamId, parseDeliveryMark, prevStreamId, shardForRoom } from '@parley/bus';

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

test('a mark with a lane survives formatting and parsing; lanes past MAX_LANES are rejected', () => {
  const mark = { shard: 3, lane: 17, entry: '1700000000000-3', seq: 2 };
  assert.equal(formatDeliveryMark(mark), '3.17:1700000000000-3:2');
  assert.deepEqual(parseDeliveryMark(formatDeliveryMark(mark)), mark);
  assert.equal(parseDeliveryMark(`3.${MAX_LANES}:1-1:0`), undefined);
  for (const bad of ['3.:1-1:0', '3.-1:1-1:0', '.1:1-1:0']) assert.equal(parseDeliveryMark(bad), undefined, bad);
});

test('DeliveryMarks keeps one order per lane of a shard: a lane served ahead does not drop another', () => {
  const marks = new DeliveryMarks();
  assert.equal(marks.accept({ shard: 1, lane: 2, entry: '10-5', seq: 0 }), true, 'lane 2 served ahead');
  assert.equal(marks.accept({ shard: 1, lane: 1, entry: '10-1', seq: 0 }), true, 'an older entry of lane 1 is not a repeat');
  assert.equal(marks.accept({ shard: 1, lane: 1, entry: '10-1', seq: 0 }), false, 'its replay is');
  assert.equal(marks.accept({ shard: 1, lane: 2, entry: '10-4', seq: 9 }), false);
  assert.equal(marks.accept({ shard: 1, entry: '10-0', seq: 0 }), true, 'a mark without a lane is its own order');
});

test('laneForRoom spreads the rooms of one shard over every lane', () => {
  const lanesSeen = new Set<number>();
  for (let i = 0; i < 5000; i++) {
    const room = `room${i}@conference.localhost`;
    if (shardForRoom(room, 64) !== 5) continue;
    const lane = laneForRoom(room, 64);
    assert.ok(Number.isInteger(lane) && lane >= 0 && lane < 64, `lane ${lane}`);
    lanesSeen.add(lane);
  }
  assert.ok(lanesSeen.size > 40, `only ${lanesSeen.size} lanes used by one shard's rooms`);
});

test('prevStreamId and nextStreamId are inverse, across a millisecond boundary too', () => {
  for (const id of ['5-3', '5-0', '1-0', '1700000000000-18446744073709551615']) assert.equal(nextStreamId(prevStreamId(id)), id, id);
  assert.equal(prevStreamId('5-0'), '4-18446744073709551615');
  assert.equal(nextStreamId('4-18446744073709551615'), '5-0');
  assert.ok(compareStreamIds(prevStreamId('5-0'), '5-0') < 0);
});
