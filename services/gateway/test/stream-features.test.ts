import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NS } from '@parley/xml';
import { postAuthFeatures, preAuthFeatures } from '../src/session/stream-features.js';

test('before authentication: STARTTLS when possible, then the SASL mechanisms in order', () => {
  const f = preAuthFeatures({ startTls: 'optional', mechanisms: ['SCRAM-SHA-256', 'SCRAM-SHA-1'] });
  assert.equal(f.name, 'stream:features');
  assert.ok(f.getChild('starttls', NS.TLS));
  assert.equal(f.getChild('starttls', NS.TLS)?.getChild('required'), undefined);
  assert.deepEqual(f.getChild('mechanisms', NS.SASL)?.getChildren('mechanism').map((m) => m.getText()), ['SCRAM-SHA-256', 'SCRAM-SHA-1']);
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
