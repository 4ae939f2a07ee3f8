// XEP-0313 account archives, the pure part (no I/O): what is archived, XEP-0359 stanza-id
// stamping, preferences (XEP-0441) parse/verdict, the §4.1.1 `with` filter and §4.2 results.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseJid } from '@parley/jid';
import { parseOwnElement, serialize } from '@parley/xml';
import { archivable, DEFAULT_PREFS, matchesWithFilter, prefsFromJson, prefsVerdict, withStanzaId } from '@parley/accounts';
import { accountArchiveResults, MAX_PREFS_JIDS, parsePrefs, prefsElement } from '../src/mam/account-archive.js';

const el = (xml: string) => parseOwnElement(xml, 'jabber:client');
const SID = 'urn:xmpp:sid:0';

test('archivable: chat/normal with a body or <store/>, hints respected (XEP-0313 §6.1.1, XEP-0334)', () => {
  assert.equal(archivable(el(`<message type='chat'><body>x</body></message>`)), true);
  assert.equal(archivable(el(`<message><body>x</body></message>`)), true, 'no type = normal');
  assert.equal(archivable(el(`<message type='normal'><store xmlns='urn:xmpp:hints'/><x xmlns='urn:example'/></message>`)), true);
  assert.equal(archivable(el(`<message type='chat'><active xmlns='http://jabber.org/protocol/chatstates'/></message>`)), false);
  assert.equal(archivable(el(`<message type='chat'><body>x</body><no-store xmlns='urn:xmpp:hints'/></message>`)), false);
  assert.equal(archivable(el(`<message type='chat'><body>x</body><no-permanent-store xmlns='urn:xmpp:hints'/></message>`)), false);
  for (const type of ['groupchat', 'headline', 'error']) assert.equal(archivable(el(`<message type='${type}'><body>x</body></message>`)), false, type);
  assert.equal(archivable(el(`<presence/>`)), false);
});

test('withStanzaId: forged ids by the archive are removed (XEP-0359 §3 rule 2), others kept; ours added', () => {
  const m = el(`<message><body>x</body><stanza-id xmlns='${SID}' by='a@h' id='forged'/><stanza-id xmlns='${SID}' by='room@muc' id='r'/></message>`);
  const clean = withStanzaId(m, 'a@h');
  assert.deepEqual(clean.getChildren('stanza-id', SID).map((s) => s.attrs.by), ['room@muc']);
  assert.equal(m.getChildren('stanza-id', SID).length, 2, 'the original is not changed');
  const stamped = withStanzaId(m, 'a@h', 'id-1');
  assert.deepEqual(stamped.getChildren('stanza-id', SID).map((s) => `${s.attrs.by}=${s.attrs.id}`), ['room@muc=r', 'a@h=id-1']);
  const plain = el(`<message><body>x</body></message>`);
  assert.equal(withStanzaId(plain, 'a@h'), plain, 'nothing to do: the same element');
});

test('preferences: parse, bounds, verdicts, JSON round trip', () => {
  const p = parsePrefs(el(`<prefs xmlns='urn:xmpp:mam:2' default='roster'><always><jid>Romeo@Montague.lit</jid><jid>romeo@montague.lit</jid></always><never><jid>tybalt@capulet.lit/x</jid></never></prefs>`));
  assert.ok(!('error' in p));
  assert.deepEqual(p, { default: 'roster', always: ['romeo@montague.lit'], never: ['tybalt@capulet.lit/x'] });
  assert.equal(prefsVerdict(p, parseJid('romeo@montague.lit/a')), true, 'a bare JID on a list matches its resources');
  assert.equal(prefsVerdict(p, parseJid('tybalt@capulet.lit/x')), false);
  assert.equal(prefsVerdict(p, parseJid('tybalt@capulet.lit/y')), 'roster', 'a full JID on a list matches only itself');
  assert.equal(prefsVerdict({ default: 'always', always: ['x@h'], never: ['x@h'] }, parseJid('x@h')), false, 'never wins');
  assert.equal(prefsVerdict(DEFAULT_PREFS, undefined), true);
  assert.deepEqual(prefsFromJson(JSON.stringify(p)), p);
  assert.deepEqual(prefsFromJson('{"default":"sometimes"}'), DEFAULT_PREFS);
  assert.deepEqual(prefsFromJson('not json'), DEFAULT_PREFS);
  assert.deepEqual(prefsFromJson(null), DEFAULT_PREFS);
  const round = parsePrefs(prefsElement(p));
  assert.deepEqual(round, p);
  assert.equal((parsePrefs(el(`<prefs xmlns='urn:xmpp:mam:2'/>`)) as { error: string }).error, 'bad-request');
  assert.equal((parsePrefs(el(`<prefs xmlns='urn:xmpp:mam:2' default='always'><never><jid>@bad</jid></never></prefs>`)) as { error: string }).error, 'jid-malformed');
  const many = Array.from({ length: MAX_PREFS_JIDS + 1 }, (_, i) => `<jid>u${i}@h</jid>`).join('');
  assert.equal((parsePrefs(el(`<prefs xmlns='urn:xmpp:mam:2' default='always'><always>${many}</always></prefs>`)) as { error: string }).error, 'not-acceptable');
});

test('with filter (§4.1.1): bare matches resources, full only itself', () => {
  assert.equal(matchesWithFilter(undefined, { with: 'x@h/r' }), true);
  assert.equal(matchesWithFilter('x@h', { with: 'x@h/r' }), true);
  assert.equal(matchesWithFilter('x@h', { with: 'x@h' }), true);
  assert.equal(matchesWithFilter('x@h', { with: 'x@hh/r' }), false);
  assert.equal(matchesWithFilter('x@h/r', { with: 'x@h' }), false);
  assert.equal(matchesWithFilter('x@h/r', { with: 'x@h/r' }), true);
  assert.equal(matchesWithFilter('x@h/r', { with: 'x@h/s' }), false);
});

test('results (§4.2, §4.3.2): forwarded with delay, fin with first/last/count and complete', () => {
  const entries = [
    { id: 'a', at: Date.UTC(2026, 0, 2, 3, 4, 5), with: 'b@h', xml: `<message xmlns='jabber:client' from='a@h/r' to='b@h' type='chat'><body>one</body></message>` },
    { id: 'b', at: Date.UTC(2026, 0, 2, 3, 4, 6), with: 'b@h/x', xml: `<message xmlns='jabber:client' from='b@h/x' to='a@h/r' type='chat'><body>two</body></message>` },
  ];
  const { messages, fin } = accountArchiveResults('q1', 'a@h/r', { entries, complete: true, count: 7 });
  assert.equal(messages.length, 2);
  const r = messages[0]!.getChild('result', 'urn:xmpp:mam:2')!;
  assert.deepEqual([messages[0]!.attrs.to, r.attrs.queryid, r.attrs.id], ['a@h/r', 'q1', 'a']);
  const f = r.getChild('forwarded', 'urn:xmpp:forward:0')!;
  assert.equal(f.getChild('delay', 'urn:xmpp:delay')!.attrs.stamp, '2026-01-02T03:04:05.000Z');
  assert.equal(f.getChild('message')!.getChildText('body'), 'one');
  assert.equal(fin.attrs.complete, 'true');
  const set = fin.getChild('set', 'http://jabber.org/protocol/rsm')!;
  assert.deepEqual([set.getChildText('first'), set.getChildText('last'), set.getChildText('count')], ['a', 'b', '7']);
  const empty = accountArchiveResults(undefined, 'a@h/r', { entries: [], complete: false });
  assert.equal(empty.fin.attrs.complete, undefined);
  assert.equal(serialize(empty.fin.getChild('set')!), `<set xmlns="http://jabber.org/protocol/rsm"/>`);
});
