import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Element } from 'ltx';
import { NS } from '@parley/xml';
import { HAT_TITLE_MAX_BYTES, HAT_URI_MAX_BYTES, HATS_NS } from '../src/features/hats.js';
import { roomFromJson, roomToJson } from '../src/room-json.js';
import { JULIET, ROMEO, ROOM, ROSALINE, Sim, to, toJson } from './harness.js';

const JULIET_BARE = 'user2@localhost';
const HOST = { uri: 'http://schemas.example.com/hosting', title: 'Host' };
const PRESENTER = { uri: 'urn:example:presenting', title: 'Presenter', hue: 327.5 };

/** The hats of a presence as `title|uri|hue` strings, in order; undefined without `<hats/>`. */
function hatsOf(presence: Element | undefined): string[] | undefined {
  const hats = presence?.getChild('hats', HATS_NS);
  if (hats === undefined) return undefined;
  return hats.getChildElements().map((h) => `${String(h.attrs.title)}|${String(h.attrs.uri)}|${String(h.attrs.hue ?? '')}`);
}

/** Romeo owns the room, Juliet (a member) and Rosaline are in it. */
function room(): Sim {
  const sim = new Sim();
  sim.create(ROMEO, 'Romeo');
  sim.command({ op: 'set-affiliations', items: [{ jid: JULIET_BARE, affiliation: 'member' }] });
  sim.join(JULIET, 'Juliet');
  sim.join(ROSALINE, 'Rosaline');
  return sim;
}

describe('hats (XEP-0317)', () => {
  it('announces assigned hats in presence to everyone, in the order assigned, after the muc#user element', () => {
    const sim = room();
    const out = sim.command({ op: 'set-hats', jid: JULIET_BARE, hats: [HOST, PRESENTER] });
    assert.equal(sim.result.ok, true);
    assert.deepEqual(sim.effects.filter((e) => e.kind === 'persist').length, 1);
    for (const jid of [ROMEO, JULIET, ROSALINE]) {
      const presence = to(out, jid);
      assert.equal(presence.length, 1, jid);
      assert.equal(presence[0]!.attrs.from, `${ROOM}/Juliet`);
      assert.deepEqual(hatsOf(presence[0]), ['Host|http://schemas.example.com/hosting|', 'Presenter|urn:example:presenting|327.5']);
      const names = presence[0]!.getChildElements().map((c) => `${c.name} ${c.getNS() ?? ''}`);
      assert.ok(names.indexOf(`hats ${HATS_NS}`) === names.indexOf(`x ${NS.MUC_USER}`) + 1, names.join(','));
    }
    assert.ok(to(out, JULIET)[0]!.getChild('x', NS.MUC_USER)!.getChildren('status').some((s) => s.attrs.code === '110'));
    assert.deepEqual(sim.room?.hats?.get(JULIET_BARE), [HOST, PRESENTER]);
  });

  it('shows hats at join (to the joiner and in its self-presence), on presence updates and after a nick change', () => {
    const sim = room();
    sim.command({ op: 'set-hats', jid: JULIET_BARE, hats: [HOST] });
    sim.send(JULIET, `<presence to='${ROOM}' type='unavailable'/>`);
    const join = sim.join(JULIET, 'Juliet');
    const self = to(join, JULIET).find((p) => p.attrs.from === `${ROOM}/Juliet`);
    assert.deepEqual(hatsOf(self), ['Host|http://schemas.example.com/hosting|']);
    assert.deepEqual(hatsOf(to(join, ROMEO)[0]), ['Host|http://schemas.example.com/hosting|']);
    const other = new Sim();
    other.room = sim.room;
    const benvolio = 'user4@localhost/b';
    const seen = to(other.join(benvolio, 'Benvolio'), benvolio);
    assert.deepEqual(hatsOf(seen.find((p) => p.attrs.from === `${ROOM}/Juliet`)), ['Host|http://schemas.example.com/hosting|']);
    assert.equal(hatsOf(seen.find((p) => p.attrs.from === `${ROOM}/Romeo`)), undefined, 'Romeo wears no hat');
    const update = other.send(JULIET, `<presence to='${ROOM}/Juliet'><show>away</show></presence>`);
    assert.deepEqual(hatsOf(to(update, ROMEO)[0]), ['Host|http://schemas.example.com/hosting|']);
    const nick = other.send(JULIET, `<presence to='${ROOM}/Jules'/>`);
    const [gone, back] = to(nick, ROMEO);
    assert.equal(gone!.attrs.type, 'unavailable');
    assert.equal(hatsOf(gone), undefined, 'unavailable presence carries no hats');
    assert.equal(back!.attrs.from, `${ROOM}/Jules`);
    assert.deepEqual(hatsOf(back), ['Host|http://schemas.example.com/hosting|']);
  });

  it("answers probes with the occupant's hats, and never reflects hats a client sends", () => {
    const sim = room();
    sim.command({ op: 'set-hats', jid: JULIET_BARE, hats: [HOST] });
    const probe = to(sim.send(ROMEO, `<presence type='probe' to='${ROOM}/Juliet'/>`), ROMEO);
    assert.deepEqual(hatsOf(probe[0]), ['Host|http://schemas.example.com/hosting|']);
    const out = sim.send(JULIET, `<presence to='${ROOM}/Juliet'><hats xmlns='${HATS_NS}'><hat uri='urn:x:king' title='King'/></hats></presence>`);
    const seen = to(out, ROMEO)[0]!;
    assert.equal(seen.getChildren('hats', HATS_NS).length, 1);
    assert.deepEqual(hatsOf(seen), ['Host|http://schemas.example.com/hosting|']);
  });

  it('takes hats off one by one or all at once, announcing each change', () => {
    const sim = room();
    sim.command({ op: 'set-hats', jid: JULIET_BARE, hats: [HOST, PRESENTER] });
    let out = sim.command({ op: 'remove-hats', jid: JULIET_BARE, uri: HOST.uri });
    assert.equal(sim.result.ok, true);
    assert.deepEqual(hatsOf(to(out, ROSALINE)[0]), ['Presenter|urn:example:presenting|327.5']);
    out = sim.command({ op: 'remove-hats', jid: JULIET_BARE, uri: HOST.uri });
    assert.deepEqual(sim.result, { ok: false, error: 'item-not-found', message: `${JULIET_BARE} does not wear the hat ${HOST.uri}` });
    assert.equal(out.length, 0);
    out = sim.command({ op: 'remove-hats', jid: JULIET_BARE });
    assert.equal(hatsOf(to(out, ROSALINE)[0]), undefined);
    assert.equal(to(out, ROSALINE).length, 1, 'the presence without hats is announced');
    assert.equal(sim.room?.hats, undefined);
    sim.command({ op: 'remove-hats', jid: JULIET_BARE });
    assert.equal(sim.result.ok, false);
  });

  it('setting the same hats again announces nothing and stores nothing', () => {
    const sim = room();
    sim.command({ op: 'set-hats', jid: JULIET_BARE, hats: [HOST] });
    const out = sim.command({ op: 'set-hats', jid: JULIET_BARE, hats: [HOST] });
    assert.equal(sim.result.ok, true);
    assert.equal(out.length, 0);
    assert.ok(!sim.effects.some((e) => e.kind === 'persist'));
  });

  it('refuses malformed or unbounded hats with bad-request and leaves the room as it was', () => {
    const sim = room();
    const before = toJson(sim.room!);
    const cases: Array<[unknown, RegExp]> = [
      ['x', /hats must be an array/],
      [Array.from({ length: 17 }, (_, i) => ({ uri: `urn:h:${i}`, title: 'T' })), /at most 16 hats/],
      [[{ uri: 'urn:h:1' }], /title is required/],
      [[{ title: 'T' }], /uri is required/],
      [[{ uri: 'not a uri', title: 'T' }], /not an absolute URI/],
      [[{ uri: `urn:${'a'.repeat(HAT_URI_MAX_BYTES)}`, title: 'T' }], /longer than 1024 bytes/],
      [[{ uri: 'urn:h:1', title: 'é'.repeat(HAT_TITLE_MAX_BYTES / 2 + 1) }], /longer than 256 bytes/],
      [[{ uri: 'urn:h:1', title: 'T', hue: 360 }], /hue/],
      [[{ uri: 'urn:h:1', title: 'bell\u0007' }], /character XML does not allow/],
      [[{ uri: 'urn:h:1', title: 'half \uD800' }], /character XML does not allow/],
      [[{ uri: 'urn:h:\u0001', title: 'T' }], /not an absolute URI/],
      [[{ uri: 'urn:h:1', title: 'T', hue: '12' }], /hue/],
      [[{ uri: 'urn:h:1', title: 'T' }, { uri: 'urn:h:1', title: 'U' }], /appears twice/],
    ];
    for (const [hats, message] of cases) {
      const out = sim.command({ op: 'set-hats', jid: JULIET_BARE, hats });
      const result = sim.result;
      assert.equal(result.ok, false, JSON.stringify(hats).slice(0, 80));
      if (!result.ok) {
        assert.equal(result.error, 'bad-request');
        assert.match(result.message, message);
      }
      assert.equal(out.length, 0);
      assert.equal(toJson(sim.room!), before);
    }
    sim.ctx = { ...sim.ctx, maxHatsPerUser: 2 };
    sim.command({ op: 'set-hats', jid: JULIET_BARE, hats: [HOST, PRESENTER, { uri: 'urn:h:3', title: 'Third' }] });
    assert.equal(sim.result.ok, false, 'the bound is a setting');
  });

  it('gives hats to affiliated users only, and takes them away with the affiliation', () => {
    const sim = room();
    sim.command({ op: 'set-hats', jid: 'user3@localhost', hats: [HOST] });
    assert.deepEqual(sim.result, { ok: false, error: 'not-allowed', message: 'user3@localhost has no affiliation with the room: hats are for members, admins and owners' });
    sim.command({ op: 'set-hats', jid: JULIET_BARE, hats: [HOST] });
    const out = sim.send(ROMEO, `<iq type='set' id='a' to='${ROOM}'><query xmlns='${NS.MUC_ADMIN}'><item jid='${JULIET_BARE}' affiliation='none'/></query></iq>`);
    assert.equal(to(out, ROMEO).at(-1)?.attrs.type, 'result');
    const update = to(out, ROSALINE).find((p) => p.attrs.from === `${ROOM}/Juliet`);
    assert.ok(update !== undefined);
    assert.equal(hatsOf(update), undefined, 'the hats are gone with the affiliation');
    assert.equal(sim.room?.hats, undefined);
  });

  it('keeps hats across storage, reads rooms stored before hats, and lists them in the snapshot', () => {
    const sim = room();
    sim.command({ op: 'set-hats', jid: JULIET_BARE, hats: [PRESENTER, HOST] });
    const json = JSON.parse(JSON.stringify(roomToJson(sim.room!))) as Record<string, unknown>;
    assert.deepEqual(json.hats, { [JULIET_BARE]: [PRESENTER, HOST] });
    const back = roomFromJson(json);
    assert.deepEqual(back.hats?.get(JULIET_BARE), [PRESENTER, HOST]);
    const { hats: _hats, ...old } = json;
    assert.equal(roomFromJson(old).hats, undefined);
    const stored = JSON.parse(`{"__proto__":[{"uri":"urn:a","title":"A"}],"x@y":"no","${JULIET_BARE}":[{"uri":1},${JSON.stringify(HOST)}]}`) as unknown;
    const hostile = roomFromJson({ ...json, hats: stored });
    assert.deepEqual(hostile.hats?.get(JULIET_BARE), [HOST], 'malformed hats are left out');
    assert.deepEqual(hostile.hats?.get('__proto__'), [{ uri: 'urn:a', title: 'A' }], 'any key is an ordinary JID');
    assert.equal(hostile.hats?.has('x@y'), false);
    sim.command({ op: 'get' });
    const result = sim.result;
    assert.ok(result.ok);
    assert.deepEqual(result.room?.hats, [{ jid: JULIET_BARE, hats: [PRESENTER, HOST] }]);
  });

  it('advertises urn:xmpp:hats:0 in disco#info', () => {
    const sim = room();
    const out = to(sim.send(ROMEO, `<iq type='get' id='d' to='${ROOM}'><query xmlns='${NS.DISCO_INFO}'/></iq>`), ROMEO);
    const vars = out[0]!.getChild('query')!.getChildren('feature').map((f) => f.attrs.var);
    assert.ok(vars.includes(HATS_NS));
  });

  it('refuses malformed hat commands before the room sees them', () => {
    const sim = room();
    sim.command({ op: 'set-hats', jid: 'not a jid@', hats: [] });
    assert.equal(sim.result.ok, false);
    sim.command({ op: 'set-hats', jid: JULIET_BARE });
    assert.deepEqual(sim.result, { ok: false, error: 'bad-request', message: 'hats must be an array' });
    sim.command({ op: 'remove-hats' });
    assert.deepEqual(sim.result, { ok: false, error: 'bad-request', message: 'jid is required' });
  });
});
