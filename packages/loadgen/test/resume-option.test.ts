/*
 * The scenario's `resume` option (XEP-0198 drop-and-resume), pure logic: validation and
 * defaults, and which clients resume (⌊count × share⌋ of them, spread evenly).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Layout, LoadgenError, parseScenario } from '@parley/loadgen';

const base = { name: 't', targets: ['127.0.0.1:5222'], domain: 'localhost', accounts: { count: 100 } };

test('resume: off by default, defaults filled in', () => {
  const s = parseScenario(base);
  assert.deepEqual(s.resume, { share: 0, everySec: 10, timeoutSec: 30, ackEvery: 5 });
  const layout = new Layout(s, s.targets, 1, 'r');
  assert.equal(Array.from({ length: 100 }, (_, i) => i).filter((i) => layout.isResumer(i)).length, 0);
});

test('resume: share picks ⌊count × share⌋ clients, spread evenly', () => {
  for (const [share, count, want] of [
    [0.1, 100, 10],
    [0.5, 12, 6],
    [1, 7, 7],
    [0.25, 10, 2],
  ] as const) {
    const s = parseScenario({ ...base, accounts: { count }, resume: { share } });
    const layout = new Layout(s, s.targets, 1, 'r');
    const picked = Array.from({ length: count }, (_, i) => i).filter((i) => layout.isResumer(i));
    assert.equal(picked.length, want, `share ${share} of ${count}`);
    if (share === 0.1) assert.deepEqual(picked, [9, 19, 29, 39, 49, 59, 69, 79, 89, 99]);
  }
});

test('resume: bad values are refused with their path', () => {
  for (const resume of [{ share: 1.5 }, { share: -0.1 }, { everySec: 0 }, { ackEvery: 0 }, { ackEvery: 2.5 }, { extra: 1 }]) {
    assert.throws(() => parseScenario({ ...base, resume }), (e: unknown) => e instanceof LoadgenError && e.issues.some((i) => i.startsWith('resume')), JSON.stringify(resume));
  }
});
