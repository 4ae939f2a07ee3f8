import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  decodeEnvelope,
  decodeHopTrace,
  decodeRoomInput,
  encodeEnvelope,
  encodeHopTrace,
  encodeRoomInput,
  extendHopTrace,
  HOP_POINTS,
  hopNowUs,
  MAX_HOP_STAMPS,
  namedHopStamps,
  type Envelope,
  type RoomInputEnvelope,
} from '@parley/bus';

const trace = { id: 'gw-ab12.7', stamps: [1796000000000000.5, 1796000000000012, 1796000000000100.3] };

test('hop traces round-trip in delivery envelopes (stanza, stanzas, fanout) and room inputs', () => {
  const envs: Envelope[] = [
    { kind: 'stanza', to: 'a@localhost/r', sessionId: 's1', xml: '<message/>', mark: '3:1-0:0', hop: trace },
    { kind: 'stanza', to: 'a@localhost/r', sessionId: 's1', xml: '<message/>', hop: trace },
    { kind: 'fanout', recipients: [{ to: 'a@localhost/r', sessionId: 's1' }], xml: '<message type="groupchat"/>', mark: '3:1-0:1', hop: trace },
    { kind: 'stanzas', to: 'a@localhost/r', sessionId: 's1', xml: ['<message type="groupchat"/>'], mark: '3:1-0:2', hop: trace },
  ];
  for (const env of envs) assert.deepEqual(decodeEnvelope(encodeEnvelope(env)), env);
  const input: RoomInputEnvelope = { kind: 'stanza', room: 'r@c', xml: '<message/>', gateway: 'gw', sessionId: 's', hop: trace };
  assert.deepEqual(decodeRoomInput(encodeRoomInput(input)), input);
});

test('without a trace no hop field is written (the setting off costs no bytes)', () => {
  const fields = encodeEnvelope({ kind: 'fanout', recipients: [{ to: 'a@localhost/r', sessionId: 's1' }], xml: '<m/>', mark: '3:1-0:1' });
  assert.equal(fields.includes('hop'), false);
  assert.equal(encodeRoomInput({ kind: 'stanza', room: 'r@c', xml: '<m/>', gateway: 'gw', sessionId: 's' }).includes('hop'), false);
});

test('a malformed hop field is dropped, the envelope is kept', () => {
  const base = ['kind', 'stanza', 'to', 'a@b/c', 'sid', 's', 'xml', '<m/>'];
  for (const bad of ['no-bar', '|1,2', 'id with space|1', 'x|1,,2', 'x|-1', 'x|1e9', `x|${Array(MAX_HOP_STAMPS + 1).fill('1').join(',')}`, `${'a'.repeat(65)}|1`]) {
    const env = decodeEnvelope([...base, 'hop', bad]);
    assert.deepEqual(env, { kind: 'stanza', to: 'a@b/c', sessionId: 's', xml: '<m/>' }, bad);
    const input = decodeRoomInput(['kind', 'stanza', 'room', 'r@c', 'gw', 'g', 'sid', 's', 'xml', '<m/>', 'hop', bad]);
    assert.deepEqual(input, { kind: 'stanza', room: 'r@c', xml: '<m/>', gateway: 'g', sessionId: 's' }, bad);
  }
  assert.equal(decodeHopTrace(undefined), undefined);
  assert.deepEqual(decodeHopTrace('x|'), { id: 'x', stamps: [] });
});

test('stamps keep one decimal of a microsecond; extend appends within the bound; names follow HOP_POINTS', () => {
  assert.equal(encodeHopTrace({ id: 'x', stamps: [12.345, 7] }), 'x|12.3,7');
  const long = extendHopTrace({ id: 'x', stamps: [] }, ...Array.from({ length: 20 }, (_, i) => i));
  assert.equal(long.stamps.length, MAX_HOP_STAMPS);
  const named = namedHopStamps({ id: 'x', stamps: [1, 2, 3] });
  assert.deepEqual(named, { [HOP_POINTS[0]]: 1, [HOP_POINTS[1]]: 2, [HOP_POINTS[2]]: 3 });
  const a = hopNowUs();
  const b = hopNowUs();
  assert.ok(b >= a && Math.abs(a - Number(process.hrtime.bigint()) / 1000) < 1_000_000, 'µs of the monotonic clock, monotone');
});
