// Fixture: the process exits with status 0 inside a subtest, before any result is written.
import { test } from 'node:test';

test('outer', async (t) => {
  await t.test('exits', () => {
    process.exit(0);
  });
});
