import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '@parley/config';

test('redis.sentinel is unset by default: the single Redis of redis.url is used', () => {
  assert.equal(loadConfig({ env: {} }).redis.sentinel, undefined);
});

test('the sentinel environment variables set redis.sentinel', () => {
  const c = loadConfig({
    env: {
      PARLEY_REDIS_SENTINELS: '10.0.0.1:26379, sentinel-2.example:26380,[fd00::3]:26381',
      PARLEY_REDIS_SENTINEL_MASTER: 'mymaster',
      PARLEY_REDIS_SENTINEL_MASTER_USERNAME: 'parley',
      PARLEY_REDIS_SENTINEL_MASTER_PASSWORD: 'data-secret',
      PARLEY_REDIS_SENTINEL_PASSWORD: 'sentinel-secret',
      PARLEY_REDIS_SENTINEL_DB: '2',
    },
  });
  assert.deepEqual(c.redis.sentinel, {
    masterName: 'mymaster',
    sentinels: [
      { host: '10.0.0.1', port: 26379 },
      { host: 'sentinel-2.example', port: 26380 },
      { host: 'fd00::3', port: 26381 },
    ],
    username: 'parley',
    password: 'data-secret',
    sentinelPassword: 'sentinel-secret',
    db: 2,
  });
});

test('a configuration file sets redis.sentinel; db defaults to 0', () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-config-'));
  const file = join(dir, 'c.json');
  writeFileSync(file, JSON.stringify({ redis: { sentinel: { masterName: 'm1', sentinels: [{ host: '127.0.0.1', port: 26379 }] } } }));
  const c = loadConfig({ file, env: {} });
  assert.deepEqual(c.redis.sentinel, { masterName: 'm1', sentinels: [{ host: '127.0.0.1', port: 26379 }], db: 0 });
});

test('bad sentinel settings stop the process with the path of the problem', () => {
  const bad: Array<[Record<string, string>, RegExp]> = [
    [{ PARLEY_REDIS_SENTINELS: '10.0.0.1' }, /PARLEY_REDIS_SENTINELS: expected host:port/],
    [{ PARLEY_REDIS_SENTINELS: '10.0.0.1:26379,' + 'h:1,'.repeat(16) }, /at most 16 sentinels/],
    [{ PARLEY_REDIS_SENTINELS: '10.0.0.1:26379' }, /redis\.sentinel\.masterName/],
    [{ PARLEY_REDIS_SENTINEL_MASTER: 'mymaster' }, /redis\.sentinel\.sentinels/],
    [{ PARLEY_REDIS_SENTINELS: '10.0.0.1:0', PARLEY_REDIS_SENTINEL_MASTER: 'm' }, /redis\.sentinel\.sentinels\.0\.port/],
    [{ PARLEY_REDIS_SENTINELS: '10.0.0.1:26379', PARLEY_REDIS_SENTINEL_MASTER: 'bad name' }, /redis\.sentinel\.masterName/],
    [{ PARLEY_REDIS_SENTINELS: '10.0.0.1:26379', PARLEY_REDIS_SENTINEL_MASTER: 'm', PARLEY_REDIS_SENTINEL_DB: 'x' }, /PARLEY_REDIS_SENTINEL_DB: expected an integer/],
  ];
  for (const [env, message] of bad) {
    assert.throws(() => loadConfig({ env }), (err: unknown) => err instanceof ConfigError && message.test(err.message), JSON.stringify(env));
  }
  // A misspelt key (here the sentinels' password) is an error, not silently ignored.
  assert.throws(
    () => loadConfig({ env: {}, overrides: { 'redis.sentinel': { masterName: 'm', sentinels: [{ host: 'h', port: 1 }], sentinelPasword: 'x' } } }),
    (err: unknown) => err instanceof ConfigError && /redis\.sentinel/.test(err.message) && /sentinelPasword/.test(err.message),
  );
});
