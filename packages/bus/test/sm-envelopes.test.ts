import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeEnvelope, decodeRoomInput, encodeEnvelope, encodeRoomInput, type Envelope, type RoomInputEnvelope } from '@parley/bus';

test('XEP-0198 takeover envelopes and session-moved room inputs round-trip; incomplete ones are refused', () => {
  const env: Envelope = { kind: 'sm-takeover', to: 'a@localhost/r', sessionId: 's1', smId: 'x.cg', gateway: 'gw-2', reply: 'p:sm-takeover:{u:a@localhost}:n' };
  assert.deepEqual(decodeEnvelope(encodeEnvelope(env)), env);
  assert.equal(decodeEnvelope(['kind', 'sm-takeover', 'to', 'a@localhost/r', 'sid', 's1', 'smid', 'x', 'gw', 'g']), undefined);
  const input: RoomInputEnvelope = { kind: 'session-moved', room: 'r@conference.localhost', jid: 'a@localhost/r', sessionId: 's1', gateway: 'gw-2' };
  assert.deepEqual(decodeRoomInput(encodeRoomInput(input)), input);
  assert.equal(decodeRoomInput(['kind', 'session-moved', 'room', 'r@c', 'jid', 'a@b/c', 'sid', 's']), undefined);
});
