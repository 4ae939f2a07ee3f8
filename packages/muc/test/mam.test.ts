// XEP-0313 for rooms, the pure part (features/mam.ts): what is archived, who may query,
// query parsing and errors, and the result format. The Redis side is tested on a cluster
// (test/integration/muc-mam.test.ts).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Element } from 'ltx';
import { NS } from '@parley/xml';
import { archiveResults, mamQueryForm, parseArchiveQuery, type ArchiveEntry, type ArchiveQuery, type Effect } from '@parley/muc';
import { parseOwnElement } from '@parley/xml';
import { JULIET, ROMEO, ROOM, ROSALINE, Sim, errorCondition, to } from './harness.js';

const MAM = 'urn:xmpp:mam:2';
const RSM = 'http://jabber.org/protocol/rsm';

function appended(effects: readonly Effect[]): ArchiveEntry[] {
  return effects.flatMap((e) => (e.kind === 'archive-append' ? [e.entry] : []));
}
function queries(effects: readonly Effect[]): ArchiveQuery[] {
  return effects.flatMap((e) => (e.kind === 'archive-query' ? [e.query] : []));
}
function room(fields = ''): Sim {
  const sim = new Sim();
  sim.create(ROMEO, 'Romeo', fields);
  sim.join(JULIET, 'Juliet');
  return sim;
}
const query = (inner = '', attrs = "queryid='q1'") => `<iq type='set' id='mq' to='${ROOM}'><query xmlns='${MAM}' ${attrs}>${inner}</query></iq>`;
const form = (fields: string) => `<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>${MAM}</value></field>${fields}</x>`;

describe('XEP-0313 room archive: what is archived', () => {
  it('archives a groupchat message with a body once, with the stanza-id as archive id, the sender and the time', () => {
    const sim = room();
    const out = sim.send(JULIET, `<message type='groupchat' to='${ROOM}' id='m1'><body>hello</body></message>`);
    const [entry, ...rest] = appended(sim.effects);
    assert.ok(entry);
    assert.equal(rest.length, 0, 'one entry, not one per recipient (§6.2.2)');
    const reflected = to(out, ROMEO)[0]!;
    assert.equal(entry.id, reflected.getChild('stanza-id', 'urn:xmpp:sid:0')!.attrs.id);
    assert.equal(entry.nick, 'Juliet');
    assert.equal(entry.jid, 'user2@localhost');
    assert.equal(entry.at, sim.ctx.now);
    assert.ok(entry.occupantId);
    assert.doesNotMatch(entry.xml, /stanza-id/, 'the room stanza-id is not stored in the message');
    assert.doesNotMatch(entry.xml, / to=/, 'stored without a to');
    assert.match(entry.xml, /from="room@conference.localhost\/Juliet"/);
  });

  it('respects XEP-0334 hints: no-store and no-permanent-store are not archived, store without body is', () => {
    const sim = room();
    sim.send(JULIET, `<message type='groupchat' to='${ROOM}'><body>x</body><no-store xmlns='urn:xmpp:hints'/></message>`);
    assert.equal(appended(sim.effects).length, 0);
    sim.send(JULIET, `<message type='groupchat' to='${ROOM}'><body>x</body><no-permanent-store xmlns='urn:xmpp:hints'/></message>`);
    assert.equal(appended(sim.effects).length, 0);
    sim.send(JULIET, `<message type='groupchat' to='${ROOM}'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>`);
    assert.equal(appended(sim.effects).length, 0, 'a chat state is not archived');
    sim.send(JULIET, `<message type='groupchat' to='${ROOM}'><store xmlns='urn:xmpp:hints'/><x xmlns='urn:example'/></message>`);
    assert.equal(appended(sim.effects).length, 1);
  });

  it('archives subject changes (§6.2.2), not private messages', () => {
    const sim = room();
    sim.send(ROMEO, `<message type='groupchat' to='${ROOM}'><subject>topic</subject></message>`);
    assert.equal(appended(sim.effects).length, 1);
    sim.send(ROMEO, `<message type='chat' to='${ROOM}/Juliet'><body>pm</body></message>`);
    assert.equal(appended(sim.effects).length, 0);
  });

  it('archives nothing and does not advertise urn:xmpp:mam:2 when muc#roomconfig_enablearchiving is off', () => {
    const sim = room();
    const disco = () => to(sim.send(ROMEO, `<iq type='get' id='d' to='${ROOM}'><query xmlns='${NS.DISCO_INFO}'/></iq>`), ROMEO)[0]!;
    const features = () => disco().getChild('query')!.getChildren('feature').map((f) => f.attrs.var);
    assert.ok(features().includes(MAM), 'on by default');
    assert.ok(!features().includes(`${MAM}#extended`));
    sim.configure(ROMEO, `<field var='muc#roomconfig_enablearchiving'><value>0</value></field>`);
    assert.equal(sim.room!.config.archiving, false);
    assert.ok(!features().includes(MAM));
    sim.send(JULIET, `<message type='groupchat' to='${ROOM}'><body>hello</body></message>`);
    assert.equal(appended(sim.effects).length, 0);
    sim.send(JULIET, query());
    assert.equal(queries(sim.effects)[0]?.enabled, false, 'a query is still answered (empty), as Prosody 0.12');
  });

  it('lists the field in the configuration form, and refuses a non-boolean', () => {
    const sim = room();
    const formOut = to(sim.send(ROMEO, `<iq type='get' id='f' to='${ROOM}'><query xmlns='${NS.MUC_OWNER}'/></iq>`), ROMEO)[0]!;
    const field = formOut.getChild('query')!.getChild('x')!.getChildren('field').find((f) => f.attrs.var === 'muc#roomconfig_enablearchiving');
    assert.equal(field?.getChildText('value'), '1');
    const bad = to(sim.configure(ROMEO, `<field var='muc#roomconfig_enablearchiving'><value>maybe</value></field>`), ROMEO)[0];
    assert.equal(errorCondition(bad), 'bad-request');
  });
});

describe('XEP-0313 room archive: queries', () => {
  it('turns a query into an archive-query effect with its filters, paging and the requester', () => {
    const sim = room();
    const out = sim.send(
      JULIET,
      query(form(`<field var='start'><value>2026-01-01T00:00:00Z</value></field><field var='with'><value>${ROOM}/Romeo</value></field>`) + `<set xmlns='${RSM}'><max>2</max><after>abc</after></set>`),
    );
    assert.equal(out.length, 0, 'the worker answers');
    const [q] = queries(sim.effects);
    assert.ok(q);
    assert.equal(q.queryId, 'q1');
    assert.equal(q.iqId, 'mq');
    assert.equal(q.to, JULIET);
    assert.deepEqual(q.route, { gatewayId: 'gw1', sessionId: `s:${JULIET}` });
    assert.equal(q.start, Date.UTC(2026, 0, 1));
    assert.equal(q.withNick, 'Romeo');
    assert.equal(q.withJid, undefined);
    assert.equal(q.max, 2);
    assert.equal(q.after, 'abc');
    assert.equal(q.realJids, false, 'a participant of a semi-anonymous room');
    assert.equal(q.enabled, true);
  });

  it('caps <max/> at the configured maximum and takes it as the default; empty <before/> asks for the last page', () => {
    const sim = room();
    sim.ctx.archiveMaxResults = 5;
    sim.send(JULIET, query(`<set xmlns='${RSM}'><max>1000</max><before/></set>`));
    assert.equal(queries(sim.effects)[0]?.max, 5);
    assert.equal(queries(sim.effects)[0]?.before, '');
    sim.send(JULIET, query());
    assert.equal(queries(sim.effects)[0]?.max, 5);
  });

  it('lets a non-occupant query an open room, refuses outcasts and non-members of members-only rooms (§6.2.2)', () => {
    const sim = room();
    sim.send(ROSALINE, query());
    assert.equal(queries(sim.effects).length, 1, 'non-occupant of an open room');
    sim.send(ROMEO, `<iq type='set' id='ban' to='${ROOM}'><query xmlns='${NS.MUC_ADMIN}'><item affiliation='outcast' jid='user3@localhost'/></query></iq>`);
    assert.equal(errorCondition(to(sim.send(ROSALINE, query()), ROSALINE)[0]), 'forbidden');
    const mo = room(`<field var='muc#roomconfig_membersonly'><value>1</value></field>`);
    const refused = to(mo.send(ROSALINE, query()), ROSALINE)[0]!;
    assert.equal(errorCondition(refused), 'forbidden');
    assert.equal(refused.getChild('error')!.attrs.type, 'auth');
    assert.equal(queries(mo.effects).length, 0);
    mo.send(ROMEO, `<iq type='set' id='mem' to='${ROOM}'><query xmlns='${NS.MUC_ADMIN}'><item affiliation='member' jid='user3@localhost'/></query></iq>`);
    mo.send(ROSALINE, query());
    assert.equal(queries(mo.effects).length, 1, 'a member may');
  });

  it('answers bad-request and feature-not-implemented as §4 asks', () => {
    const sim = room();
    const cases: [string, string][] = [
      [query(`<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>urn:xmpp:mam:1</value></field></x>`), 'bad-request'],
      [query(form(`<field var='start'><value>yesterday</value></field>`)), 'bad-request'],
      [query(form(`<field var='with'><value>@@</value></field>`)), 'bad-request'],
      [query(`<set xmlns='${RSM}'><max>-1</max></set>`), 'bad-request'],
      [query(`<set xmlns='${RSM}'><after>${'a'.repeat(300)}</after></set>`), 'bad-request'],
      [query('', `queryid='${'q'.repeat(300)}'`), 'bad-request'],
      [query(form(`<field var='{urn:example}fulltext'><value>x</value></field>`)), 'feature-not-implemented'],
      [query(form(`<field var='after-id'><value>x</value></field>`)), 'feature-not-implemented'],
      [query('<flip-page/>'), 'feature-not-implemented'],
      [query(form(`<field var='with'><value>user@localhost</value></field>`)), 'forbidden'],
    ];
    for (const [stanza, condition] of cases) {
      const reply = to(sim.send(JULIET, stanza), JULIET)[0];
      assert.equal(errorCondition(reply), condition, stanza);
      assert.equal(queries(sim.effects).length, 0);
    }
  });

  it('lets those who see real JIDs filter by one (bare JID of the sender)', () => {
    const sim = room();
    sim.send(ROMEO, query(form(`<field var='with'><value>user2@localhost/juliet</value></field>`)));
    const [q] = queries(sim.effects);
    assert.equal(q?.withJid, 'user2@localhost');
    assert.equal(q?.realJids, true, 'a moderator');
  });

  it('answers the query form (§4.1.4) with with/start/end', () => {
    const sim = room();
    const reply = to(sim.send(ROSALINE, `<iq type='get' id='g' to='${ROOM}'><query xmlns='${MAM}'/></iq>`), ROSALINE)[0]!;
    assert.equal(reply.attrs.type, 'result');
    const x = reply.getChild('query', MAM)!.getChild('x', 'jabber:x:data')!;
    assert.deepEqual(x.getChildren('field').map((f) => f.attrs.var), ['FORM_TYPE', 'with', 'start', 'end']);
  });

  it('answers item-not-found for a query to a room that does not exist', () => {
    const sim = new Sim();
    const reply = to(sim.send(ROSALINE, query()), ROSALINE)[0];
    assert.equal(errorCondition(reply), 'item-not-found');
  });
});

describe('XEP-0313 #extended parsing (accounts; rooms without extended keep refusing it)', () => {
  const parse = (inner: string, extended = true) =>
    parseArchiveQuery(parseOwnElement(`<query xmlns='${MAM}' queryid='x'>${inner}</query>`, NS.CLIENT), { maxResults: 3, extended });
  it('reads after-id, before-id, ids and flip-page', () => {
    const r = parse(`${form(`<field var='after-id'><value>a1</value></field><field var='before-id'><value>b1</value></field>`)}<flip-page/>`);
    assert.ok(!('refusal' in r));
    assert.equal(r.afterId, 'a1');
    assert.equal(r.beforeId, 'b1');
    assert.equal(r.flip, true);
    const ids = parse(form(`<field var='ids'><value>i1</value><value> i2 </value><value></value></field>`));
    assert.ok(!('refusal' in ids));
    assert.deepEqual(ids.ids, ['i1', 'i2']);
  });
  it('bounds ids by the page size and ids by length (bad-request); without extended: feature-not-implemented', () => {
    const many = parse(form(`<field var='ids'>${['1', '2', '3', '4'].map((v) => `<value>${v}</value>`).join('')}</field>`));
    assert.ok('refusal' in many && many.refusal.condition === 'bad-request');
    const long = parse(form(`<field var='after-id'><value>${'a'.repeat(300)}</value></field>`));
    assert.ok('refusal' in long && long.refusal.condition === 'bad-request');
    for (const inner of [form(`<field var='ids'><value>i1</value></field>`), form(`<field var='before-id'><value>b</value></field>`), '<flip-page/>']) {
      const r = parse(inner, false);
      assert.ok('refusal' in r && r.refusal.condition === 'feature-not-implemented', inner);
    }
  });
  it('lists before-id, after-id and an open list-multi ids in the extended form only', () => {
    const vars = (q: Element) => (q.getChild('x', 'jabber:x:data')?.getChildren('field') ?? []).map((f) => String(f.attrs.var));
    assert.deepEqual(vars(mamQueryForm()), ['FORM_TYPE', 'with', 'start', 'end']);
    const ext = mamQueryForm(true);
    assert.deepEqual(vars(ext), ['FORM_TYPE', 'with', 'start', 'end', 'before-id', 'after-id', 'ids']);
    const ids = ext.getChild('x', 'jabber:x:data')?.getChildren('field').find((f) => f.attrs.var === 'ids');
    assert.equal(ids?.attrs.type, 'list-multi');
    assert.ok(ids?.getChild('validate', 'http://jabber.org/protocol/xdata-validate')?.getChild('open'));
  });
});

describe('XEP-0313 room archive: result format', () => {
  const entry = (id: string, body: string): ArchiveEntry => ({
    id,
    at: Date.UTC(2026, 0, 1, 10, 0, 0),
    xml: `<message xmlns="jabber:client" from="${ROOM}/Juliet" type="groupchat" id="m-${id}"><body>${body}</body><x xmlns="${NS.MUC_USER}"><item jid="forged@evil"/></x></message>`,
    nick: 'Juliet',
    jid: 'user2@localhost',
  });
  const q = (over: Partial<ArchiveQuery> = {}): ArchiveQuery => ({
    room: ROOM,
    to: ROSALINE,
    route: { gatewayId: 'gw1', sessionId: 's' },
    iqId: 'mq',
    queryId: 'Q',
    max: 50,
    realJids: false,
    enabled: true,
    ...over,
  });

  it('wraps each entry in result/forwarded/delay, from the room, without to, stripping a sender x, then the fin iq', () => {
    const out = archiveResults(q(), { entries: [entry('a', 'one'), entry('b', 'two')], complete: true, count: 2 }, undefined);
    assert.equal(out.length, 3);
    const [first, , fin] = out as [Element, Element, Element];
    assert.equal(first.attrs.from, ROOM);
    assert.equal(first.attrs.to, ROSALINE);
    const result = first.getChild('result', MAM)!;
    assert.deepEqual({ id: result.attrs.id, queryid: result.attrs.queryid }, { id: 'a', queryid: 'Q' });
    const fwd = result.getChild('forwarded', 'urn:xmpp:forward:0')!;
    assert.equal(fwd.getChild('delay', NS.DELAY)!.attrs.stamp, '2026-01-01T10:00:00Z');
    const msg = fwd.getChild('message', NS.CLIENT)!;
    assert.equal(msg.attrs.to, undefined);
    assert.equal(msg.attrs.from, `${ROOM}/Juliet`);
    assert.equal(msg.getChildText('body'), 'one');
    assert.equal(msg.getChild('x', NS.MUC_USER), undefined, 'no real JID for this requester, and the forged one is gone');
    assert.equal(fin.name, 'iq');
    assert.deepEqual({ type: fin.attrs.type, id: fin.attrs.id, to: fin.attrs.to }, { type: 'result', id: 'mq', to: ROSALINE });
    const f = fin.getChild('fin', MAM)!;
    assert.equal(f.attrs.complete, 'true');
    const set = f.getChild('set', RSM)!;
    assert.deepEqual([set.getChildText('first'), set.getChildText('last'), set.getChildText('count')], ['a', 'b', '2']);
  });

  it('adds the real JID item for requesters allowed to see it, with the sender affiliation and role now', () => {
    const sim = room();
    const out = archiveResults(q({ realJids: true }), { entries: [entry('a', 'one')], complete: false }, sim.room);
    const item = out[0]!.getChild('result')!.getChild('forwarded')!.getChild('message')!.getChild('x', NS.MUC_USER)!.getChild('item')!;
    assert.deepEqual({ ...item.attrs }, { jid: 'user2@localhost', affiliation: 'none', role: 'participant' });
    const fin = out[1]!.getChild('fin', MAM)!;
    assert.equal(fin.attrs.complete, undefined, 'not complete');
  });

  it('sends an empty set (count only) for no results, without queryid when none was given', () => {
    const out = archiveResults(q({ queryId: undefined }), { entries: [], complete: true, count: 0 }, undefined);
    assert.equal(out.length, 1);
    const set = out[0]!.getChild('fin', MAM)!.getChild('set', RSM)!;
    assert.equal(set.getChild('first'), undefined);
    assert.equal(set.getChildText('count'), '0');
  });
});
