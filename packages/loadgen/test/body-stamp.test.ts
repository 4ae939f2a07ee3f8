import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeStamp, decodeStampAt, encodeStamp, nowUs, stampPrefix } from '@parley/loadgen';

test('a stamp round-trips and pads the body to bodyBytes', () => {
  const sendUs = Math.floor(nowUs());
  const body = encodeStamp('abc12', { sender: 9876, seq: 123456, sendUs }, 64);
  assert.equal(body.length, 64);
  assert.match(body, /^lg:abc12:9876:123456:\d+:x+$/);
  assert.deepEqual(decodeStamp(body, 'abc12'), { sender: 9876, seq: 123456, sendUs });
});

test('a body shorter than the stamp is the stamp alone', () => {
  const body = encodeStamp('r', { sender: 1, seq: 2, sendUs: 3 }, 4);
  assert.equal(body, 'lg:r:1:2:3:');
  assert.deepEqual(decodeStamp(body, 'r'), { sender: 1, seq: 2, sendUs: 3 });
});

test('decodes in place inside a stanza without allocating a substring', () => {
  const body = encodeStamp('run', { sender: 5, seq: 0, sendUs: 1_700_000_000_123_456 }, 40);
  const xml = `<message from='r@c/n5' type='groupchat'><body>${body}</body></message>`;
  const out = { sender: -1, seq: -1, sendUs: -1 };
  assert.equal(decodeStampAt(xml, xml.indexOf('<body>') + 6, stampPrefix('run'), out), true);
  assert.deepEqual(out, { sender: 5, seq: 0, sendUs: 1_700_000_000_123_456 });
});

test('bodies of another run, or malformed, are not stamps', () => {
  const body = encodeStamp('one', { sender: 1, seq: 1, sendUs: 1 }, 32);
  assert.equal(decodeStamp(body, 'two'), undefined);
  assert.equal(decodeStamp('hello', 'one'), undefined);
  assert.equal(decodeStamp('lg:one:1:2', 'one'), undefined);
  assert.equal(decodeStamp('lg:one:1::3:', 'one'), undefined);
  assert.equal(decodeStamp('lg:one:1:x:3:', 'one'), undefined);
});

test('the clock is in µs since the epoch and monotonic enough to subtract', () => {
  const a = nowUs();
  const b = nowUs();
  assert.ok(b >= a);
  assert.ok(Math.abs(a / 1000 - Date.now()) < 1000);
});
