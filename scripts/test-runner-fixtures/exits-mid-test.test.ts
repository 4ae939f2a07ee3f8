// Fixture: the process exits with status 0 while its second test runs.
import { test } from 'node:test';

test('finishes', () => {});
test('exits the process', async () => {
  await new Promise((resolve) => setTimeout(resolve, 20));
  process.exit(0);
});
test('never runs', () => {});
