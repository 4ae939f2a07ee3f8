import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HEADER, record, writeInChunks } from './recorder.js';

const STREAM =
  HEADER +
  "<message to='room@muc.example.com' type='groupchat' id='m1'><body>héllo 世界 🎉 &amp; &lt;tags&gt; &#x1F600;</body></message>\n" +
  "<presence to='room@muc.example.com/nick'><x xmlns='http://jabber.org/protocol/muc'/></presence>" +
  "<iq type='get' id='i1'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>" +
  '</stream:stream>';

function eventsFor(size: number): unknown[] {
  const r = record();
  writeInChunks(r.parser, STREAM, size);
  return r.events;
}

test('the whole stream at once gives a header, three elements and the end', () => {
  const events = eventsFor(STREAM.length * 4);
  assert.deepEqual(
    events.map((e) => (e as { type: string }).type),
    ['start', 'element', 'element', 'element', 'end'],
  );
  assert.deepEqual(events[1], {
    type: 'element',
    xml: '<message xmlns="jabber:client" to="room@muc.example.com" type="groupchat" id="m1"><body>héllo 世界 🎉 &amp; &lt;tags&gt; 😀</body></message>',
  });
});

test('1-byte chunks (multi-byte characters split between writes) give the same events', () => {
  assert.deepEqual(eventsFor(1), eventsFor(STREAM.length * 4));
});

test('every chunk size from 2 to 40 bytes gives the same events', () => {
  const expected = eventsFor(STREAM.length * 4);
  for (let size = 2; size <= 40; size++) assert.deepEqual(eventsFor(size), expected, `chunk size ${size}`);
});

test('a string chunk and a Buffer chunk are equivalent', () => {
  const r = record();
  r.parser.write(STREAM);
  assert.deepEqual(r.events, eventsFor(STREAM.length * 4));
});
