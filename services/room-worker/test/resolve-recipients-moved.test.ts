// An occupant session whose gateway is gone but whose registry record names a live gateway
// now (a XEP-0198 session kept by the reaper of its dead gateway, issue #13): the room's
// stanzas before its `session-moved` input reach it there instead of being dropped.
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { Element } from 'ltx';
import type { Redis } from 'ioredis';
import { keySpace, type SessionRecord } from '@parley/bus';
import { startRedis, type RedisServer } from '@parley/testkit';
import { resolveRecipients } from '../src/delivery/resolve-recipients.js';
import { memoryLogger, testPrefix } from './support/harness.js';

let server: RedisServer;
let redis: Redis;
const keys = keySpace(testPrefix('moved'));
const record = (gateway: string, sessionId: string): string =>
  JSON.stringify({ gateway, sessionId, available: true, priority: 0, since: 1, transport: 'tcp', detached: 5 } satisfies SessionRecord);
const msg = (to: string) => new Element('message', { from: 'r@conference.localhost/n', to, type: 'groupchat' });

before(async () => {
  server = await startRedis();
  redis = server.client();
  await redis.hset(keys.userSessions('gina@localhost'), { phone: record('gAdopter', 's1'), desk: record('gDead', 's2') });
  await redis.hset(keys.userSessions('hal@localhost'), { pc: record('gAdopter', 's-new') });
});
after(async () => {
  await server.stop();
});

it('re-points a route at a gone gateway to the live gateway the same session is registered on; anything else is dropped', async () => {
  const { log } = memoryLogger();
  const out = await resolveRecipients(redis, keys, [
    // Kept by the adopting gateway: delivered there, with the room's session id and its mark position.
    { entry: '1-0', out: { stanza: msg('gina@localhost/phone'), to: 'gina@localhost/phone', route: { gatewayId: 'gDead', sessionId: 's1' } } },
    // Still registered on the dead gateway (not reaped yet): dropped (its reaper re-routes its stream).
    { entry: '1-0', out: { stanza: msg('gina@localhost/desk'), to: 'gina@localhost/desk', route: { gatewayId: 'gDead', sessionId: 's2' } } },
    // The resource is bound by a newer session: not that occupant's, dropped.
    { entry: '1-0', out: { stanza: msg('hal@localhost/pc'), to: 'hal@localhost/pc', route: { gatewayId: 'gDead', sessionId: 's-old' } } },
  ], new Set(['gAdopter']), log);
  assert.deepEqual(out.map((d) => [d.gatewayId, d.sessionId, d.to, d.seq]), [['gAdopter', 's1', 'gina@localhost/phone', 0]]);
});
