// Issue #14 item 1: per-host certificates (SNI), direct TLS port and the TLS-terminating proxy setting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '@parley/config';

test('PARLEY_TLS_CERTIFICATES parses host:certFile:keyFile items; a malformed item is a ConfigError', () => {
  const c = loadConfig({ env: { PARLEY_TLS_CERTIFICATES: 'localhost:/c/l.crt:/c/l.key, example.test:/c/e.crt:/c/e.key' } });
  assert.deepEqual(c.tls.certificates, [
    { host: 'localhost', certFile: '/c/l.crt', keyFile: '/c/l.key' },
    { host: 'example.test', certFile: '/c/e.crt', keyFile: '/c/e.key' },
  ]);
  assert.throws(() => loadConfig({ env: { PARLEY_TLS_CERTIFICATES: 'localhost:/c/l.crt' } }), (err: Error) => err instanceof ConfigError && /host:certFile:keyFile/.test(err.message));
  assert.throws(() => loadConfig({ env: { PARLEY_TLS_CERTIFICATES: 'a@b:/c/l.crt:/c/l.key' } }), /a domain name/);
  assert.deepEqual(loadConfig({ env: {} }).tls.certificates, [], 'none by default');
});

test('per-host certificates alone satisfy tls.wss and tls.required', () => {
  const c = loadConfig({ env: { PARLEY_TLS_CERTIFICATES: 'localhost:/c/l.crt:/c/l.key', PARLEY_TLS_REQUIRED: 'true', PARLEY_TLS_WSS: 'true' } });
  assert.equal(c.tls.required, true);
});

test('tls.behindTlsProxy lets tls.required accept a plain ws:// listener, and contradicts tls.wss', () => {
  const CERT = { PARLEY_TLS_CERT: '/etc/cert.pem', PARLEY_TLS_KEY: '/etc/key.pem' };
  const c = loadConfig({ env: { ...CERT, PARLEY_TLS_REQUIRED: 'true', PARLEY_TLS_BEHIND_PROXY: 'true' } });
  assert.equal(c.tls.behindTlsProxy, true);
  assert.equal(loadConfig({ env: {} }).tls.behindTlsProxy, false, 'off by default');
  assert.throws(() => loadConfig({ env: { ...CERT, PARLEY_TLS_WSS: 'true', PARLEY_TLS_BEHIND_PROXY: 'true' } }), /contradicts tls\.wss/);
  assert.throws(() => loadConfig({ env: { ...CERT, PARLEY_TLS_BEHIND_PROXY: 'yes' } }), /expected true or false/);
});

test('gateway.directTlsPort: off (-1) by default, PARLEY_DIRECT_TLS_PORT sets it', () => {
  assert.equal(loadConfig({ env: {} }).gateway.directTlsPort, -1);
  assert.equal(loadConfig({ env: { PARLEY_DIRECT_TLS_PORT: '5223' } }).gateway.directTlsPort, 5223);
  assert.throws(() => loadConfig({ env: { PARLEY_DIRECT_TLS_PORT: '70000' } }), ConfigError);
});
