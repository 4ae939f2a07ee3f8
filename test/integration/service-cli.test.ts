/*
 * Packaging basics (issue #14 item 3): each service has a `bin` and `npm start`, and
 * `--help` prints its usage (exit 0, no stack trace); an unknown option is one line on
 * stderr with exit 64 (EX_USAGE). Runs the built entry points as an operator would.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '@parley/testkit';

const SERVICES = [
  { dir: 'gateway', bin: 'parley-gateway' },
  { dir: 'room-worker', bin: 'parley-room-worker' },
  { dir: 'admin-api', bin: 'parley-admin-api' },
] as const;

/** Runs `cmd args` in `cwd` without PARLEY_* or REDIS_URL; resolves with exit code and output. */
function run(cmd: string, args: string[], cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PARLEY_') && k !== 'REDIS_URL' && !k.startsWith('npm_')) env[k] = v;
  const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  return new Promise((resolve) => child.once('close', (code) => {
    clearTimeout(timer);
    resolve({ code, stdout, stderr });
  }));
}

for (const svc of SERVICES) {
  test(`${svc.bin}: bin and start script point at the entry point; --help prints usage; a bad option is one line (exit 64)`, async () => {
    const dir = join(repoRoot(), 'services', svc.dir);
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { bin?: Record<string, string>; scripts?: Record<string, string> };
    assert.equal(pkg.bin?.[svc.bin], './dist/main.js');
    assert.equal(pkg.scripts?.start, 'node dist/main.js');
    assert.match(readFileSync(join(dir, 'dist', 'main.js'), 'utf8'), /^#!\/usr\/bin\/env node\n/);

    const help = await run(process.execPath, ['dist/main.js', '--help'], dir);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, new RegExp(`^Usage: ${svc.bin} \\[--config <file>\\]`));
    assert.match(help.stdout, /JSON or YAML configuration file/);
    assert.match(help.stdout, /PARLEY_\* environment variables/);
    assert.equal(help.stderr, '');
    const short = await run(process.execPath, ['dist/main.js', '-h'], dir);
    assert.equal(short.stdout, help.stdout);

    const bad = await run(process.execPath, ['dist/main.js', '--no-such-option'], dir);
    assert.equal(bad.code, 64, bad.stderr);
    assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
    assert.match(bad.stderr, /^parley [a-z-]+: .*--no-such-option.* \(see --help\)\n$/);
    assert.doesNotMatch(bad.stderr, /\n\s+at /);
  });
}

test('a YAML configuration file with an error stops the gateway with one line (exit 78), before Redis is used', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-cli-yaml-'));
  const gatewayDir = join(repoRoot(), 'services', 'gateway');
  try {
    const dup = join(dir, 'parley.yaml');
    writeFileSync(dup, 'hosts: [example.org]\ngateway:\n  c2sPort: 5222\n  c2sPort: 5223\n');
    const r = await run(process.execPath, ['dist/main.js', '--config', dup], gatewayDir);
    assert.equal(r.code, 78, r.stderr);
    assert.equal(r.stderr, `parley gateway: configuration file ${dup} is not valid YAML: line 4, column 3: Map keys must be unique\n`);
    const unknown = join(dir, 'other.yml');
    writeFileSync(unknown, 'gatway:\n  c2sPort: 5222\n');
    const u = await run(process.execPath, ['dist/main.js', '--config', unknown], gatewayDir);
    assert.equal(u.code, 78, u.stderr);
    assert.match(u.stderr, /^parley gateway: invalid configuration:\n.*gatway/);
    assert.doesNotMatch(u.stderr + r.stderr, /\n\s+at /);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('npm start passes arguments through (npm start -- --help)', async () => {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const r = await run(npm, ['start', '--silent', '--', '--help'], join(repoRoot(), 'services', 'gateway'));
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Usage: parley-gateway /m);
});
