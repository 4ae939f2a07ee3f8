import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '@parley/config';

test('redis.cluster is unset by default', () => {
  assert.equal(loadConfig({ env: {} }).redis.cluster, undefined);
});

test('the cluster environment variables set redis.cluster (seed nodes, credentials)', () => {
  const c = loadConfig({
    env: {
      PARLEY_REDIS_CLUSTER: '10.0.0.1:7000, node-2.example:7001,[fd00::3]:7002',
      PARLEY_REDIS_CLUSTER_USERNAME: 'parley',
      PARLEY_REDIS_CLUSTER_PASSWORD: 'data-secret',
    },
  });
  assert.deepEqual(c.redis.cluster, {
    nodes: [
      { host: '10.0.0.1', port: 7000 },
      { host: 'node-2.example', port: 7001 },
      { host: 'fd00::3', port: 7002 },
    ],
    username: 'parley',
    password: 'data-secret',
  });
});

test('bad cluster settings are configuration errors', () => {
  const bad: Array<[Record<string, string> | undefined, Record<string, unknown> | undefined, RegExp]> = [
    [{ PARLEY_REDIS_CLUSTER: '10.0.0.1' }, undefined, /PARLEY_REDIS_CLUSTER: expected host:port/],
    [{ PARLEY_REDIS_CLUSTER: '10.0.0.1:7000,' + 'h:1,'.repeat(64) }, undefined, /at most 64 seed nodes/],
    [{ PARLEY_REDIS_CLUSTER: '10.0.0.1:0' }, undefined, /redis\.cluster\.nodes\.0\.port/],
    // Sentinel and Cluster exclude each other.
    [{ PARLEY_REDIS_CLUSTER: '10.0.0.1:7000', PARLEY_REDIS_SENTINELS: '10.0.0.1:26379', PARLEY_REDIS_SENTINEL_MASTER: 'm' }, undefined, /exclude each other/],
    // A hash tag in the key prefix would move every key into that one slot.
    [{ PARLEY_REDIS_CLUSTER: '10.0.0.1:7000', PARLEY_REDIS_KEY_PREFIX: '{x}:' }, undefined, /keyPrefix must not contain/],
    // A misspelt key is an error, not silently ignored.
    [{}, { 'redis.cluster': { nodes: [{ host: 'h', port: 1 }], pasword: 'x' } }, /pasword/],
  ];
  for (const [env, overrides, message] of bad) {
    assert.throws(() => loadConfig({ env: env ?? {}, ...(overrides ? { overrides } : {}) }), (err: unknown) => err instanceof ConfigError && message.test(err.message), JSON.stringify(env ?? overrides));
  }
});
