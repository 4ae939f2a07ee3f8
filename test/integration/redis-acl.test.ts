/*
 * A cluster on a Redis with an ACL user (as the local launcher runs it, issue #10 item 7):
 * the `default` user is off, every process logs in with the user and password in REDIS_URL,
 * and a gateway, a room worker and the admin API all work through it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { loginPlain, RawClient, startMucCluster, type MucCluster } from '@parley/testkit';
import { rawRedis } from './support/raw-redis.js';

let cluster: MucCluster;

before(async () => {
  cluster = await startMucCluster({ name: 'redis-acl', gateways: 1, workers: 1, adminApi: true, redis: { acl: true } });
});

after(async () => {
  await cluster?.stop();
});


test('without the ACL password Redis refuses every command', async () => {
  assert.ok(cluster.redis.acl, 'startRedis({ acl: true }) reports the user');
  assert.match(cluster.redis.url, new RegExp(`^redis://${cluster.redis.acl.user}:[^@]+@127\\.0\\.0\\.1:${cluster.redis.port}$`));
  const [get, auth] = await rawRedis(cluster.redis.port, [`GET ${cluster.keyPrefix}x`, 'AUTH default ""']);
  assert.match(get!, /^-NOAUTH/);
  assert.match(auth!, /^-WRONGPASS/);
  const [ok, pong] = await rawRedis(cluster.redis.port, [`AUTH ${cluster.redis.acl.user} ${cluster.redis.acl.password}`, 'PING']);
  assert.deepEqual([ok, pong], ['+OK', '+PONG']);
});

test('gateway, room worker and admin API work through the ACL user', async () => {
  const raw = await RawClient.connect(cluster.gateways[0]!.c2sPort);
  try {
    const { jid } = await loginPlain(raw, { domain: 'localhost', user: 'acl', password: 'x', resource: 'r' });
    assert.equal(jid, 'acl@localhost/r');
    const room = 'acl-room@conference.localhost';
    let from = raw.length;
    await raw.send(`<presence to='${room}/Nick'><x xmlns='http://jabber.org/protocol/muc'/></presence>`);
    await raw.waitFor(/<subject\b/, { from, timeoutMs: 10_000 });
    from = raw.length;
    await raw.send(`<message type='groupchat' to='${room}' id='m1'><body>through the ACL</body></message>`);
    await raw.waitFor(/<body>through the ACL<\/body>/, { from, timeoutMs: 10_000 });
  } finally {
    raw.destroy();
  }
  const admin = cluster.adminApi!;
  const res = await fetch(`${admin.url}/readyz`, { headers: admin.headers });
  assert.equal(res.status, 200, await res.text());
});
