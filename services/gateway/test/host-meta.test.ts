// XEP-0156 host-meta documents and the advertised WebSocket URL (pure, no I/O).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseOwnElement } from '@parley/xml';
import { advertisedWebSocketUrl, hostMetaJson, hostMetaXrd, WEBSOCKET_REL, type HostMetaOptions } from '../src/transport/host-meta.js';

const opts = (over: Partial<HostMetaOptions> = {}): HostMetaOptions => ({
  hosts: ['example.org', 'chat.example.net'],
  publicUrl: undefined,
  secure: false,
  wsPath: '/xmpp-websocket',
  port: () => 5280,
  ...over,
});

test('the URL: configured as is; else derived from the listener and a served Host only', () => {
  assert.equal(advertisedWebSocketUrl(opts({ publicUrl: 'wss://xmpp.example.org/ws' }), 'evil.example'), 'wss://xmpp.example.org/ws');
  assert.equal(advertisedWebSocketUrl(opts(), 'CHAT.example.net:443'), 'ws://chat.example.net:5280/xmpp-websocket');
  assert.equal(advertisedWebSocketUrl(opts({ secure: true }), 'example.org'), 'wss://example.org:5280/xmpp-websocket');
  // A Host that is not served is never echoed: the first served domain instead.
  for (const host of ['evil.example', '127.0.0.1:5280', '[::1]:5280', 'example.org/x', 'a'.repeat(400), undefined]) {
    assert.equal(advertisedWebSocketUrl(opts(), host), 'ws://example.org:5280/xmpp-websocket', String(host));
  }
});

test('the XRD and JSON documents carry one websocket link, escaped', () => {
  const url = 'wss://xmpp.example.org/ws?a=1&b=2';
  const xrd = hostMetaXrd(url);
  assert.ok(xrd.startsWith("<?xml version='1.0' encoding='utf-8'?>"));
  const el = parseOwnElement(xrd.slice(xrd.indexOf('\n') + 1), 'http://docs.oasis-open.org/ns/xri/xrd-1.0');
  assert.equal(el.name, 'XRD');
  assert.equal(el.getNS(), 'http://docs.oasis-open.org/ns/xri/xrd-1.0');
  const links = el.getChildren('Link');
  assert.equal(links.length, 1);
  assert.deepEqual([links[0]!.attrs.rel, links[0]!.attrs.href], [WEBSOCKET_REL, url]);
  assert.ok(xrd.includes('a=1&amp;b=2'), xrd);
  assert.deepEqual(JSON.parse(hostMetaJson(url)), { links: [{ rel: 'urn:xmpp:alt-connections:websocket', href: url }] });
});
