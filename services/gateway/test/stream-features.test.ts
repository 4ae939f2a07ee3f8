import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NS } from '@parley/xml';
import { postAuthFeatures, preAuthFeatures, SASL_CB_NS } from '../src/session/stream-features.js';

test('before authentication: STARTTLS when possible, then the SASL mechanisms in order', () => {
  const f = preAuthFeatures({ startTls: 'optional', mechanisms: ['SCRAM-SHA-256', 'SCRAM-SHA-1'] });
  assert.equal(f.name, 'stream:features');
  assert.ok(f.getChild('starttls', NS.TLS));
  assert.equal(f.getChild('starttls', NS.TLS)?.getChild('required'), undefined);
  assert.deepEqual(f.getChild('mechanisms', NS.SASL)?.getChildren('mechanism').map((m) => m.getText()), ['SCRAM-SHA-256', 'SCRAM-SHA-1']);
});

test('XEP-0440: the channel binding types are a stream feature next to <mechanisms/>, only when given', () => {
  const f = preAuthFeatures({ startTls: 'no', mechanisms: ['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256'], channelBindings: ['tls-exporter', 'tls-server-end-point'] });
  const cb = f.getChild('sasl-channel-binding', SASL_CB_NS);
  assert.equal(SASL_CB_NS, 'urn:xmpp:sasl-cb:0');
  assert.deepEqual(cb?.getChildren('channel-binding').map((c) => c.attrs.type), ['tls-exporter', 'tls-server-end-point']);
  assert.equal(f.getChild('mechanisms', NS.SASL)?.getChild('sasl-channel-binding'), undefined);
  assert.equal(preAuthFeatures({ startTls: 'no', mechanisms: ['SCRAM-SHA-256'], channelBindings: [] }).getChild('sasl-channel-binding', SASL_CB_NS), undefined);
  assert.equal(preAuthFeatures({ startTls: 'required', mechanisms: [], channelBindings: ['tls-exporter'] }).getChild('sasl-channel-binding', SASL_CB_NS), undefined);
});

test('mandatory TLS hides SASL until the stream is encrypted (RFC 6120 §5.3.1)', () => {
  const f = preAuthFeatures({ startTls: 'required', mechanisms: ['PLAIN'] });
  assert.ok(f.getChild('starttls', NS.TLS)?.getChild('required'));
  assert.equal(f.getChild('mechanisms', NS.SASL), undefined);
});

test('after authentication: bind, and the legacy session feature marked optional', () => {
  const f = postAuthFeatures();
  assert.ok(f.getChild('bind', NS.BIND));
  assert.ok(f.getChild('session', NS.SESSION)?.getChild('optional'));
});

test('after authentication: roster versioning and subscription pre-approval are announced (RFC 6121 §2.6.1, §3.4.1)', () => {
  const f = postAuthFeatures();
  assert.ok(f.getChild('ver', 'urn:xmpp:features:rosterver'));
  assert.ok(f.getChild('sub', 'urn:xmpp:features:pre-approval'));
});
