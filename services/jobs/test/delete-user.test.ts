// delete-user end to end: a real room worker process hosts the rooms; the job removes the
// account from them, kicks its session, deletes it and leaves a tombstone.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startRedis, startRoomWorker, type RedisServer, type RoomWorkerProcess } from '@parley/testkit';
import { cluster, deliveries, eventually, fakeSession, finished, startJobs, testConfig, testPrefix, type Cluster } from './support/harness.js';

const ALICE = 'alice@localhost';
const BOB = 'bob@localhost';
const R1 = 'r1@conference.localhost';
const R2 = 'r2@conference.localhost';
const R3 = 'r3@conference.localhost';

const CAROL = 'carol@localhost';
const R4 = 'r4@conference.localhost';
const WORKER_ENV = { PARLEY_MUC_SHARDS: '4', PARLEY_LEASE_TTL_MS: '1000', PARLEY_ROOM_WORKER_HEARTBEAT_MS: '100' };

let server: RedisServer;
let worker: RoomWorkerProcess;
let prefix: string;
let c: Cluster;

before(async () => {
  server = await startRedis();
  prefix = testPrefix('jobs-delete');
  c = cluster(server.client(), testConfig(server.url, prefix));
  worker = await startRoomWorker({ redisUrl: server.url, keyPrefix: prefix, env: WORKER_ENV });
});

after(async () => {
  await worker?.stop();
  await server?.stop();
});

test('delete-user removes the account from its rooms, kicks it, deletes it and leaves a tombstone', async () => {
  assert.ok(await c.accounts.create(ALICE, 'secret'));
  assert.ok(await c.accounts.create(BOB, 'secret'));
  await c.redis.rpush(c.keys.offline(ALICE), '<message xmlns="jabber:client" to="alice@localhost"><body>hi</body></message>');
  // Rooms: alice is a member of r1, owner (beside bob) of r2, and has nothing in r3.
  for (const [room, owners] of [[R1, [BOB]], [R2, [BOB, ALICE]], [R3, [BOB]]] as const) {
    const r = await c.rooms.send(room, { op: 'create', owners: [...owners] });
    assert.equal(r.ok, true, JSON.stringify(r));
  }
  const set = await c.rooms.send(R1, { op: 'set-affiliations', items: [{ jid: ALICE, affiliation: 'member' }] });
  assert.equal(set.ok, true, JSON.stringify(set));
  await fakeSession(c, { bare: ALICE, resource: 'phone', gateway: 'gw1', sessionId: 's-alice' });
  await fakeSession(c, { bare: BOB, resource: 'desk', gateway: 'gw1', sessionId: 's-bob' });

  // Enqueued from a process without workers: the job stays pending, and asking again gives the same job.
  const producer = await startJobs(c, false);
  const first = await producer.deleteUser(ALICE);
  const second = await producer.deleteUser(ALICE);
  assert.equal(first.id, `delete-user:${ALICE}`);
  assert.equal(second.id, first.id);
  assert.equal(second.state, 'waiting');
  assert.equal(second.createdAt, first.createdAt);

  const runner = await startJobs(c, true);
  try {
    const done = await finished(producer, first.id, 30_000);
    assert.equal(done.state, 'completed', done.failedReason);
    assert.equal(done.progress, 100);
    assert.deepEqual(done.result, { rooms: [R1, R2], sessionsKicked: 1 });
    assert.deepEqual(done.data, { jid: ALICE });

    for (const room of [R1, R2, R3]) {
      const r = await c.rooms.send(room, { op: 'get' });
      assert.ok(r.ok && r.room, JSON.stringify(r));
      assert.deepEqual(r.room.affiliations.filter((a) => a.jid === ALICE), [], `${room} still lists ${ALICE}`);
      assert.deepEqual(r.room.occupants.filter((o) => o.jid === ALICE), []);
      assert.ok(r.room.affiliations.some((a) => a.jid === BOB && a.affiliation === 'owner'), `${room} lost bob`);
    }
    assert.equal(await c.accounts.exists(ALICE), false);
    assert.equal(await c.redis.exists(c.keys.offline(ALICE)), 0);
    assert.equal(await c.accounts.exists(BOB), true);
    const at = await c.accounts.deletedAt(ALICE);
    assert.ok(at !== undefined && Math.abs(at - Date.now()) < 60_000);
    const ttl = await c.redis.pttl(c.keys.tombstone(ALICE));
    assert.ok(ttl > 6 * 24 * 3600 * 1000, `tombstone TTL ${ttl}`);

    const kicks = (await deliveries(c, 'gw1')).filter((e) => e.kind === 'kick');
    assert.deepEqual(kicks, [{ kind: 'kick', to: `${ALICE}/phone`, sessionId: 's-alice', condition: 'not-authorized', text: 'account deleted' }]);

    // The gateway ends the session and unbinds it (there is no gateway here: do it for it).
    await c.redis.hdel(c.keys.userSessions(ALICE), 'phone');
    // Once finished, a new request is a new job.
    const again = await producer.deleteUser(ALICE);
    assert.equal(again.id, first.id);
    assert.ok(again.createdAt >= done.createdAt);
    const redone = await finished(producer, again.id, 30_000);
    assert.equal(redone.state, 'completed', redone.failedReason);
    assert.deepEqual(redone.result, { rooms: [], sessionsKicked: 0 });
  } finally {
    await runner.stop();
    await producer.stop();
  }
});

test('get of an unknown id is undefined; deleteUser refuses what is not a bare JID', async () => {
  const jobs = await startJobs(c, false);
  try {
    assert.equal(await jobs.get('delete-user:nobody@localhost'), undefined);
    assert.equal(await jobs.get('12345'), undefined);
    await assert.rejects(jobs.deleteUser('alice@localhost/phone'), { name: 'JobsError', code: 'BAD_JID' });
    await assert.rejects(jobs.deleteUser('localhost'), { name: 'JobsError', code: 'BAD_JID' });
  } finally {
    await jobs.stop();
  }
});

test('a delete-user attempt that times out on a room is retried, and the retry finishes the work', async () => {
  assert.ok(await c.accounts.create(CAROL, 'secret'));
  assert.equal((await c.rooms.send(R4, { op: 'create', owners: [BOB] })).ok, true);
  assert.equal((await c.rooms.send(R4, { op: 'set-affiliations', items: [{ jid: CAROL, affiliation: 'admin' }] })).ok, true);
  await worker.stop(); // no room worker: commands go unanswered

  const impatient = cluster(c.redis, testConfig(server.url, prefix, { 'jobs.attempts': 6 }), 300);
  const jobs = await startJobs(impatient);
  try {
    const job = await jobs.deleteUser(CAROL);
    const failed = await eventually('the first attempt to time out', async () => {
      const info = await jobs.get(job.id);
      return info && info.attemptsMade >= 1 ? info : undefined;
    });
    assert.match(failed.failedReason ?? '', /did not answer in time/);
    assert.ok(failed.progress >= 10 && failed.progress < 100, `progress ${failed.progress}`);
    assert.ok((await c.accounts.deletedAt(CAROL)) !== undefined, 'the tombstone comes first');
    assert.equal(await c.accounts.exists(CAROL), true, 'the account goes last');

    worker = await startRoomWorker({ redisUrl: server.url, keyPrefix: prefix, env: WORKER_ENV });
    const done = await finished(jobs, job.id, 30_000);
    assert.equal(done.state, 'completed', done.failedReason);
    assert.ok(done.attemptsMade >= 2);
    assert.deepEqual(done.result, { rooms: [R4], sessionsKicked: 0 });
    const r = await c.rooms.send(R4, { op: 'get' });
    assert.ok(r.ok && r.room);
    assert.deepEqual(r.room.affiliations.map((a) => a.jid), [BOB]);
    assert.equal(await c.accounts.exists(CAROL), false);
  } finally {
    await jobs.stop();
  }
});

test('delete-user cancels the account\'s presence subscriptions through a live gateway before deleting its roster (XEP-0077 §3.2)', async () => {
  const ERIN = 'erin@localhost';
  assert.ok(await c.accounts.create(ERIN, 'secret'));
  // Erin and bob see each other (both); dave asked erin (Pending In); erin blocked bob.
  await c.redis.hset(c.keys.roster(ERIN), BOB, JSON.stringify({ s: 'both' }));
  await c.redis.hset(c.keys.rosterPending(ERIN), 'dave@localhost', '<presence type="subscribe" from="dave@localhost"/>');
  await c.redis.zadd(c.keys.blocklist(ERIN), 1, BOB);
  await fakeSession(c, { bare: ERIN, resource: 'tab', gateway: 'gw-latest', sessionId: 's-erin' });
  const runner = await startJobs(c, true);
  try {
    const job = await runner.deleteUser(ERIN);
    const done = await finished(runner, job.id, 30_000);
    assert.equal(done.state, 'completed', done.failedReason);
    const routed = (await deliveries(c, 'gw-latest')).filter((e) => e.kind === 'route').map((e) => (e.kind === 'route' ? e.xml : ''));
    const summary = routed.map((x) => {
      const attr = (n: string) => new RegExp(`${n}="([^"]*)"`).exec(x)?.[1];
      return `${attr('type')} ${attr('from')} -> ${attr('to')}`;
    });
    assert.deepEqual(summary, [
      `unavailable ${ERIN}/tab -> ${BOB}`,
      `unsubscribed ${ERIN} -> ${BOB}`,
      `unsubscribe ${ERIN} -> ${BOB}`,
      `unsubscribed ${ERIN} -> dave@localhost`,
    ]);
    for (const key of [c.keys.roster(ERIN), c.keys.rosterPending(ERIN), c.keys.blocklist(ERIN)]) assert.equal(await c.redis.exists(key), 0, key);
  } finally {
    await runner.stop();
  }
});
