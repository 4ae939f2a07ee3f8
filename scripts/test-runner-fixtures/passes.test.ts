// Fixture: an ordinary passing file (the runner must accept it).
import assert from 'node:assert/strict';
import { test } from 'node:test';

test('adds', () => {
  assert.equal(1 + 1, 2);
});
test('has a subtest', async (t) => {
  await t.test('inner', () => assert.ok(true));
});
