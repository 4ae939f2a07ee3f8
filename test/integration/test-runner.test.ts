// The test runner's own guards (scripts/run-tests.mjs, scripts/test-guard-reporter.mjs): a
// file that exits early, one that registers no test and one that hangs must each fail the
// run, which node:test alone lets pass (issue #10). The fixtures live in
// scripts/test-runner-fixtures, outside the directories the runner collects.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs the runner on the fixture files matching any of `filters` (TAP output, no type-check). */
function runRunner(filters: string[], env: Record<string, string> = {}): Promise<RunResult> {
  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    PARLEY_TEST_DIRS: 'scripts/test-runner-fixtures',
    PARLEY_TEST_SKIP_TYPECHECK: '1',
    PARLEY_TEST_REPORTER: 'tap',
    ...env,
  };
  delete childEnv.NODE_TEST_CONTEXT;
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(root, 'scripts', 'run-tests.mjs'), ...filters], { cwd: root, env: childEnv });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr, ms: Date.now() - started }));
  });
}

/** The value of a closing summary line such as `# fail 1`. */
function summary(out: string, key: string): number {
  const m = new RegExp(`^# ${key} (\\d+)$`, 'm').exec(out);
  assert.ok(m, `no "# ${key} N" line in:\n${out}`);
  return Number(m[1]);
}

test('a passing file passes, with the closing summary lines', async () => {
  const r = await runRunner(['passes']);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.equal(summary(r.stdout, 'tests'), 3);
  assert.equal(summary(r.stdout, 'pass'), 3);
  assert.equal(summary(r.stdout, 'fail'), 0);
});

test('a file that calls process.exit(0) mid-test fails the run', async () => {
  const r = await runRunner(['exits-mid-test']);
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.equal(summary(r.stdout, 'fail'), 1);
  assert.match(r.stderr, /refused scripts\/test-runner-fixtures\/exits-mid-test\.test\.ts: 2 of 3 tests never finished/);
});

test('a file that calls process.exit(0) in a subtest fails the run', async () => {
  const r = await runRunner(['exits-in-subtest']);
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.equal(summary(r.stdout, 'fail'), 1);
  assert.equal(summary(r.stdout, 'pass'), 0);
  assert.match(r.stderr, /refused scripts\/test-runner-fixtures\/exits-in-subtest\.test\.ts/);
});

test('a file with no test fails the run', async () => {
  const r = await runRunner(['no-tests']);
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.equal(summary(r.stdout, 'fail'), 1);
  assert.equal(summary(r.stdout, 'pass'), 0);
  assert.match(r.stderr, /refused scripts\/test-runner-fixtures\/no-tests\.test\.ts: the file reported no test/);
});

test('a refused file fails the run even next to a passing one', async () => {
  const r = await runRunner(['passes', 'no-tests']);
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.equal(summary(r.stdout, 'tests'), 4);
  assert.equal(summary(r.stdout, 'pass'), 3);
  assert.equal(summary(r.stdout, 'fail'), 1);
});

test('a hanging test fails at the per-test timeout (PARLEY_TEST_TIMEOUT_MS)', async () => {
  const r = await runRunner(['hangs'], { PARLEY_TEST_TIMEOUT_MS: '1500' });
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /test timed out after 1500ms/);
  assert.ok(r.ms < 30_000, `took ${r.ms} ms`);
});

test('a hanging run is killed by the overall watchdog (PARLEY_TEST_RUN_TIMEOUT_MS)', async () => {
  const r = await runRunner(['hangs'], { PARLEY_TEST_RUN_TIMEOUT_MS: '2000' });
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stderr, /took longer than 2000 ms \(PARLEY_TEST_RUN_TIMEOUT_MS\): stopped/);
  assert.ok(r.ms < 15_000, `took ${r.ms} ms`);
});
