import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InputFlow, TokenBucket } from '../src/session/input-flow.js';
import { AddressLimits, addressKey, addressOfRemote } from '../src/transport/address-limits.js';

test('TokenBucket: starts full, goes into debt, refills at its rate up to the burst', () => {
  let now = 0;
  const bucket = new TokenBucket(100, 50, () => now);
  assert.equal(bucket.take(30), 20);
  assert.equal(bucket.msUntilPositive(), 0);
  assert.equal(bucket.take(70), -50);
  assert.equal(bucket.msUntilPositive(), 510); // (1 + 50) tokens at 100/s
  now += 510;
  assert.equal(bucket.msUntilPositive(), 0);
  now += 10_000;
  assert.equal(bucket.take(0), 50, 'never above the burst');
});

test('InputFlow: pauses when a bucket is empty and resumes by itself when it refills', async () => {
  const calls: string[] = [];
  const flow = new InputFlow(
    { pauseReading: () => calls.push('pause'), resumeReading: () => calls.push('resume') },
    { bytesPerSecond: 1000, burstBytes: 100, stanzasPerSecond: 1000, burstStanzas: 1000, maxQueued: 100 },
  );
  flow.onBytes(50);
  assert.deepEqual(calls, []);
  flow.onBytes(100); // 50 bytes of debt: about 51 ms
  assert.deepEqual(calls, ['pause']);
  await new Promise((r) => setTimeout(r, 150));
  assert.deepEqual(calls, ['pause', 'resume']);
  flow.stop();
});

test('InputFlow: pauses at maxQueued elements and resumes at half', () => {
  const calls: string[] = [];
  const flow = new InputFlow(
    { pauseReading: () => calls.push('pause'), resumeReading: () => calls.push('resume') },
    { bytesPerSecond: 1e9, burstBytes: 1e9, stanzasPerSecond: 1e6, burstStanzas: 1e6, maxQueued: 4 },
  );
  for (let i = 0; i < 4; i++) flow.onQueued();
  assert.deepEqual(calls, ['pause']);
  flow.onHandled(); // 3 queued
  assert.deepEqual(calls, ['pause']);
  flow.onHandled(); // 2 queued: half
  assert.deepEqual(calls, ['pause', 'resume']);
  assert.equal(flow.queueLength, 2);
  flow.stop();
});

test('AddressLimits: caps open and unauthenticated connections per address; released slots come back', () => {
  const limits = new AddressLimits(3, 2);
  const a = limits.admit('10.0.0.1');
  const b = limits.admit('10.0.0.1');
  assert.ok(typeof a !== 'string' && typeof b !== 'string');
  assert.match(String(limits.admit('10.0.0.1')), /unauthenticated/);
  assert.equal(typeof limits.admit('10.0.0.2'), 'object', 'other addresses are counted apart');
  a.authenticated();
  a.authenticated(); // idempotent
  const c = limits.admit('10.0.0.1');
  assert.equal(typeof c, 'object');
  assert.match(String(limits.admit('10.0.0.1')), /too many connections/);
  a.release();
  a.release();
  assert.equal(limits.refusal('10.0.0.1'), 'too many unauthenticated connections from 10.0.0.1 (at most 2)');
  b.release();
  assert.equal(limits.refusal('10.0.0.1'), undefined);
  if (typeof c !== 'string') c.release();
  assert.equal(limits.addresses, 1, 'an address without connections is forgotten');
  assert.equal(typeof limits.admit('__proto__'), 'object', 'any key is just a Map key');
});

test('address keys: IPv4-mapped IPv6 is IPv4; the port is cut from a remote', () => {
  assert.equal(addressKey('::ffff:127.0.0.1'), '127.0.0.1');
  assert.equal(addressKey('::1'), '::1');
  assert.equal(addressKey(undefined), '?');
  assert.equal(addressOfRemote('127.0.0.1:5555'), '127.0.0.1');
  assert.equal(addressOfRemote('::ffff:10.1.2.3:40000'), '10.1.2.3');
  assert.equal(addressOfRemote('::1:40000'), '::1');
});
