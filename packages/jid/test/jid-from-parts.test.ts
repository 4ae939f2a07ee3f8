// jid(local, domain, resource?): building a JID from parts, each normalised, none split.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jid, JidError, parseJid } from '@parley/jid';

test('normalises each part like parseJid does', () => {
  const j = jid('Juliet', 'EXAMPLE.com.', 'Bal\u00A0cony');
  assert.equal(j.toString(), 'juliet@example.com/Bal cony');
  assert.ok(j.equals(parseJid('juliet@example.com/Bal cony')));
});

test('local and resource are optional', () => {
  assert.equal(jid(undefined, 'example.com').toString(), 'example.com');
  assert.equal(jid(undefined, 'example.com', 'r').toString(), 'example.com/r');
  assert.equal(jid('a', 'example.com').isBare(), true);
});

test('parts are not split on separators', () => {
  assert.equal(jid('a', 'example.com', 'x/y@z').resource, 'x/y@z');
  assert.throws(() => jid('a@b', 'example.com'), JidError);
  assert.throws(() => jid('a', 'example.com/r'), JidError); // not truncated at the slash
  assert.throws(() => jid('a', 'b@example.com'), JidError);
});

test('an empty string is an empty part, not an absent one', () => {
  assert.throws(() => jid('', 'example.com'), (e: unknown) => e instanceof JidError && e.part === 'localpart' && e.code === 'empty');
  assert.throws(() => jid('a', 'example.com', ''), (e: unknown) => e instanceof JidError && e.part === 'resourcepart' && e.code === 'empty');
  assert.throws(() => jid('a', ''), (e: unknown) => e instanceof JidError && e.part === 'domainpart' && e.code === 'empty');
});
