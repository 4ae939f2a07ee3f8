import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '@parley/config';

test('the XEP-0198 settings are read from the environment as integers', () => {
  const c = loadConfig({ env: { PARLEY_SM_RESUME_TIMEOUT_SEC: '0', PARLEY_SM_MAX_UNACKED: '50', PARLEY_SM_ACK_REQUEST_STANZAS: '3' } });
  assert.equal(c.sm.resumeTimeoutSec, 0);
  assert.equal(c.sm.maxUnacked, 50);
  assert.equal(c.sm.ackRequestStanzas, 3);
  assert.throws(() => loadConfig({ env: { PARLEY_SM_RESUME_TIMEOUT_SEC: 'soon' } }), ConfigError);
});
