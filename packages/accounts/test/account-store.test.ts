import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Redis } from 'ioredis';
import { keySpace } from '@parley/bus';
import { startRedis, type RedisServer } from '@parley/testkit';
import { AccountStore } from '@parley/accounts';

let server: RedisServer;
let redis: Redis;
const keys = keySpace('t:accounts:');
let store: AccountStore;

before(async () => {
  server = await startRedis();
  redis = server.client();
  store = new AccountStore(redis, keys, 4096);
});
after(async () => {
  redis.disconnect();
  await server.stop();
});

test('create, exists, list, password change and delete', async () => {
  assert.equal(await store.create('alice@localhost', 'secret', 1000), true);
  assert.equal(await store.create('alice@localhost', 'other'), false, 'an existing account is not replaced');
  assert.equal(await store.exists('alice@localhost'), true);
  assert.deepEqual(await store.list(), ['alice@localhost']);
  const creds = await store.getCredentials('alice@localhost');
  assert.ok(creds);
  assert.ok(!JSON.stringify(creds).includes('secret'), 'the password itself is not stored');
  assert.equal(await store.setPassword('alice@localhost', 'new'), true);
  assert.equal(await store.setPassword('nobody@localhost', 'x'), false);
  assert.equal(await store.delete('alice@localhost'), true);
  assert.equal(await store.delete('alice@localhost'), false);
  assert.deepEqual(await store.list(), []);
});

test('a tombstone remembers a deleted name until it expires or is cleared', async () => {
  assert.equal(await store.deletedAt('bob@localhost'), undefined);
  await store.markDeleted('bob@localhost', 60_000, 1234);
  assert.equal(await store.deletedAt('bob@localhost'), 1234);
  await store.clearTombstone('bob@localhost');
  assert.equal(await store.deletedAt('bob@localhost'), undefined);
  await store.markDeleted('bob@localhost', 50);
  await new Promise((r) => setTimeout(r, 120));
  assert.equal(await store.deletedAt('bob@localhost'), undefined, 'expired');
});
