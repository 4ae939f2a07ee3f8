#!/usr/bin/env node
// Runs every test file of the repository with node:test through tsx.
// Node 20's `--test` does not expand globs, so the file list is collected here:
// unit tests in `packages/*/test` and `services/*/test`, then `test/integration`.
// The test files are type-checked first (tsconfig.tests.json).
// Extra arguments are substrings that select files (e.g. `node scripts/run-tests.mjs jid`).
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync, existsSync } from 'node:fs';
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
for (const group of ['packages', 'services', 'deploy']) {
  for (const pkg of existsSync(join(root, group)) ? readdirSync(join(root, group)).sort() : []) {
    collect(join(root, group, pkg, 'test'), files);
  }
}
collect(join(root, 'test'), files);

const filters = process.argv.slice(2);
const selected = filters.length ? files.filter((f) => filters.some((s) => f.includes(s))) : files;
if (selected.length === 0) {
  process.stderr.write('no test files selected\n');
  process.exit(1);
}
// Type-check the tests themselves first (tsx strips types without checking them).
const typecheck = spawnSync(join(root, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.tests.json'], { cwd: root, stdio: 'inherit' });
if (typecheck.status !== 0) {
  process.stderr.write('the tests do not type-check (tsc -p tsconfig.tests.json)\n');
  process.exit(typecheck.status ?? 1);
}
const r = spawnSync(process.execPath, [
  '--conditions=parley-source', '--import', 'tsx', '--test', '--test-concurrency=1', ...selected,
], { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);
