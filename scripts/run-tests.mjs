#!/usr/bin/env node
// Runs every test file of the repository with node:test through tsx.
// Node 20's `--test` does not expand globs, so the file list is collected here:
// unit tests in `packages/*/test` and `services/*/test`, then `test/integration`.
// The test files are type-checked first (tsconfig.tests.json).
// Extra arguments are substrings that select files (e.g. `node scripts/run-tests.mjs jid`).
//
// Guards node:test lacks (scripts/test-guard-reporter.mjs): a file that reports no test, or
// whose process exits before its tests finish (`process.exit(0)`), fails the run. Timeouts:
//   PARLEY_TEST_TIMEOUT_MS      per test, and per file as a whole (node's --test-timeout);
//                               default 600000 (10 min)
//   PARLEY_TEST_RUN_TIMEOUT_MS  the whole run: the runner kills it (its process group, so
//                               the servers tests started too) and exits 1; default 2700000 (45 min)
// For the runner's own self-test (test/integration/test-runner.test.ts):
//   PARLEY_TEST_DIRS            comma-separated directories to collect instead of the usual ones
//   PARLEY_TEST_SKIP_TYPECHECK  set to 1 to skip the tsc pass
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, statSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function collect(dir, out) {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir).sort()) {
    if (name === 'node_modules' || name === 'dist') continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) collect(path, out);
    else if (name.endsWith('.test.ts')) out.push(relative(root, path));
  }
  return out;
}

const files = [];
if (process.env.PARLEY_TEST_DIRS) {
  for (const dir of process.env.PARLEY_TEST_DIRS.split(',')) collect(join(root, dir), files);
} else {
  for (const group of ['packages', 'services', 'deploy']) {
    for (const pkg of existsSync(join(root, group)) ? readdirSync(join(root, group)).sort() : []) {
      collect(join(root, group, pkg, 'test'), files);
    }
  }
  collect(join(root, 'test'), files);
}

const filters = process.argv.slice(2);
const selected = filters.length ? files.filter((f) => filters.some((s) => f.includes(s))) : files;
if (selected.length === 0) {
  process.stderr.write('no test files selected\n');
  process.exit(1);
}
function msEnv(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n <= 0) {
    process.stderr.write(`${name} must be a positive integer (milliseconds), got ${raw}\n`);
    process.exit(2);
  }
  return n;
}
const testTimeoutMs = msEnv('PARLEY_TEST_TIMEOUT_MS', 600_000);
const runTimeoutMs = msEnv('PARLEY_TEST_RUN_TIMEOUT_MS', 2_700_000);

// Type-check the tests themselves first (tsx strips types without checking them).
if (process.env.PARLEY_TEST_SKIP_TYPECHECK !== '1') {
  const typecheck = spawnSync(join(root, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.tests.json'], { cwd: root, stdio: 'inherit' });
  if (typecheck.status !== 0) {
    process.stderr.write('the tests do not type-check (tsc -p tsconfig.tests.json)\n');
    process.exit(typecheck.status ?? 1);
  }
}

const guardDir = mkdtempSync(join(tmpdir(), 'parley-tests-'));
const guardFile = join(guardDir, 'verdict.json');
const env = {
  ...process.env,
  PARLEY_TEST_GUARD_FILE: guardFile,
  PARLEY_TEST_REPORTER: process.env.PARLEY_TEST_REPORTER ?? (process.stdout.isTTY ? 'spec' : 'tap'),
};
// A runner started from inside a test file must not think it is a node:test child.
delete env.NODE_TEST_CONTEXT;
// Own process group (detached), so that a timeout or Ctrl-C stops the servers tests started too.
const child = spawn(process.execPath, [
  '--conditions=parley-source', '--import', 'tsx', '--test', '--test-concurrency=1',
  `--test-timeout=${testTimeoutMs}`,
  '--test-reporter', join(root, 'scripts', 'test-guard-reporter.mjs'), '--test-reporter-destination', 'stdout',
  ...selected,
], { cwd: root, stdio: 'inherit', env, detached: true });

let verdictOverride;
function killGroup(signal) {
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}
const watchdog = setTimeout(() => {
  process.stderr.write(`\n# the test run took longer than ${runTimeoutMs} ms (PARLEY_TEST_RUN_TIMEOUT_MS): stopped\n`);
  verdictOverride = 1;
  killGroup('SIGTERM');
  setTimeout(() => killGroup('SIGKILL'), 5000).unref();
}, runTimeoutMs);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    verdictOverride = 1;
    killGroup(signal);
  });
}
child.on('exit', (code, signal) => {
  clearTimeout(watchdog);
  // Whatever the tests left behind in the group goes too.
  killGroup('SIGKILL');
  let status = code ?? 1;
  if (signal !== null) status = 1;
  let verdict;
  try {
    verdict = JSON.parse(readFileSync(guardFile, 'utf8'));
  } catch {
    verdict = undefined;
  }
  rmSync(guardDir, { recursive: true, force: true });
  if (verdict?.done !== true) {
    process.stderr.write('# the test reporter did not finish: the run is not trusted\n');
    status = 1;
  } else if (verdict.problems.length > 0) {
    for (const p of verdict.problems) process.stderr.write(`# refused ${relative(root, p.file)}: ${p.reason}\n`);
    status = 1;
  }
  process.exit(verdictOverride ?? status);
});
