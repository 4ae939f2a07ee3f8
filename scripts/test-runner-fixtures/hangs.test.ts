// Fixture: a test that never finishes (a pending promise and a live timer).
import { test } from 'node:test';

test('hangs', async () => {
  setInterval(() => {}, 1000);
  await new Promise(() => {});
});
