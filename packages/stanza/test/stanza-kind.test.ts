import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isErrorType, stanzaKind } from '@parley/stanza';
import { parseElement } from '@parley/xml';

test('stanzaKind names message, presence and iq in jabber:client', () => {
  for (const name of ['message', 'presence', 'iq'] as const) {
    assert.equal(stanzaKind(parseElement(`<${name}/>`, { defaultNs: 'jabber:client' })), name);
  }
});

test('stanzaKind is undefined in other namespaces and for other elements', () => {
  assert.equal(stanzaKind(parseElement("<message xmlns='jabber:server'/>")), undefined);
  assert.equal(stanzaKind(parseElement('<message/>')), undefined);
  assert.equal(stanzaKind(parseElement("<auth xmlns='jabber:client'/>")), undefined);
});

test('isErrorType checks type="error"', () => {
  assert.equal(isErrorType(parseElement("<iq type='error'/>")), true);
  assert.equal(isErrorType(parseElement("<iq type='result'/>")), false);
  assert.equal(isErrorType(parseElement('<message/>')), false);
});
