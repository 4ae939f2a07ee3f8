// The pure parts of the XEP-0198 Redis copy (services/gateway/src/sm/sm-store.ts): the write
// barrier that holds back the delivery stream's trim, the rooms set that reports its changes,
// and the parsing of stored queue items.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseItem, WatchedSet, WriteBarrier } from '../src/sm/sm-store.js';

test('the write barrier settles generations in order and times out while a write is pending', async () => {
  const b = new WriteBarrier();
  assert.equal(await b.settledUpTo(b.issued, 10), true, 'nothing issued: settled at once');
  let finish1!: () => void;
  let fail2!: (e: Error) => void;
  b.track(new Promise<void>((r) => (finish1 = r)));
  b.track(new Promise<void>((_, j) => (fail2 = j)));
  assert.equal(b.issued, 2);
  assert.equal(await b.settledUpTo(1, 20), false, 'the first write is still pending');
  const waitBoth = b.settledUpTo(2, 5000);
  finish1();
  await new Promise((r) => setImmediate(r));
  assert.equal(b.settled, 1);
  assert.equal(await b.settledUpTo(1, 10), true);
  fail2(new Error('redis down')); // a failed write counts as settled: it will not land later
  assert.equal(await waitBoth, true);
  assert.equal(b.settled, 2);
});

test('the watched rooms set reports new rooms once and a clear only when not empty', () => {
  const s = new WatchedSet();
  const added: string[] = [];
  let cleared = 0;
  s.add('before@muc'); // no hook yet
  s.onAdd = (r) => added.push(r);
  s.onClear = () => (cleared += 1);
  s.add('a@muc');
  s.add('a@muc');
  s.add('b@muc');
  assert.deepEqual(added, ['a@muc', 'b@muc']);
  assert.deepEqual([...s], ['before@muc', 'a@muc', 'b@muc']);
  s.clear();
  s.clear();
  assert.equal(cleared, 1);
  assert.equal(s.size, 0);
});

test('stored queue items parse only with their XML text and time', () => {
  assert.deepEqual(parseItem('{"x":"<message/>","t":5}'), { x: '<message/>', t: 5 });
  assert.equal(parseItem('{"x":1,"t":5}'), undefined);
  assert.equal(parseItem('{"x":"<m/>"}'), undefined);
  assert.equal(parseItem('not json'), undefined);
  assert.equal(parseItem('{"__proto__":{"x":"a","t":1}}'), undefined);
});
