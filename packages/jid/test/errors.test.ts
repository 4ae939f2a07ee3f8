// JidError carries the stanza error condition; tryParseJid turns it into undefined.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { JidError, parseJid, tryParseJid } from '@parley/jid';

test('JidError says jid-malformed, which part failed and why', () => {
  try {
    parseJid('juliet@exa mple.com');
    assert.fail('should have thrown');
  } catch (err) {
    assert.ok(err instanceof JidError);
    assert.ok(err instanceof Error);
    assert.equal(err.name, 'JidError');
    assert.equal(err.condition, 'jid-malformed');
    assert.equal(err.part, 'domainpart');
    assert.equal(err.code, 'invalid-domain');
    assert.match(err.message, /^domainpart: .*U\+0020/);
  }
});

test('tryParseJid returns the JID, or undefined instead of throwing', () => {
  assert.equal(tryParseJid('Juliet@Example.com')?.toString(), 'juliet@example.com');
  assert.equal(tryParseJid('juliet@'), undefined);
  assert.equal(tryParseJid('a b@example.com'), undefined);
  assert.equal(tryParseJid(''), undefined);
});
