import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_ERROR_TYPE, stanzaError, type StanzaErrorCondition, type StanzaErrorType } from '@parley/stanza';

// RFC 6120 §8.3.3, "the associated error type SHOULD be ...".
const EXPECTED: Record<StanzaErrorCondition, StanzaErrorType> = {
  'bad-request': 'modify',
  conflict: 'cancel',
  'feature-not-implemented': 'cancel',
  forbidden: 'auth',
  gone: 'cancel',
  'internal-server-error': 'cancel',
  'item-not-found': 'cancel',
  'jid-malformed': 'modify',
  'not-acceptable': 'modify',
  'not-allowed': 'cancel',
  'not-authorized': 'auth',
  'policy-violation': 'modify',
  'recipient-unavailable': 'wait',
  redirect: 'modify',
  'registration-required': 'auth',
  'remote-server-not-found': 'cancel',
  'remote-server-timeout': 'wait',
  'resource-constraint': 'wait',
  'service-unavailable': 'cancel',
  'subscription-required': 'auth',
  'undefined-condition': 'cancel',
  'unexpected-request': 'wait',
};

test('the default type table covers the 22 conditions of RFC 6120 §8.3.3 with their RFC types', () => {
  assert.deepEqual({ ...DEFAULT_ERROR_TYPE }, EXPECTED);
  assert.equal(Object.keys(DEFAULT_ERROR_TYPE).length, 22);
});

test('stanzaError uses the default type of each condition', () => {
  for (const [condition, type] of Object.entries(EXPECTED)) {
    assert.equal(stanzaError(condition as StanzaErrorCondition).attrs.type, type, condition);
  }
});
