// RosterStore (RFC 6121 §2 in Redis): compare-and-set updates that concurrent writers (two
// gateways) cannot lose, the item bound, Pending In kept beside the item, subscriptionOf.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { keySpace } from '@parley/bus';
import { startRedis, type RedisServer } from '@parley/testkit';
import { RosterFullError, RosterStore } from '../src/roster/roster-store.js';

const keys = keySpace(`t-roster-${randomBytes(4).toString('hex')}:`);
let server: RedisServer;
let a: Redis;
let b: Redis;

before(async () => {
  server = await startRedis();
  // Two connections, as two gateways would have.
  a = new Redis(server.url);
  b = new Redis(server.url);
});
after(async () => {
  a.disconnect();
  b.disconnect();
  await server.stop();
});

const none = { subscription: 'none' as const, ask: false, approved: false };

describe('RosterStore', () => {
  it('concurrent read-modify-write of one item from two connections loses no change', async () => {
    const sa = new RosterStore(a, keys, 10);
    const sb = new RosterStore(b, keys, 10);
    const owner = 'cas@example.com';
    const contact = 'c@example.com';
    const n = 40;
    await Promise.all(
      Array.from({ length: n }, (_, i) =>
        (i % 2 ? sa : sb).update(owner, contact, (cur) => ({
          item: { jid: contact, ...none, groups: [...(cur.item?.groups ?? []), `g${i}`] },
          pending: 'keep',
        })),
      ),
    );
    const { items, ver } = await sa.roster(owner);
    assert.equal(items.length, 1);
    assert.equal(items[0]!.groups.length, n, 'every appended group is there');
    assert.equal(ver, String(n), 'one version per change');
  });

  it('refuses a new item past the bound, but changes existing ones', async () => {
    const s = new RosterStore(a, keys, 2);
    const owner = 'full@example.com';
    for (const j of ['x@example.com', 'y@example.com']) await s.update(owner, j, () => ({ item: { jid: j, ...none, groups: [] }, pending: 'keep' }));
    await assert.rejects(s.update(owner, 'z@example.com', () => ({ item: { jid: 'z@example.com', ...none, groups: [] }, pending: 'keep' })), RosterFullError);
    const u = await s.update(owner, 'x@example.com', (cur) => ({ item: { ...cur.item!, name: 'X' }, pending: 'keep' }));
    assert.equal(u.after.item?.name, 'X');
    assert.equal((await s.roster(owner)).items.length, 2);
  });

  it('keeps Pending In beside the item and reports subscriptions', async () => {
    const s = new RosterStore(a, keys, 10);
    const owner = 'pend@example.com';
    const u = await s.update(owner, 'p@example.com', () => ({ item: undefined, pending: '<presence type="subscribe"/>' }));
    assert.equal(u.itemChanged, false, 'pending alone is not a roster change');
    assert.equal((await s.roster(owner)).items.length, 0, 'not in the roster');
    assert.deepEqual(await s.pendingRequests(owner), ['<presence type="subscribe"/>']);
    assert.equal(await s.subscriptionOf(owner, 'p@example.com'), 'none');
    await s.update(owner, 'p@example.com', () => ({ item: { jid: 'p@example.com', ...none, subscription: 'from', groups: [] }, pending: 'clear' }));
    assert.equal(await s.subscriptionOf(owner, 'p@example.com'), 'from');
    assert.deepEqual(await s.pendingRequests(owner), []);
    await s.deleteAll(owner);
    assert.equal(await s.subscriptionOf(owner, 'p@example.com'), 'none');
  });
});
