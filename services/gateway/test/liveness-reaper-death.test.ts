// A reaper that dies mid-reap (SIGKILL after its claim) must not lose the dead gateway's
// set-aside delivery stream: a live gateway takes the reap over once the reaper's lock has
// expired (lua/reap-resume-4.lua) and finishes it. Here the reapers are simulated by running
// the claim script (lua/reap-claim-5.lua) and then doing nothing else (not even the set-aside, lua/reap-set-aside-2.lua).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import type { Redis } from 'ioredis';
import { encodeEnvelope, keySpace, type SessionRecord } from '@parley/bus';
import { loadConfig, OPEN_AUTH_BACKEND } from '@parley/config';
import { startRedis, type RedisServer } from '@parley/testkit';
import { Gateway } from '../src/gateway.js';
import { defineScripts, type ScriptedRedis } from '../src/routing/scripts.js';

const HEARTBEAT_MS = 200;
const DEAD_AFTER_MS = 1000;
const prefix = `t:reaper-death:${randomBytes(3).toString('hex')}:`;
const keys = keySpace(prefix);

let server: RedisServer;
let db: ScriptedRedis;
let gateway: Gateway | undefined;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A dead gateway as a SIGKILL leaves it: registered with an old heartbeat, one bound session, undelivered entries. */
async function deadGateway(id: string, user: string): Promise<void> {
  await db.registerGateway(keys.gateways(), keys.gatewayToken(id), id, 'tok');
  await db.zadd(keys.gateways(), 1, id); // heartbeat at 1 ms since epoch: long dead
  const record: SessionRecord = { gateway: id, sessionId: `sid-${id}`, available: true, priority: 0, since: 1, transport: 'tcp' };
  await db.hset(keys.userSessions(`${user}@localhost`), 'phone', JSON.stringify(record));
  await db.hset(keys.account(`${user}@localhost`), 'created', '1'); // the user exists (RFC 6121 §8.5.2: else a bounce)
  await db.sadd(keys.gatewaySessions(id), `${user}@localhost/phone`);
  for (let i = 0; i < 3; i++) {
    const xml = `<message xmlns='jabber:client' from='dave@localhost/d' to='${user}@localhost/phone' type='chat' id='m${i}'><body>kept ${i}</body></message>`;
    await db.xadd(keys.gatewayDelivery(id), '*', ...encodeEnvelope({ kind: 'stanza', to: `${user}@localhost/phone`, sessionId: `sid-${id}`, xml }));
  }
  // A room delivery (it carries a mark): dropped by a reap, its recipient leaves the room.
  await db.xadd(keys.gatewayDelivery(id), '*', ...encodeEnvelope({
    kind: 'stanza', to: `${user}@localhost/phone`, sessionId: `sid-${id}`, mark: '0-1',
    xml: `<message xmlns='jabber:client' from='room@conference.localhost/x' to='${user}@localhost/phone' type='groupchat'><body>room</body></message>`,
  }));
}

/** Runs the claim as reaper `reaperId` with a lock of `lockMs`, then (like a SIGKILLed reaper) nothing more. */
async function claimAndDie(deadId: string, reaperId: string, lockMs: number): Promise<void> {
  const [status] = await db.reapClaim(
    keys.gateways(), keys.livenessState(), keys.gatewayToken(deadId),
    keys.reaperLock(deadId), keys.reapingGateways(), deadId, DEAD_AFTER_MS, reaperId, lockMs,
  );
  assert.equal(status, 1, `the claim of ${deadId} succeeded`);
  // The reaper dies between the claim and the set-aside (lua/reap-set-aside-2.lua), the
  // window the split for Redis Cluster opened: the stream is still in place for the resumed reap.
  assert.equal(await db.xlen(keys.gatewayDelivery(deadId)), 4, 'its stream is not set aside yet');
  assert.equal(await db.exists(keys.gatewayReaping(deadId)), 0);
  assert.equal(await db.sismember(keys.reapingGateways(), deadId), 1, 'the claim recorded the unfinished reap');
}

async function until(what: string, cond: () => Promise<boolean>, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await sleep(50);
  }
}

async function gatewayDownsFor(id: string): Promise<number> {
  let n = 0;
  for (let shard = 0; shard < 64; shard++) {
    const entries = (await db.xrange(keys.shardStream(shard), '-', '+')) as Array<[string, string[]]>;
    for (const [, fields] of entries) if (fields[1] === 'gateway-down' && fields[3] === id) n += 1;
  }
  return n;
}

before(async () => {
  server = await startRedis();
  db = defineScripts(server.client() as Redis);
});

after(async () => {
  await gateway?.stop();
  await server?.stop();
});

describe('a reaper that dies mid-reap', () => {
  it('leaves its set-aside stream to a live gateway once its lock expires: messages stored offline, the reap finished', async () => {
    await deadGateway('gw-dead', 'carol');
    await claimAndDie('gw-dead', 'gw-killed-reaper', 300);
    // A reap in progress (its reaper is alive, lock held) must be left alone.
    await deadGateway('gw-slow', 'frank');
    await claimAndDie('gw-slow', 'gw-slow-reaper', 60_000);
    // A gateway reaped while only paused, which registered again after its reaper died.
    await deadGateway('gw-back', 'erin');
    await claimAndDie('gw-back', 'gw-killed-reaper', 300);
    // It closed its sessions (stream error reset), which left the registry, and registered again.
    await db.hdel(keys.userSessions('erin@localhost'), 'phone');
    await db.srem(keys.gatewaySessions('gw-back'), 'erin@localhost/phone');
    // As liveness.ts recover() does before registering again: its stream is set aside.
    await db.reapSetAside(keys.gatewayDelivery('gw-back'), keys.gatewayReaping('gw-back'));
    await db.registerGateway(keys.gateways(), keys.gatewayToken('gw-back'), 'gw-back', 'tok2');
    await db.sadd(keys.gatewaySessions('gw-back'), 'erin@localhost/laptop');
    const beating = setInterval(() => {
      void db.heartbeat(keys.gateways(), keys.gatewayToken('gw-back'), keys.livenessState(), 'gw-back', 'tok2', 3 * HEARTBEAT_MS, DEAD_AFTER_MS);
    }, HEARTBEAT_MS);
    after(() => clearInterval(beating));
    await sleep(400); // the killed reaper's locks expire

    const started = Date.now();
    const config = loadConfig({
      env: {},
      overrides: {
        'redis.url': server.url,
        'redis.keyPrefix': prefix,
        'gateway.id': 'gw-live',
        'gateway.c2sPort': 0,
        'gateway.wsPort': -1,
        'gateway.heartbeatMs': HEARTBEAT_MS,
        'gateway.deadAfterMs': DEAD_AFTER_MS,
        'auth.backend': OPEN_AUTH_BACKEND,
        'auth.allowPlainWithoutTls': true,
      },
    });
    gateway = new Gateway(config, pino({ level: 'silent' }));
    await gateway.start();

    // RFC 6121 §8.5.3.2: chat to a gone resource of a user with no other resource → offline storage.
    await until('the set-aside messages of gw-dead are stored offline', async () => (await db.llen(keys.offline('carol@localhost'))) >= 3);
    await until('the reap of gw-dead ended', async () => (await db.sismember(keys.reapingGateways(), 'gw-dead')) === 0);
    const tookOverMs = Date.now() - started;
    const stored = await db.lrange(keys.offline('carol@localhost'), 0, -1);
    assert.equal(stored.length, 3, 'the three chat messages, not the room delivery');
    for (let i = 0; i < 3; i++) assert.ok(stored.some((x) => x.includes(`kept ${i}`)), `message ${i} stored`);
    assert.equal(await db.exists(keys.gatewayReaping('gw-dead')), 0, 'the set-aside stream is gone');
    assert.equal(await db.hexists(keys.userSessions('carol@localhost'), 'phone'), 0, 'its session left the registry');
    assert.equal(await db.exists(keys.gatewaySessions('gw-dead')), 0);
    assert.equal(await db.exists(keys.reaperLock('gw-dead')), 0, 'the new reaper released its lock');
    assert.ok((await gatewayDownsFor('gw-dead')) >= 64, 'every shard got gateway-down');

    // Registered again: only its old set-aside stream is re-routed; its live state is untouched.
    await until('the set-aside messages of gw-back are stored offline', async () => (await db.llen(keys.offline('erin@localhost'))) >= 3);
    await until('the reap of gw-back ended', async () => (await db.sismember(keys.reapingGateways(), 'gw-back')) === 0);
    assert.equal(await db.exists(keys.gatewayReaping('gw-back')), 0);
    assert.notEqual(await db.zscore(keys.gateways(), 'gw-back'), null, 'gw-back is still live');
    assert.equal(await db.sismember(keys.gatewaySessions('gw-back'), 'erin@localhost/laptop'), 1, 'its sessions were not reaped');
    assert.equal(await gatewayDownsFor('gw-back'), 0, 'no gateway-down for a live gateway');

    // The reap whose reaper still holds the lock was not touched.
    await sleep(3 * HEARTBEAT_MS);
    // Its (simulated) reaper stopped after the claim, before the set-aside: the entries are
    // still in the delivery stream, untouched by the survivor.
    assert.equal(await db.xlen(keys.gatewayDelivery('gw-slow')), 4, 'a held reap keeps its stream');
    assert.equal(await db.exists(keys.gatewayReaping('gw-slow')), 0, 'nobody else set it aside');
    assert.equal(await db.get(keys.reaperLock('gw-slow')), 'gw-slow-reaper');
    assert.equal(await db.llen(keys.offline('frank@localhost')), 0);
    assert.equal(await db.exists(keys.gatewayToken('gw-back')), 1, 'gw-back was not reaped again');
    process.stdout.write(`# interrupted reap finished ${tookOverMs} ms after the survivor started\n`);
  });
});
