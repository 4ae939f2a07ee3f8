/*
 * Offline operations of xmppctl (issue #14 items 2 and 4), on real processes and real
 * redis-servers, with accounts (SCRAM credentials, no open authentication):
 *
 * 1. A cluster on 4 shards gets accounts with a roster item, a block, a vCard, an offline
 *    message and an account archive, and 10 persistent rooms with a name, a member and
 *    archived messages. `muc reshard` refuses while the cluster runs and while a shard stream
 *    holds an unapplied entry; stopped, it moves the rooms to 8 shards (again: nothing to
 *    do); a gateway started with the old count refuses with one line; started with 8 shards,
 *    every room answers with its name, member list and archive.
 * 2. An interrupted reshard (its marker and a leftover key) blocks starts until a re-run;
 *    data stored before the count was (no count key) with a misplaced room refuses the start.
 * 3. `backup` of the stopped cluster, `restore` into a fresh Redis (twice: refused, not
 *    empty), and a cluster on it: SCRAM login, roster, blocklist, vCard, offline message,
 *    account archive and every room are there.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { Element } from 'ltx';
import { decodeStoredOccupant, encodeStoredOccupant, keySpace, shardForRoom, type KeySpace } from '@parley/bus';
import {
  loginScram,
  RawClient,
  repoRoot,
  startGateway,
  startRedis,
  startRoomWorker,
  xmppctl,
  type GatewayProcess,
  type RedisServer,
  type RoomWorkerProcess,
} from '@parley/testkit';
import { ScansionClient } from '../scansion/lib/client.js';

const ROOMS = Array.from({ length: 10 }, (_, i) => `bkroom${i}@conference.localhost`);
const USERS = { alice: 'pw-alice-3f9c', bob: 'pw-bob-77e1' } as const;
const ENV = { PARLEY_ALLOW_PLAIN_WITHOUT_TLS: 'true' };
const MUC_OWNER = 'http://jabber.org/protocol/muc#owner';
const MUC_ADMIN = 'http://jabber.org/protocol/muc#admin';
const MAM = 'urn:xmpp:mam:2';

let redisA: RedisServer | undefined;
let redisB: RedisServer | undefined;
const clients: ScansionClient[] = [];
let running: Procs | undefined;
let backupText = '';

interface Procs {
  gateways: GatewayProcess[];
  workers: RoomWorkerProcess[];
  stop(): Promise<void>;
}

before(async () => {
  [redisA, redisB] = await Promise.all([startRedis(), startRedis()]);
});

after(async () => {
  for (const c of clients.splice(0)) await c.disconnect().catch(() => undefined);
  await running?.stop();
  await redisA?.stop();
  await redisB?.stop();
});

/** Entries of any shard stream after its cursor: inputs not applied yet. */
async function pendingEntries(redis: RedisServer, keys: KeySpace, shards: number): Promise<number> {
  const db = redis.client();
  try {
    let n = 0;
    for (let s = 0; s < shards; s++) {
      const cursor = (await db.get(keys.shardCursor(s))) ?? '0-0';
      n += (await db.xrange(keys.shardStream(s), `(${cursor}`, '+')).length;
    }
    return n;
  } finally {
    db.disconnect();
  }
}

/**
 * Starts 2 gateways and 2 room workers on `redis`; resolves once every shard has an owner.
 * `stop()` stops the gateways, waits until the room workers applied every input (the
 * operator's procedure before a reshard), then stops the workers.
 */
async function startProcs(redis: RedisServer, prefix: string, shards: number): Promise<Procs> {
  const keys = keySpace(prefix);
  const o = { redisUrl: redis.url, keyPrefix: prefix, env: { ...ENV, PARLEY_MUC_SHARDS: String(shards) } };
  const gateways = await Promise.all([startGateway(o), startGateway(o)]);
  const workers = await Promise.all([startRoomWorker(o), startRoomWorker(o)]);
  const db = redis.client();
  try {
    const leases = Array.from({ length: shards }, (_, s) => keys.shardLease(s));
    const deadline = Date.now() + 30_000;
    while ((await db.exists(...leases)) < shards) {
      assert.ok(Date.now() < deadline, 'every shard gets an owner');
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    db.disconnect();
  }
  const procs: Procs = {
    gateways,
    workers,
    async stop() {
      if (running === procs) running = undefined;
      for (const c of clients.splice(0)) await c.disconnect().catch(() => undefined);
      await Promise.all(gateways.map((g) => g.stop()));
      const deadline = Date.now() + 15_000;
      while ((await pendingEntries(redis, keys, shards)) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      await Promise.all(workers.map((w) => w.stop()));
    },
  };
  running = procs;
  return procs;
}

async function connect(procs: Procs, user: keyof typeof USERS, gateway = 0): Promise<ScansionClient> {
  const c = await ScansionClient.connect({ host: '127.0.0.1', port: procs.gateways[gateway]!.c2sPort, jid: `${user}@localhost/res`, password: USERS[user] });
  clients.push(c);
  return c;
}

const next = (c: ScansionClient, match: (el: Element) => boolean) => c.nextMatching(match, 10_000);

async function iq(c: ScansionClient, id: string, xml: string): Promise<Element> {
  c.send(xml);
  const el = await next(c, (e) => e.name === 'iq' && e.attrs.id === id);
  assert.equal(el.attrs.type, 'result', `${id}: ${el.toString()}`);
  return el;
}

/** Bodies of an XEP-0313 query of `to` (a room, or undefined: the own account archive). */
async function archiveBodies(c: ScansionClient, qid: string, to?: string): Promise<string[]> {
  c.send(`<iq type='set' id='${qid}'${to ? ` to='${to}'` : ''}><query xmlns='${MAM}' queryid='${qid}'/></iq>`);
  const bodies: string[] = [];
  for (;;) {
    const el = await next(c, (m) => (m.name === 'iq' && m.attrs.id === qid) || (m.name === 'message' && m.getChild('result', MAM)?.attrs.queryid === qid));
    if (el.name === 'iq') {
      assert.equal(el.attrs.type, 'result', el.toString());
      return bodies;
    }
    bodies.push(el.getChild('result', MAM)!.getChild('forwarded', 'urn:xmpp:forward:0')!.getChild('message')!.getChildText('body') ?? '');
  }
}

/** Every room answers with its name, bob as member and its two archived messages. */
async function assertRooms(c: ScansionClient, tag: string): Promise<void> {
  for (const [i, room] of ROOMS.entries()) {
    const form = await iq(c, `${tag}cfg${i}`, `<iq type='get' to='${room}' id='${tag}cfg${i}'><query xmlns='${MUC_OWNER}'/></iq>`);
    const name = form.getChild('query', MUC_OWNER)?.getChild('x', 'jabber:x:data')?.getChildren('field').find((f) => f.attrs.var === 'muc#roomconfig_roomname')?.getChildText('value');
    assert.equal(name, `Room ${i}`, `${room} config`);
    const members = await iq(c, `${tag}mem${i}`, `<iq type='get' to='${room}' id='${tag}mem${i}'><query xmlns='${MUC_ADMIN}'><item affiliation='member'/></query></iq>`);
    assert.deepEqual(members.getChild('query', MUC_ADMIN)?.getChildren('item').map((it) => it.attrs.jid), ['bob@localhost'], `${room} members`);
    assert.deepEqual(await archiveBodies(c, `${tag}mam${i}`, room), [`r${i}-one`, `r${i}-two`], `${room} archive`);
  }
}

/** Runs a service's dist/main.js until it exits (killed after 20 s). */
function runService(service: string, redis: RedisServer, prefix: string, shards: number): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [join(repoRoot(), 'services', service, 'dist', 'main.js')], {
    env: { ...process.env, REDIS_URL: redis.url, PARLEY_REDIS_KEY_PREFIX: prefix, PARLEY_MUC_SHARDS: String(shards), PARLEY_C2S_PORT: '0', PARLEY_WS_PORT: '0' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  return new Promise((resolve) => child.once('exit', (code) => {
    clearTimeout(timer);
    resolve({ code, stderr });
  }));
}

/**
 * Stores an occupant `__proto__` (bare JID ghost@localhost) of a gateway that is gone in a
 * stopped cluster's room, as a cluster killed with SIGKILL leaves its occupants.
 */
async function seedGhost(db: ReturnType<RedisServer['client']>, keys: KeySpace, shard: number, room: string): Promise<void> {
  const session = { fullJid: 'ghost@localhost/r', gatewayId: 'gone-gw', sessionId: 's-ghost', presence: "<presence xmlns='jabber:client'/>", joined: 1 };
  const occupant = { nick: '__proto__', bareJid: 'ghost@localhost', role: 'participant', sessions: [session] };
  await db.hset(keys.roomOccupants(shard, room), '__proto__', encodeStoredOccupant(1_000_000, JSON.stringify(occupant)));
}

const A = 'bk:';
const keysA = keySpace(A);
const ctlA = (args: string[], shards: number, stdin?: string) =>
  xmppctl(args, { redisUrl: redisA!.url, keyPrefix: A, env: { PARLEY_MUC_SHARDS: String(shards) }, ...(stdin === undefined ? {} : { stdin }) });

test('reshard 4 → 8: refused while alive or with unapplied input, then every room keeps config, members and archive', async () => {
  for (const [user, pw] of Object.entries(USERS)) assert.equal((await ctlA(['user', 'add', `${user}@localhost`], 4, `${pw}\n`)).code, 0);
  const procs = await startProcs(redisA!, A, 4);
  const alice = await connect(procs, 'alice');
  await iq(alice, 'r1', `<iq type='set' id='r1'><query xmlns='jabber:iq:roster'><item jid='bob@localhost' name='Bob'/></query></iq>`);
  await iq(alice, 'b1', `<iq type='set' id='b1'><block xmlns='urn:xmpp:blocking'><item jid='spam@example.net'/></block></iq>`);
  await iq(alice, 'v1', `<iq type='set' id='v1'><vCard xmlns='vcard-temp'><FN>Alice Backup</FN></vCard></iq>`);
  alice.send(`<message type='chat' to='bob@localhost' id='off1'><body>offline hello</body></message>`);
  for (const [i, room] of ROOMS.entries()) {
    alice.send(`<presence to='${room}/Alice'><x xmlns='http://jabber.org/protocol/muc'/></presence>`);
    await next(alice, (e) => e.name === 'presence' && e.attrs.from === `${room}/Alice`);
    await iq(
      alice,
      `c${i}`,
      `<iq type='set' to='${room}' id='c${i}'><query xmlns='${MUC_OWNER}'><x xmlns='jabber:x:data' type='submit'>` +
        `<field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#roomconfig</value></field>` +
        `<field var='muc#roomconfig_roomname'><value>Room ${i}</value></field>` +
        `<field var='muc#roomconfig_persistentroom'><value>1</value></field></x></query></iq>`,
    );
    await iq(alice, `a${i}`, `<iq type='set' to='${room}' id='a${i}'><query xmlns='${MUC_ADMIN}'><item affiliation='member' jid='bob@localhost'/></query></iq>`);
    for (const word of ['one', 'two']) {
      alice.send(`<message type='groupchat' to='${room}' id='r${i}-${word}'><body>r${i}-${word}</body></message>`);
      await next(alice, (e) => e.name === 'message' && e.attrs.id === `r${i}-${word}`);
    }
  }
  const db = redisA!.client();
  assert.equal(await db.llen(keysA.offline('bob@localhost')), 1, 'the message to bob is stored offline');
  assert.equal(await db.get(keysA.mucShards()), '4', 'the first start stored the shard count');

  const alive = await ctlA(['muc', 'reshard', '--shards', '8'], 4);
  assert.equal(alive.code, 1, alive.stderr);
  assert.match(alive.stderr, /^xmppctl: muc reshard needs the cluster stopped, but it is alive \(gateway /);
  await procs.stop();

  const entry = (await db.xadd(keysA.shardStream(1), '*', 'x', 'unapplied'))!;
  const pending = await ctlA(['muc', 'reshard', '--shards', '8'], 4);
  assert.equal(pending.code, 1, pending.stderr);
  assert.match(pending.stderr, /shard 1's stream holds entries no room worker has applied yet/);
  await db.xdel(keysA.shardStream(1), entry);

  const moving = ROOMS.filter((r) => shardForRoom(r, 4) !== shardForRoom(r, 8));
  assert.ok(moving.length > 0, 'some rooms change shard');
  // A clean stop leaves no occupant; a killed cluster leaves them in each room's occupants
  // hash (KeySpace.roomOccupants), which moves with the room.
  const occupantsBefore = new Map<string, string[]>();
  for (const room of ROOMS) {
    await seedGhost(db, keysA, shardForRoom(room, 4), room);
    occupantsBefore.set(room, (await db.hvals(keysA.roomOccupants(shardForRoom(room, 4), room))).sort());
  }
  const done = await ctlA(['muc', 'reshard', '--shards', '8'], 4);
  assert.equal(done.code, 0, done.stderr);
  assert.match(done.stderr, new RegExp(`rooms: ${ROOMS.length}, moved: ${moving.length}, `));
  for (const room of ROOMS) {
    const s = shardForRoom(room, 8);
    assert.ok(await db.hexists(keysA.shardRooms(s), room), `${room} on shard ${s}`);
    assert.equal(await db.xlen(keysA.roomArchive(s, room)), 2, `${room} archive on shard ${s}`);
    assert.deepEqual((await db.hvals(keysA.roomOccupants(s, room))).sort(), occupantsBefore.get(room), `${room} occupants on shard ${s}`);
    if (moving.includes(room)) {
      const old = shardForRoom(room, 4);
      assert.equal(await db.hexists(keysA.shardRooms(old), room), 0);
      assert.equal(await db.exists(keysA.roomArchive(old, room), keysA.roomArchiveIndex(old, room), keysA.roomHistory(old, room), keysA.roomOccupants(old, room)), 0, `${room} left nothing on shard ${old}`);
    }
  }
  assert.equal(await db.get(keysA.mucShards()), '8');
  assert.equal(await db.exists(keysA.mucReshard()), 0);
  const again = await ctlA(['muc', 'reshard', '--shards', '8'], 8);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /moved: 0, keys removed: 0;/);

  const old = await runService('gateway', redisA!, A, 4);
  assert.equal(old.code, 78, old.stderr);
  assert.deepEqual(old.stderr.trim().split('\n'), [
    'parley gateway: muc.shards is 4 but the rooms in Redis are placed for 8 shards; set muc.shards: 8, or stop the cluster and run `xmppctl muc reshard --shards 4`',
  ]);

  const after8 = await startProcs(redisA!, A, 8);
  await assertRooms(await connect(after8, 'alice', 1), 'x');
  await after8.stop();
  db.disconnect();
});

test('an interrupted reshard blocks starts until it is run again, which removes its leftovers', async () => {
  const db = redisA!.client();
  const room = ROOMS[0]!;
  const wrong = (shardForRoom(room, 8) + 1) % 8;
  // As if a run died after moving the room's state and before deleting its old keys.
  await db.restore(keysA.roomArchive(wrong, room), 0, (await db.dumpBuffer(keysA.roomArchive(shardForRoom(room, 8), room)))!);
  await db.set(keysA.mucReshard(), JSON.stringify({ to: 8, started: Date.now() }));
  const blocked = await runService('room-worker', redisA!, A, 8);
  assert.equal(blocked.code, 78, blocked.stderr);
  assert.match(blocked.stderr, /^parley room-worker: a reshard of the rooms to 8 shards is in progress or was interrupted; run `xmppctl muc reshard --shards 8`/);
  const rerun = await ctlA(['muc', 'reshard', '--shards', '8'], 8);
  assert.equal(rerun.code, 0, rerun.stderr);
  assert.match(rerun.stderr, /moved: 0, keys removed: 1;/);
  assert.equal(await db.exists(keysA.roomArchive(wrong, room), keysA.mucReshard()), 0);
  assert.equal(await db.xlen(keysA.roomArchive(shardForRoom(room, 8), room)), 2, 'the real archive stays');

  // Data from before the count was stored: a room on a shard other than its place for 8 refuses the start.
  const misplaced = (shardForRoom(room, 8) + 3) % 8;
  await db.hset(keySpace('lg:').shardRooms(misplaced), room, '{}');
  const legacy = await runService('gateway', redisA!, 'lg:', 8);
  assert.equal(legacy.code, 78, legacy.stderr);
  assert.match(legacy.stderr, new RegExp(`^parley gateway: muc.shards is 8 but room ${room} is stored on shard ${misplaced}, placed for another shard count`));
  assert.equal(await db.exists(keySpace('lg:').mucShards()), 0, 'no count stored');
  db.disconnect();
});

test('backup of the stopped cluster, restore into a fresh Redis: logins, account data and rooms', async () => {
  const dbA = redisA!.client();
  for (const room of ROOMS) await seedGhost(dbA, keysA, shardForRoom(room, 8), room);
  dbA.disconnect();
  const b = await ctlA(['backup'], 8);
  assert.equal(b.code, 0, b.stderr);
  backupText = b.stdout;
  const records = backupText.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual({ ...records[0], time: undefined }, { kind: 'header', format: 'parley-backup', formatVersion: 1, schemaVersion: 1, time: undefined, hosts: ['localhost'], mucDomain: 'conference.localhost', shards: 8 });
  assert.ok(!Number.isNaN(Date.parse(String(records[0]!.time))));
  assert.deepEqual(records.at(-1), { kind: 'end', records: records.length - 1 });
  assert.equal(records.filter((r) => r.kind === 'account').length, 2);
  assert.equal(records.filter((r) => r.kind === 'room').length, ROOMS.length);
  assert.equal(records.filter((r) => r.kind === 'room-data' && r.data === 'occupants').length, ROOMS.length, 'each room with its occupants');
  for (const pw of Object.values(USERS)) assert.ok(!backupText.includes(pw), 'no plaintext password');
  assert.match(b.stderr, /backed up 2 accounts and 10 rooms/);

  const B = 'rs:';
  const ctlB = (args: string[], stdin: string) => xmppctl(args, { redisUrl: redisB!.url, keyPrefix: B, env: { PARLEY_MUC_SHARDS: '8' }, stdin });
  const truncated = await ctlB(['restore'], '{"kind":"header","format":"parley-backup","formatVersion":2,"schemaVersion":1}\n');
  assert.equal(truncated.code, 1);
  assert.match(truncated.stderr, /backup line 1: format version 2; this xmppctl reads 1/);
  const r = await ctlB(['restore'], backupText);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /restored 2 accounts and 10 rooms/);
  const twice = await ctlB(['restore'], backupText);
  assert.equal(twice.code, 1);
  assert.match(twice.stderr, /restore needs an empty data set/);
  const keysB = keySpace(B);
  const dbB = redisB!.client();
  for (const room of ROOMS) {
    const stored = await dbB.hvals(keysB.roomOccupants(shardForRoom(room, 8), room));
    assert.equal(stored.length, 1, `${room}: its occupant restored`);
    assert.equal((decodeStoredOccupant(stored[0]!)?.occupant as { bareJid?: string }).bareJid, 'ghost@localhost');
  }

  const procs = await startProcs(redisB!, B, 8);
  const raw = await RawClient.connect(procs.gateways[0]!.c2sPort);
  try {
    const { jid } = await loginScram(raw, { domain: 'localhost', user: 'alice', password: USERS.alice, mechanism: 'SCRAM-SHA-256' });
    assert.match(jid, /^alice@localhost\//);
  } finally {
    raw.destroy();
  }
  const alice = await connect(procs, 'alice', 1);
  const roster = await iq(alice, 'g1', `<iq type='get' id='g1'><query xmlns='jabber:iq:roster'/></iq>`);
  assert.deepEqual(roster.getChild('query', 'jabber:iq:roster')?.getChildren('item').map((i) => [i.attrs.jid, i.attrs.name]), [['bob@localhost', 'Bob']]);
  const blocks = await iq(alice, 'g2', `<iq type='get' id='g2'><blocklist xmlns='urn:xmpp:blocking'/></iq>`);
  assert.deepEqual(blocks.getChild('blocklist', 'urn:xmpp:blocking')?.getChildren('item').map((i) => i.attrs.jid), ['spam@example.net']);
  const vcard = await iq(alice, 'g3', `<iq type='get' id='g3'><vCard xmlns='vcard-temp'/></iq>`);
  assert.equal(vcard.getChild('vCard', 'vcard-temp')?.getChildText('FN'), 'Alice Backup');
  assert.deepEqual(await archiveBodies(alice, 'g4'), ['offline hello'], 'account archive');
  await assertRooms(alice, 'y');
  // The room workers loaded the restored occupant and removed it (its gateway is gone).
  for (const room of ROOMS) assert.equal(await dbB.exists(keysB.roomOccupants(shardForRoom(room, 8), room)), 0, `${room}: the occupant of a gone gateway removed`);
  dbB.disconnect();
  const bob = await connect(procs, 'bob');
  bob.send(`<presence/>`);
  const offline = await next(bob, (e) => e.name === 'message' && e.attrs.from?.startsWith('alice@localhost') === true);
  assert.equal(offline.getChildText('body'), 'offline hello');
  await procs.stop();
});
