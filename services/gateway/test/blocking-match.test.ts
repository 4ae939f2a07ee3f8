// XEP-0191 §6 JID matching and §3.3 item parsing: pure functions, no I/O.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Element } from 'ltx';
import { parseJid } from '@parley/jid';
import { blockKeys, isBlockedBy, NS_BLOCKING, readItems } from '../src/blocking/jid-match.js';

test('blockKeys lists the candidate entries, most specific first (XEP-0191 §6)', () => {
  assert.deepEqual(blockKeys(parseJid('romeo@montague.net/orchard')), ['romeo@montague.net/orchard', 'romeo@montague.net', 'montague.net']);
  assert.deepEqual(blockKeys(parseJid('romeo@montague.net')), ['romeo@montague.net', 'montague.net']);
  assert.deepEqual(blockKeys(parseJid('montague.net/orchard')), ['montague.net/orchard', 'montague.net']);
  assert.deepEqual(blockKeys(parseJid('montague.net')), ['montague.net']);
});

test('a full JID entry matches only that resource', () => {
  const list = ['romeo@montague.net/orchard'];
  assert.equal(isBlockedBy(list, parseJid('romeo@montague.net/orchard')), true);
  assert.equal(isBlockedBy(list, parseJid('romeo@montague.net/garden')), false);
  assert.equal(isBlockedBy(list, parseJid('romeo@montague.net')), false);
});

test('a bare JID entry matches the bare JID and every resource of it, nothing else on the domain', () => {
  const list = ['romeo@montague.net'];
  assert.equal(isBlockedBy(list, parseJid('romeo@montague.net')), true);
  assert.equal(isBlockedBy(list, parseJid('romeo@montague.net/any')), true);
  assert.equal(isBlockedBy(list, parseJid('mercutio@montague.net/any')), false);
  assert.equal(isBlockedBy(list, parseJid('montague.net')), false);
});

test('a domain entry matches the domain, its users and their resources; domain/resource only that', () => {
  assert.equal(isBlockedBy(['montague.net'], parseJid('romeo@montague.net/orchard')), true);
  assert.equal(isBlockedBy(['montague.net'], parseJid('montague.net')), true);
  assert.equal(isBlockedBy(['montague.net'], parseJid('capulet.com')), false);
  assert.equal(isBlockedBy(['montague.net'], parseJid('sub.montague.net')), false, 'subdomains are other domains');
  assert.equal(isBlockedBy(['montague.net/orchard'], parseJid('montague.net/orchard')), true);
  assert.equal(isBlockedBy(['montague.net/orchard'], parseJid('romeo@montague.net/orchard')), false);
});

test('entries are compared normalised: the list holds parsed JIDs', () => {
  const read = readItems(new Element('block', { xmlns: NS_BLOCKING }).c('item', { jid: 'Romeo@Montague.NET/Orchard' }).up(), 10);
  assert.deepEqual(read, { jids: ['romeo@montague.net/Orchard'] });
  assert.equal(isBlockedBy((read as { jids: string[] }).jids, parseJid('ROMEO@montague.net/Orchard')), true);
});

const block = (...jids: Array<string | undefined>) => {
  const el = new Element('block', { xmlns: NS_BLOCKING });
  for (const jid of jids) el.c('item', jid === undefined ? {} : { jid }).up();
  return el;
};

test('readItems: duplicates are merged, an item without a valid jid is jid-malformed, too many is policy-violation', () => {
  assert.deepEqual(readItems(block('a@x', 'A@x', 'b@x'), 10), { jids: ['a@x', 'b@x'] });
  assert.deepEqual(readItems(block(), 10), { jids: [] });
  assert.deepEqual(readItems(block('a@x', '@@bad'), 10), { error: 'jid-malformed' });
  assert.deepEqual(readItems(block(undefined), 10), { error: 'jid-malformed' });
  assert.deepEqual(readItems(block('__proto__@x', 'constructor'), 10), { jids: ['__proto__@x', 'constructor'] });
  const tooMany = readItems(block('a@x', 'b@x', 'c@x'), 2);
  assert.ok('error' in tooMany && tooMany.error === 'policy-violation', JSON.stringify(tooMany));
});
