// Routing of a room's outgoing stanzas: the room's own route, or the session registry.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Element } from 'ltx';
import type { Redis } from 'ioredis';
import { keySpace, type SessionRecord } from '@parley/bus';
import { startRedis, type RedisServer } from '@parley/testkit';
import { resolveRecipients } from '../src/delivery/resolve-recipients.js';
import { memoryLogger, testPrefix } from './support/harness.js';

let server: RedisServer;
let redis: Redis;
const keys = keySpace(testPrefix('routing'));
const live = new Set(['gA', 'gB']);
const record = (gateway: string, sessionId: string, available: boolean): string =>
  JSON.stringify({ gateway, sessionId, available, priority: 0, since: 1, transport: 'tcp' } satisfies SessionRecord);
const msg = (to: string) => new Element('message', { from: 'r@conference.localhost', to });

before(async () => {
  server = await startRedis();
  redis = server.client();
  await redis.hset(keys.userSessions('carol@localhost'), {
    phone: record('gB', 's-phone', true),
    desk: record('gA', 's-desk', true),
    away: record('gA', 's-away', false),
    ghost: record('gDead', 's-ghost', true),
  });
});
after(async () => {
  await server.stop();
});

describe('resolveRecipients', () => {
  it('uses the room\'s route when it names a live gateway', async () => {
    const { log } = memoryLogger();
    const out = await resolveRecipients(redis, keys, [
      { entry: '1-0', out: { stanza: msg('a@localhost/x'), to: 'a@localhost/x', route: { gatewayId: 'gA', sessionId: 's1' } } },
      { entry: '1-0', out: { stanza: msg('b@localhost/x'), to: 'b@localhost/x', route: { gatewayId: 'gDead', sessionId: 's2' } } },
    ], new Set(live), log);
    assert.deepEqual(out.map((d) => [d.gatewayId, d.sessionId, d.to]), [['gA', 's1', 'a@localhost/x']]);
  });

  it('sends a bare-JID stanza to every available resource on a live gateway, a full-JID one to that resource', async () => {
    const { log, lines } = memoryLogger();
    const out = await resolveRecipients(redis, keys, [
      { entry: '2-0', out: { stanza: msg('carol@localhost'), to: 'carol@localhost' } },
      { entry: '2-0', out: { stanza: msg('carol@localhost/away'), to: 'carol@localhost/away' } },
      { entry: '2-0', out: { stanza: msg('nobody@localhost'), to: 'nobody@localhost' } },
    ], new Set(live), log);
    assert.deepEqual(out.map((d) => [d.gatewayId, d.sessionId, d.to]), [
      ['gA', 's-desk', 'carol@localhost/desk'],
      ['gB', 's-phone', 'carol@localhost/phone'],
      ['gA', 's-away', 'carol@localhost/away'],
    ]);
    assert.ok(lines.some((l) => l['msg']?.toString().includes('dropped') && l['to'] === 'nobody@localhost'));
  });

  it('looks up a gateway it does not know yet, and delivers to it while it is registered (not reaped), however late its heartbeat', async () => {
    const { log } = memoryLogger();
    await redis.zadd(keys.gateways(), Date.now(), 'gNew', Date.now() - 60_000, 'gStale');
    const known = new Set(live);
    const out = await resolveRecipients(redis, keys, [
      { entry: '3-0', out: { stanza: msg('a@localhost/x'), to: 'a@localhost/x', route: { gatewayId: 'gNew', sessionId: 's1' } } },
      { entry: '3-0', out: { stanza: msg('b@localhost/x'), to: 'b@localhost/x', route: { gatewayId: 'gStale', sessionId: 's2' } } },
      { entry: '3-0', out: { stanza: msg('c@localhost/x'), to: 'c@localhost/x', route: { gatewayId: 'gReaped', sessionId: 's3' } } },
    ], known, log);
    assert.deepEqual(out.map((d) => [d.gatewayId, d.sessionId]), [['gNew', 's1'], ['gStale', 's2']]);
    assert.ok(known.has('gNew') && known.has('gStale') && !known.has('gReaped'));
  });
});
