// The test-only open authentication backend (openSaslBackend): PLAIN creates an account on
// its first login only; later logins neither derive nor replace its SCRAM credentials, and
// two first logins of one new user at once both succeed and leave one account.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { keySpace } from '@parley/bus';
import { AccountStore } from '@parley/accounts';
import { startRedis, type RedisServer } from '@parley/testkit';
import { openSaslBackend } from '../src/auth/sasl-backends.js';

/** An AccountStore that counts its `create` calls (each derives credentials: two PBKDF2 runs). */
class CountingAccountStore extends AccountStore {
  creates = 0;
  override async create(bareJid: string, password: string, now?: number): Promise<boolean> {
    this.creates++;
    return super.create(bareJid, password, now);
  }
}

let server: RedisServer;
let redis: Redis;

before(async () => {
  server = await startRedis();
  redis = server.client();
});
after(async () => {
  redis.disconnect();
  await server.stop();
});

function fresh(): { store: CountingAccountStore; keys: ReturnType<typeof keySpace> } {
  const keys = keySpace(`t-open-auth-${randomBytes(4).toString('hex')}:`);
  return { store: new CountingAccountStore(redis, keys, 4096), keys };
}

describe('openSaslBackend', () => {
  it('creates the account on the first PLAIN login only; a second login with another password changes nothing', async () => {
    const { store } = fresh();
    const backend = openSaslBackend(store, 'localhost');
    assert.equal(await backend.checkPlain('alice', 'first'), true);
    assert.equal(store.creates, 1);
    const creds = await store.getCredentials('alice@localhost');
    assert.ok(creds, 'the first login made the account');

    assert.equal(await backend.checkPlain('alice', 'different'), true, 'any password still logs in');
    assert.equal(store.creates, 1, 'no credentials derived for an existing account');
    assert.deepEqual(await store.getCredentials('alice@localhost'), creds, 'stored credentials (salt included) unchanged');
    assert.deepEqual(await backend.getCredentials('alice'), creds, 'SCRAM sees the first password\'s credentials');
  });

  it('concurrent first logins of one new user both succeed and leave one account', async () => {
    const { store } = fresh();
    const backend = openSaslBackend(store, 'localhost');
    const results = await Promise.all([backend.checkPlain('bob', 'one'), backend.checkPlain('bob', 'two'), backend.checkPlain('bob', 'three')]);
    assert.deepEqual(results, [true, true, true]);
    assert.deepEqual(await store.list(), ['bob@localhost']);
    const creds = await store.getCredentials('bob@localhost');
    assert.ok(creds);
    assert.equal(await backend.checkPlain('bob', 'four'), true);
    assert.deepEqual(await store.getCredentials('bob@localhost'), creds, 'the winner\'s credentials stay');
  });

  it('an account hash without credentials (e.g. only a creation time) gets them on login', async () => {
    const { store, keys } = fresh();
    await redis.hset(keys.account('carol@localhost'), 'created', '1');
    const backend = openSaslBackend(store, 'localhost');
    assert.equal(await backend.checkPlain('carol', 'pw'), true);
    assert.equal(store.creates, 1);
    assert.ok(await store.getCredentials('carol@localhost'));
  });

  it('refuses invalid localparts without touching the store', async () => {
    const { store } = fresh();
    const backend = openSaslBackend(store, 'localhost');
    assert.equal(await backend.checkPlain('a@b', 'pw'), false);
    assert.equal(await backend.checkPlain('', 'pw'), false);
    assert.equal(store.creates, 0);
    assert.deepEqual(await store.list(), []);
  });
});
