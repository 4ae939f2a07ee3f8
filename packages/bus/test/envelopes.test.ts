import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeEnvelope, decodeRoomInput, encodeEnvelope, encodeRoomInput, splitStartTag, type Envelope, type RoomInputEnvelope } from '@parley/bus';

test('delivery envelopes round-trip, marks included', () => {
  const cases: Envelope[] = [
    { kind: 'stanza', to: 'a@localhost/r', sessionId: 's1', xml: '<message/>' },
    { kind: 'stanza', to: 'a@localhost/r', sessionId: 's1', xml: '<message/>', mark: '3:1-0:0' },
    { kind: 'fanout', recipients: [{ to: 'a@localhost/r', sessionId: 's1' }, { to: 'b@localhost/q', sessionId: 's2' }], xml: '<message type="groupchat"/>', mark: '3:1-0:1' },
    { kind: 'stanzas', to: 'a@localhost/r', sessionId: 's1', xml: ['<presence from="r@c/a"/>', '<presence from="r@c/b">\n"x"</presence>'], mark: '3:1-0:2' },
    { kind: 'kick', to: 'a@localhost/r', sessionId: 's1', condition: 'conflict', text: 'replaced' },
    { kind: 'route', xml: '<iq type="get" from="r@c/n" to="a@localhost" id="x"/>', mark: '3:1-0:3' },
    { kind: 'route', xml: '<iq/>' },
  ];
  for (const env of cases) assert.deepEqual(decodeEnvelope(encodeEnvelope(env)), env);
});

test('malformed delivery envelopes decode to undefined', () => {
  assert.equal(decodeEnvelope(['kind', 'fanout', 'xml', '<m/>']), undefined);
  assert.equal(decodeEnvelope(['kind', 'fanout', 'xml', '<m/>', 'rcpt', '[["a"]]']), undefined);
  assert.equal(decodeEnvelope(['kind', 'fanout', 'xml', '<m/>', 'rcpt', 'not json']), undefined);
  assert.equal(decodeEnvelope(['kind', 'stanza', 'to', 'a@b/c', 'sid', 's']), undefined);
  assert.equal(decodeEnvelope(['kind', 'other', 'to', 'a@b/c', 'sid', 's']), undefined);
  assert.equal(decodeEnvelope(['kind', 'stanzas', 'to', 'a@b/c', 'sid', 's', 'xml', '[]']), undefined);
  assert.equal(decodeEnvelope(['kind', 'stanzas', 'to', 'a@b/c', 'sid', 's', 'xml', '[1]']), undefined);
  assert.equal(decodeEnvelope(['kind', 'stanzas', 'to', 'a@b/c', 'sid', 's', 'xml', '<p/>']), undefined);
  assert.equal(decodeEnvelope(['kind', 'route', 'mark', '3:1-0:3']), undefined);
});

test('room inputs round-trip; malformed ones decode to undefined', () => {
  const cases: RoomInputEnvelope[] = [
    { kind: 'stanza', room: 'room@conference.localhost', xml: '<presence/>', gateway: 'gw-1', sessionId: 's1' },
    { kind: 'session-ended', room: 'room@conference.localhost', jid: 'a@localhost/r', sessionId: 's1' },
    { kind: 'gateway-down', gateway: 'gw-1' },
    { kind: 'command', room: 'room@conference.localhost', commandId: 'c1', command: '{"op":"get"}', replyTo: 'p:cmd:{c:c1}:reply' },
  ];
  for (const env of cases) assert.deepEqual(decodeRoomInput(encodeRoomInput(env)), env);
  assert.equal(decodeRoomInput(['kind', 'stanza', 'room', 'r@c', 'xml', '<p/>']), undefined);
  assert.equal(decodeRoomInput(['kind', 'session-ended', 'room', 'r@c']), undefined);
  assert.equal(decodeRoomInput(['kind', 'gateway-down']), undefined);
  assert.equal(decodeRoomInput(['kind', 'command', 'room', 'r@c', 'id', 'c1', 'cmd', '{}']), undefined);
  assert.equal(decodeRoomInput([]), undefined);
});

test('room stanza text splits where `to` goes; a root with xmlns or no element is refused', () => {
  assert.deepEqual(splitStartTag('<message from="r@c/n" id="a&gt;b"><body>x</body></message>'), ['<message from="r@c/n" id="a&gt;b"', '><body>x</body></message>']);
  assert.deepEqual(splitStartTag('<presence from="r@c/n"/>'), ['<presence from="r@c/n"', '/>']);
  assert.equal(splitStartTag('<presence xmlns="jabber:client" from="r@c/n"/>'), undefined);
  assert.equal(splitStartTag('<presence xmlns:x="urn:x"/>'), undefined);
  assert.equal(splitStartTag('text'), undefined);
  assert.equal(splitStartTag('<>'), undefined);
});
