import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '@parley/config';

test('defaults give a single-host development setup', () => {
  const c = loadConfig({ env: {} });
  assert.deepEqual(c.hosts, ['localhost']);
  assert.equal(c.mucDomain, 'conference.localhost');
  assert.equal(c.gateway.c2sPort, 5222);
  assert.equal(c.auth.backend, 'redis');
  assert.equal(c.auth.allowPlainWithoutTls, false);
  assert.equal(c.limits.maxStanzaBytes, 262144);
});

test('environment variables override the file, and overrides override both', () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-config-'));
  const file = join(dir, 'c.json');
  writeFileSync(file, JSON.stringify({ hosts: ['example.org'], gateway: { c2sPort: 6000, wsPort: 6001 } }));
  const c = loadConfig({ file, env: { PARLEY_C2S_PORT: '7000', PARLEY_OFFLINE_ENABLED: 'false' }, overrides: { 'gateway.wsPort': 7001 } });
  assert.deepEqual(c.hosts, ['example.org']);
  assert.equal(c.mucDomain, 'conference.example.org');
  assert.equal(c.gateway.c2sPort, 7000);
  assert.equal(c.gateway.wsPort, 7001);
  assert.equal(c.offline.enabled, false);
});

test('open authentication is only turned on by its full name', () => {
  assert.throws(() => loadConfig({ env: { PARLEY_AUTH_BACKEND: 'open' } }), ConfigError);
  assert.throws(() => loadConfig({ env: { PARLEY_AUTH_BACKEND: 'true' } }), ConfigError);
  assert.equal(loadConfig({ env: { PARLEY_AUTH_BACKEND: 'open-insecure-test-only' } }).auth.backend, 'open-insecure-test-only');
});

test('every problem is reported with its path', () => {
  assert.throws(
    () => loadConfig({ env: { PARLEY_C2S_PORT: '70000', REDIS_URL: 'http://nope' } }),
    (err: unknown) => err instanceof ConfigError && /gateway\.c2sPort/.test(err.message) && /redis\.url/.test(err.message),
  );
  assert.throws(() => loadConfig({ env: { PARLEY_C2S_PORT: 'abc' } }), /PARLEY_C2S_PORT: expected an integer/);
  assert.throws(() => loadConfig({ env: { PARLEY_LOG_PRETTY: 'yes' } }), /expected true or false/);
});

test('unknown keys and unreadable files are errors, not silently ignored', () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-config-'));
  const file = join(dir, 'c.json');
  writeFileSync(file, JSON.stringify({ gatway: {} }));
  assert.throws(() => loadConfig({ file, env: {} }), /gatway|Unrecognized/);
  writeFileSync(file, '{ not json');
  assert.throws(() => loadConfig({ file, env: {} }), /not valid JSON/);
  assert.throws(() => loadConfig({ file: join(dir, 'missing.json'), env: {} }), /cannot read/);
  assert.throws(() => loadConfig({ env: { PARLEY_TLS_CERT: '/x.pem' } }), /together/);
});

test('gateway.wsPublicUrl (XEP-0156 host-meta): a ws:// or wss:// URL from PARLEY_WS_PUBLIC_URL, else unset', () => {
  assert.equal(loadConfig({ env: {} }).gateway.wsPublicUrl, undefined);
  assert.equal(loadConfig({ env: { PARLEY_WS_PUBLIC_URL: 'wss://xmpp.example.org/ws' } }).gateway.wsPublicUrl, 'wss://xmpp.example.org/ws');
  for (const bad of ['https://xmpp.example.org/ws', 'wss://a b', 'wss://x"><script>', `wss://${'a'.repeat(2050)}`]) {
    assert.throws(() => loadConfig({ env: { PARLEY_WS_PUBLIC_URL: bad } }), ConfigError, bad);
  }
});

test('gateway.listenBacklog and muc.archive.defaultEnabled from the environment', () => {
  const d = loadConfig({ env: {} });
  assert.equal(d.gateway.listenBacklog, 511);
  assert.equal(d.muc.archive.defaultEnabled, true);
  const c = loadConfig({ env: { PARLEY_LISTEN_BACKLOG: '1024', PARLEY_MUC_ARCHIVE_DEFAULT_ENABLED: 'false' } });
  assert.equal(c.gateway.listenBacklog, 1024);
  assert.equal(c.muc.archive.defaultEnabled, false);
  assert.throws(() => loadConfig({ env: { PARLEY_LISTEN_BACKLOG: '0' } }), ConfigError);
  assert.throws(() => loadConfig({ env: { PARLEY_MUC_ARCHIVE_DEFAULT_ENABLED: 'off' } }), /expected true or false/);
});
