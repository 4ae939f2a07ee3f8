// BlocklistCache (XEP-0191 §3.3 for room deliveries): the blocklists of local accounts in
// memory, loaded once from Redis, dropped on a change or when the account leaves the
// gateway, bounded; and SharedStanza's `from`, which the delivery path reads to check it.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { keySpace } from '@parley/bus';
import { parseJid } from '@parley/jid';
import { startRedis, type RedisServer } from '@parley/testkit';
import { BlocklistCache } from '../src/blocking/blocklist-cache.js';
import { BlocklistStore } from '../src/blocking/blocklist-store.js';
import { blockKeys } from '../src/blocking/jid-match.js';
import { SharedStanza } from '../src/routing/shared-stanza.js';

const keys = keySpace(`t-blcache-${randomBytes(4).toString('hex')}:`);
let server: RedisServer;
let redis: Redis;

before(async () => {
  server = await startRedis();
  redis = new Redis(server.url);
});
after(async () => {
  redis.disconnect();
  await server.stop();
});

/** ZRANGE calls the store made (counted from the server's command stats). */
async function zranges(): Promise<number> {
  const info = await redis.info('commandstats');
  return Number(/cmdstat_zrange:calls=(\d+)/.exec(info)?.[1] ?? 0);
}

describe('BlocklistCache', () => {
  it('matches occupant, room and service entries (XEP-0191 §6) with one load, then none', async () => {
    const store = new BlocklistStore(redis, keys, 10);
    const cache = new BlocklistCache(store);
    await store.add('a@x', ['room@muc.x/bad', 'other@muc.x', 'evil.x']);
    const before = await zranges();
    const [r1, r2] = await Promise.all([cache.blocks('a@x', parseJid('room@muc.x/bad')), cache.blocks('a@x', parseJid('room@muc.x/good'))]);
    assert.deepEqual([r1, r2], [true, false]);
    assert.equal(cache.check('a@x', blockKeys(parseJid('other@muc.x/anyone'))), true);
    assert.equal(cache.check('a@x', blockKeys(parseJid('r@evil.x/n'))), true);
    assert.equal(cache.check('a@x', blockKeys(parseJid('room@muc.x'))), false);
    assert.equal((await zranges()) - before, 1, 'concurrent first needs share one load; later checks use none');
    assert.equal(cache.check('nobody@x', blockKeys(parseJid('room@muc.x/bad'))), undefined);
  });

  it('invalidate reloads the changed list; a load in flight during a change is not kept', async () => {
    const store = new BlocklistStore(redis, keys, 10);
    const cache = new BlocklistCache(store);
    const bad = parseJid('room@muc.x/bad');
    const badKeys = blockKeys(bad);
    assert.equal(await cache.blocks('b@x', bad), false);
    await store.add('b@x', ['room@muc.x/bad']);
    assert.equal(cache.check('b@x', badKeys), false, 'still the cached copy');
    cache.invalidate('b@x');
    assert.equal(cache.check('b@x', badKeys), undefined);
    assert.equal(await cache.blocks('b@x', bad), true);
    // A change while a load is in flight: its (possibly stale) result is not cached.
    const loading = cache.get('b@x');
    cache.invalidate('b@x');
    cache.forget('b@x');
    await loading;
    await store.remove('b@x', ['room@muc.x/bad']);
    assert.equal(cache.check('b@x', badKeys), undefined);
    assert.equal(await cache.blocks('b@x', bad), false);
  });

  it('keeps at most maxEntries lists, evicting the longest loaded', async () => {
    const cache = new BlocklistCache(new BlocklistStore(redis, keys, 10), 2);
    const j = parseJid('r@muc.x/n');
    const k = blockKeys(j);
    await cache.blocks('u1@x', j);
    await cache.blocks('u2@x', j);
    await cache.blocks('u3@x', j);
    assert.equal(cache.size, 2);
    assert.equal(cache.check('u1@x', k), undefined);
    assert.equal(cache.check('u2@x', k), false);
    assert.equal(cache.check('u3@x', k), false);
  });
});

describe('SharedStanza.from', () => {
  it('reads the from attribute of room stanza text and of elements, unescaped', () => {
    assert.equal(SharedStanza.fromText('<message from="r@muc.x/a&amp;b" type="groupchat"><body>hi</body></message>').from, 'r@muc.x/a&b');
    assert.equal(SharedStanza.fromText(`<presence xmlns='jabber:client' id='x' from='r@muc.x/n'/>`).from, 'r@muc.x/n');
    assert.equal(SharedStanza.fromText('<message id="from=&quot;x&quot;" type="groupchat"/>').from, undefined);
  });
});

describe('LocalSessions.onAccountGone', () => {
  it('fires once the last local session of an account is deleted, not before, not for a replaced one', async () => {
    const { LocalSessions } = await import('../src/routing/local-sessions.js');
    const local = new LocalSessions();
    const gone: string[] = [];
    local.onAccountGone((bare) => gone.push(bare));
    const s = (id: string) => ({ sessionId: id }) as unknown as Parameters<typeof local.set>[1];
    const a1 = s('1');
    const a2 = s('2');
    const a1again = s('3');
    local.set('a@x/one', a1);
    local.set('a@x/two', a2);
    local.set('a@x/one', a1again); // a new session took the resource
    local.delete('a@x/one', a1); // the old one ending changes nothing
    local.delete('a@x/two', a2);
    assert.deepEqual(gone, []);
    assert.equal(local.hasAccount('a@x'), true);
    local.delete('a@x/one', a1again);
    assert.deepEqual(gone, ['a@x']);
    assert.equal(local.hasAccount('a@x'), false);
  });
});
