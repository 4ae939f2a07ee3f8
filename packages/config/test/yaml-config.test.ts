import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig } from '@parley/config';

const EXAMPLE = join(dirname(fileURLToPath(import.meta.url)), '../../../deploy/parley.example.yaml');

function write(name: string, text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'parley-yaml-')), name);
  writeFileSync(file, text);
  return file;
}

/** The error message of loading `file`, asserting that it is one ConfigError line. */
function errorOf(file: string): string {
  try {
    loadConfig({ file, env: {} });
  } catch (err) {
    assert.ok(err instanceof ConfigError, `a ConfigError, got ${String(err)}`);
    assert.equal(err.message.split('\n').length, 1, `one line: ${err.message}`);
    return err.message;
  }
  assert.fail(`${file} was accepted`);
}

test('deploy/parley.example.yaml validates and sets what it says', () => {
  const c = loadConfig({ file: EXAMPLE, env: {} });
  assert.deepEqual(c.hosts, ['example.org']);
  assert.equal(c.mucDomain, 'conference.example.org');
  assert.equal(c.redis.keyPrefix, 'parley:');
  assert.equal(c.redis.sentinel, undefined);
  assert.equal(c.gateway.bindHost, '0.0.0.0');
  assert.equal(c.gateway.directTlsPort, 5223);
  assert.equal(c.gateway.healthPort, 5281);
  assert.equal(c.tls.required, true);
  assert.equal(c.tls.wss, true);
  assert.equal(c.tls.certificates.length, 1);
  assert.equal(c.tls.certificates[0]!.host, 'conference.example.org');
  assert.deepEqual(c.muc.admins, ['admin@example.org']);
  assert.deepEqual(c.adminApi.tokens, []);
  // Admin API tokens come from the environment, as the file's comment says.
  const sha = 'ab'.repeat(32);
  const withTokens = loadConfig({ file: EXAMPLE, env: { PARLEY_ADMIN_TOKENS: `ops:admin:${sha}` } });
  assert.deepEqual(withTokens.adminApi.tokens, [{ name: 'ops', scope: 'admin', sha256: sha }]);
});

test('the commented Sentinel block of the example validates once uncommented', () => {
  const lines = readFileSync(EXAMPLE, 'utf8').split('\n');
  const start = lines.findIndex((l) => l.trim() === '# sentinel:');
  assert.ok(start > 0, 'the example has a commented sentinel block');
  const out = [...lines];
  for (let i = start; i < lines.length && lines[i]!.trim().startsWith('#'); i++) out[i] = lines[i]!.replace(/^(\s*)# /, '$1');
  const c = loadConfig({ file: write('p.yaml', out.join('\n')), env: {} });
  assert.equal(c.redis.sentinel?.masterName, 'mymaster');
  assert.equal(c.redis.sentinel?.sentinels.length, 3);
  assert.deepEqual(c.redis.sentinel?.sentinels[0], { host: '10.0.0.11', port: 26379 });
});

test('YAML and JSON give the same configuration; the format follows the extension, else the content', () => {
  const json = { hosts: ['a.example', 'b.example'], gateway: { c2sPort: 6000 }, muc: { shards: 8 } };
  const yaml = 'hosts: [a.example, b.example]\ngateway:\n  c2sPort: 6000\nmuc: { shards: 8 }\n';
  const fromJson = loadConfig({ file: write('c.json', JSON.stringify(json)), env: {} });
  for (const name of ['c.yaml', 'c.yml', 'c.conf', 'C.YAML']) {
    assert.deepEqual(loadConfig({ file: write(name, yaml), env: {} }), fromJson, name);
  }
  // No extension and JSON content: read as JSON (its errors say JSON).
  assert.deepEqual(loadConfig({ file: write('config', JSON.stringify(json)), env: {} }), fromJson);
  assert.match(errorOf(write('config', '{ "hosts": [ }')), /not valid JSON/);
  // `.json` stays JSON even when the content would be valid YAML.
  assert.match(errorOf(write('c.json', yaml)), /not valid JSON/);
  // Environment variables still override a YAML file.
  assert.equal(loadConfig({ file: write('c.yaml', yaml), env: { PARLEY_C2S_PORT: '7000' } }).gateway.c2sPort, 7000);
});

test('a YAML file with only comments is an empty configuration (defaults)', () => {
  const c = loadConfig({ file: write('c.yaml', '# nothing set yet\n'), env: {} });
  assert.deepEqual(c.hosts, ['localhost']);
});

test('YAML syntax errors are one line with line and column', () => {
  const msg = errorOf(write('c.yaml', 'hosts:\n  - a.example\n gateway:\n  c2sPort: 1\n'));
  assert.match(msg, /^configuration file .*c\.yaml is not valid YAML: line 3, column \d+: \S/);
  assert.match(errorOf(write('c.yaml', 'hosts: [a.example\n')), /not valid YAML: line \d+, column \d+: /);
});

test('YAML duplicate keys, extra documents and non-core tags are refused', () => {
  assert.match(errorOf(write('c.yaml', 'gateway:\n  c2sPort: 1\n  c2sPort: 2\n')), /not valid YAML: line 3, column 3: Map keys must be unique/);
  assert.match(errorOf(write('c.yaml', 'hosts: [a.example]\n---\nhosts: [b.example]\n')), /not valid YAML: line 2, column 1: /);
  assert.match(errorOf(write('c.yaml', 'hosts: !custom a.example\n')), /not valid YAML: line 1, column 8: Unresolved tag: !custom/);
  assert.match(errorOf(write('c.yaml', 'redis:\n  keyPrefix: !!binary cGFybGV5Og==\n')), /not valid YAML: line 2, column 14: Unresolved tag: tag:yaml.org,2002:binary/);
  assert.match(errorOf(write('c.yaml', 'hosts: !!set { a.example }\n')), /Unresolved tag/);
});

test('YAML top level must be a mapping; schema errors are the same as for JSON', () => {
  assert.match(errorOf(write('c.yaml', '- a.example\n')), /not valid YAML: top level must be a mapping/);
  assert.match(errorOf(write('c.yaml', '42\n')), /top level must be a mapping/);
  assert.throws(() => loadConfig({ file: write('c.yaml', 'gatway: {}\n'), env: {} }), (e: unknown) => e instanceof ConfigError && /gatway|Unrecognized/.test(e.message));
  assert.throws(() => loadConfig({ file: write('c.yaml', 'gateway:\n  c2sPort: "5222"\n'), env: {} }), (e: unknown) => e instanceof ConfigError && /gateway\.c2sPort/.test(e.message));
  // YAML 1.2 core schema: `yes` is a string, not a boolean, so a boolean setting refuses it.
  assert.throws(() => loadConfig({ file: write('c.yaml', 'tls:\n  wss: yes\n'), env: {} }), (e: unknown) => e instanceof ConfigError && /tls\.wss/.test(e.message));
  // A `__proto__` key is an unknown key like any other, not a prototype change.
  assert.throws(() => loadConfig({ file: write('c.yaml', '__proto__:\n  hosts: [evil.example]\n'), env: {} }), ConfigError);
  assert.equal(({} as Record<string, unknown>).hosts, undefined);
});

test('YAML alias expansion is bounded', () => {
  // A "billion laughs" document: each level refers to the previous one ten times.
  const levels = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
  for (let i = 1; i < 8; i++) levels.push(`a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(', ')}]`);
  const msg = errorOf(write('c.yaml', `${levels.join('\n')}\n`));
  assert.match(msg, /not valid YAML: .*(alias|Excessive)/i);
});
