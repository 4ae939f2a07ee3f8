// tls.required must hold on every transport or the configuration is refused (issue #10 item 7).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '@parley/config';

const CERT = { PARLEY_TLS_CERT: '/etc/cert.pem', PARLEY_TLS_KEY: '/etc/key.pem' };

test('tls.required with the default plain ws:// listener is refused with a clear message', () => {
  assert.throws(() => loadConfig({ env: { ...CERT, PARLEY_TLS_REQUIRED: 'true' } }), (err: Error) => {
    assert.ok(err instanceof ConfigError);
    assert.match(err.message, /tls\.required: tls\.required with a plain ws:\/\/ listener: WebSocket has no STARTTLS \(RFC 7395\)/);
    return true;
  });
});

test('tls.required without a certificate is refused', () => {
  assert.throws(() => loadConfig({ env: { PARLEY_TLS_REQUIRED: 'true', PARLEY_WS_PORT: '-1' } }), /tls\.required needs tls\.certFile and tls\.keyFile/);
  assert.throws(() => loadConfig({ env: { PARLEY_TLS_WSS: 'true' } }), /tls\.wss needs tls\.certFile and tls\.keyFile/);
});

test('tls.required is accepted with wss, or with WebSocket disabled', () => {
  const wss = loadConfig({ env: { ...CERT, PARLEY_TLS_REQUIRED: 'true', PARLEY_TLS_WSS: 'true' } });
  assert.equal(wss.tls.required, true);
  assert.equal(wss.tls.wss, true);
  const noWs = loadConfig({ env: { ...CERT, PARLEY_TLS_REQUIRED: 'true', PARLEY_WS_PORT: '-1' } });
  assert.equal(noWs.gateway.wsPort, -1);
  assert.equal(loadConfig({ env: {} }).tls.wss, false, 'off by default');
});
