// The gateway's Prometheus metrics, as published to Redis for the admin API (issue #4).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import type { Redis } from 'ioredis';
import { keySpace } from '@parley/bus';
import { loadConfig, OPEN_AUTH_BACKEND } from '@parley/config';
import { readClusterMetrics } from '@parley/metrics';
import { loginPlain, RawClient, startRedis, type RedisServer } from '@parley/testkit';
import { Gateway } from '../src/gateway.js';

const prefix = `t-gw-metrics-${randomBytes(4).toString('hex')}:`;
const keys = keySpace(prefix);
let server: RedisServer;
let redis: Redis;
let gateway: Gateway;
let port: number;

before(async () => {
  server = await startRedis();
  redis = server.client();
  const config = loadConfig({
    env: {},
    overrides: {
      'redis.url': server.url,
      'redis.keyPrefix': prefix,
      'gateway.id': 'gw-m',
      'gateway.c2sPort': 0,
      'gateway.wsPort': -1,
      'auth.backend': OPEN_AUTH_BACKEND,
      'auth.allowPlainWithoutTls': true,
      'metrics.publishMs': 100,
    },
  });
  gateway = new Gateway(config, pino({ level: 'silent' }));
  port = (await gateway.start()).c2sPort;
});
after(async () => {
  await gateway.stop();
  await server.stop();
});

describe('gateway metrics', () => {
  it('publishes connections, logins, auth failures and stanzas', async () => {
    const raw = await RawClient.connect(port);
    const { jid } = await loginPlain(raw, { domain: 'localhost', user: 'alice', password: 'x' });
    await raw.send(`<iq type='get' id='v1' to='localhost'><query xmlns='jabber:iq:version'/></iq>`);
    await raw.waitFor(/<iq[^>]*id=['"]v1['"]/);
    await raw.send(`<message to='${jid}' id='m1'><body>hi</body></message>`);
    await raw.waitFor(/<message[^>]*id=['"]m1['"]/);

    const bad = await RawClient.connect(port);
    await bad.send(`<?xml version='1.0'?><stream:stream to='localhost' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>`);
    await bad.waitFor(/<\/stream:features>/);
    await bad.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='X-MADE-UP'/>`);
    await bad.waitFor(/<failure/);

    const labels = 'service="gateway",process="gw-m"';
    const text = await eventually(async () => {
      const t = await readClusterMetrics(redis, keys);
      return t.includes('parley_auth_failures_total{mechanism="other"') && t.includes('parley_stanzas_out_total{kind="message"') ? t : undefined;
    });
    assert.match(text, new RegExp(`^parley_connections\\{transport="tcp",${labels}\\} 2$`, 'm'));
    assert.match(text, new RegExp(`^parley_connections\\{transport="websocket",${labels}\\} 0$`, 'm'));
    assert.match(text, new RegExp(`^parley_logins_total\\{mechanism="PLAIN",${labels}\\} 1$`, 'm'));
    assert.match(text, new RegExp(`^parley_auth_failures_total\\{mechanism="other",${labels}\\} 1$`, 'm'));
    assert.match(text, new RegExp(`^parley_stanzas_in_total\\{kind="iq",${labels}\\} 1$`, 'm'));
    assert.match(text, new RegExp(`^parley_stanzas_in_total\\{kind="message",${labels}\\} 1$`, 'm'));
    assert.match(text, new RegExp(`^parley_stanzas_out_total\\{kind="message",${labels}\\} 1$`, 'm'));
    assert.match(text, new RegExp(`^parley_redis_rtt_seconds_count\\{${labels}\\} [1-9]\\d*$`, 'm'));
    raw.destroy();
    bad.destroy();
  });

  it('counts limits that trip: a burst past limits.burstStanzas pauses reading', async () => {
    const raw = await RawClient.connect(port);
    await loginPlain(raw, { domain: 'localhost', user: 'bursty', password: 'x' });
    // 500 pings in one write: past the 400-element burst, so the session stops reading for a while.
    let burst = '';
    for (let i = 0; i < 500; i++) burst += `<iq type='get' id='p${i}' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`;
    await raw.send(burst);
    await raw.waitFor(/<iq[^>]*id=['"]p499['"]/, 10_000);
    const labels = 'service="gateway",process="gw-m"';
    const text = await eventually(async () => {
      const t = await readClusterMetrics(redis, keys);
      return t.includes('parley_limit_events_total{event="input-paused"') ? t : undefined;
    });
    assert.match(text, new RegExp(`^parley_limit_events_total\\{event="input-paused",${labels}\\} [1-9]\\d*$`, 'm'));
    raw.destroy();
  });
});

async function eventually<T>(fn: () => Promise<T | undefined>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('timed out waiting for the metrics');
    await new Promise((r) => setTimeout(r, 50));
  }
}
