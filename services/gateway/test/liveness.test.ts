// Liveness that a busy event loop cannot fool, and stanzas that survive a Redis outage.
// Gateway A runs in this process; gateway B (the would-be reaper) is a separate process,
// so that blocking this process's event loop does not stop B from judging A.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import type { Redis } from 'ioredis';
import { keySpace, redisTimeMs } from '@parley/bus';
import { loadConfig, OPEN_AUTH_BACKEND } from '@parley/config';
import { loginPlain, RawClient, startGateway, startRedis, type GatewayProcess, type RedisServer } from '@parley/testkit';
import { Gateway } from '../src/gateway.js';

const HEARTBEAT_MS = 200;
const DEAD_AFTER_MS = 1000;
const prefix = `t:liveness:${randomBytes(3).toString('hex')}:`;
const keys = keySpace(prefix);

let server: RedisServer;
let db: Redis;
let gatewayA: Gateway;
let portA: number;
let gatewayB: GatewayProcess;

before(async () => {
  server = await startRedis({ appendOnly: true });
  db = server.client();
  const config = loadConfig({
    env: {},
    overrides: {
      'redis.url': server.url,
      'redis.keyPrefix': prefix,
      'gateway.id': 'gw-a',
      'gateway.c2sPort': 0,
      'gateway.wsPort': -1,
      'gateway.heartbeatMs': HEARTBEAT_MS,
      'gateway.deadAfterMs': DEAD_AFTER_MS,
      'gateway.outageBufferStanzas': 1,
      'gateway.outageWaitMs': 8000,
      'auth.backend': OPEN_AUTH_BACKEND,
      'auth.allowPlainWithoutTls': true,
    },
  });
  gatewayA = new Gateway(config, pino({ level: 'silent' }));
  portA = (await gatewayA.start()).c2sPort;
  gatewayB = await startGateway({
    redisUrl: server.url,
    keyPrefix: prefix,
    env: {
      PARLEY_HEARTBEAT_MS: String(HEARTBEAT_MS),
      PARLEY_GATEWAY_DEAD_AFTER_MS: String(DEAD_AFTER_MS),
      PARLEY_AUTH_BACKEND: OPEN_AUTH_BACKEND,
      PARLEY_ALLOW_PLAIN_WITHOUT_TLS: 'true',
    },
  });
});

after(async () => {
  await gatewayB?.stop();
  await gatewayA?.stop();
  await server?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('gateway liveness', () => {
  it('keeps heartbeating (by the Redis clock) while its event loop is blocked for 3 × deadAfterMs, so nobody reaps it', async () => {
    const before = Number(await db.zscore(keys.gateways(), 'gw-a'));
    const [sec] = await db.time();
    assert.ok(Math.abs(before - Number(sec) * 1000) < 5000, `score ${before} is a time by the Redis clock`);
    const blockedFrom = Date.now();
    // A flood's worst case: no turn of the event loop at all for 3 s.
    while (Date.now() - blockedFrom < 3 * DEAD_AFTER_MS) { /* busy */ }
    const score = Number(await db.zscore(keys.gateways(), 'gw-a'));
    const age = redisTimeMs(await db.time()) - score;
    assert.ok(age < DEAD_AFTER_MS, `heartbeat age ${age} ms right after the block (the worker thread kept it fresh)`);
    await sleep(2 * DEAD_AFTER_MS); // B's scans that ran during the block have been answered
    assert.equal(await db.exists(keys.gatewayToken('gw-a')), 1, 'A is still registered (its token was not taken by a reaper)');
    assert.ok(!gatewayB.output().includes('removed the sessions of a dead gateway'), 'B reaped nobody');
  });

  it('keeps sessions open through a Redis outage: one stanza waits and is delivered, the one over the buffer gets resource-constraint', async () => {
    const alice = await RawClient.connect(portA);
    const { jid: aliceJid } = await loginPlain(alice, { domain: 'localhost', user: 'alice', password: 'x', resource: 'a' });
    const bob = await RawClient.connect(portA);
    const { jid: bobJid } = await loginPlain(bob, { domain: 'localhost', user: 'bob', password: 'x', resource: 'b' });
    await alice.send(`<presence/>`);
    await bob.send(`<presence/>`);
    await sleep(300);
    await sleep(1200); // AOF everysec: the registry reached the disk
    await server.kill('SIGKILL');
    const killedAt = Date.now();
    await sleep(300);
    const fromA = alice.length;
    const fromB = bob.length;
    await alice.send(`<message to='${bobJid}' id='waits' type='chat'><body>sent during the outage</body></message>`);
    await sleep(200);
    await bob.send(`<message to='${aliceJid}' id='over' type='chat'><body>over the buffer</body></message>`);
    const refused = await bob.waitFor(/<message[^>]*type=["']error["'][^>]*>[\s\S]*?<\/message>/, { from: fromB, timeoutMs: 3000 });
    assert.match(refused[0], /id=["']over["']/);
    assert.match(refused[0], /<resource-constraint/);
    assert.match(refused[0], /type=["']wait["']/);
    await sleep(2000);
    await server.restart();
    const restartedAt = Date.now();
    const got = await bob.waitFor(/<message[^>]*id=["']waits["'][\s\S]*?<\/message>/, { from: fromB, timeoutMs: 8000 });
    assert.match(got[0], /sent during the outage/);
    const deliveredMs = Date.now() - restartedAt;
    assert.equal(alice.isClosed, false, 'alice still connected');
    assert.equal(bob.isClosed, false, 'bob still connected');
    assert.ok(!/stream:error/.test(alice.text.slice(fromA)) && !/stream:error/.test(bob.text.slice(fromB)), 'no stream error');
    // Both still route afterwards.
    await bob.send(`<message to='${aliceJid}' id='after' type='chat'><body>after</body></message>`);
    await alice.waitFor(/<message[^>]*id=["']after["']/, { from: fromA, timeoutMs: 5000 });
    process.stdout.write(`# outage ${restartedAt - killedAt} ms; the waiting stanza was delivered ${deliveredMs} ms after Redis came back\n`);
    alice.destroy();
    bob.destroy();
  });
});
