/*
 * XEP-0313 account archives on two gateways (sender on one, recipient on the other): both
 * archives hold a message under the stanza-id the recipient saw (and the sender's other
 * resource saw in its `<sent/>` carbon), RSM paging (`max` 2, `after`, `before`, the last
 * page), the `with` filter (bare and full JID), a `<no-store/>` message is absent and carries
 * no stanza-id, a forged stanza-id is removed, an offline recipient's archive, preferences
 * (`never`, an `always` list), only the account may query its archive, the bound
 * `mam.maxMessagesPerAccount` (trimmed with its id index), and account deletion; #extended
 * (after-id, before-id, ids, flipped pages, metadata) and paging through 10,000 both ways.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { GatewayProcess } from '@parley/testkit';
import { xml } from '@xmpp/client';
import type { Element } from 'ltx';
import { startCluster, printGatewayLogsOnFailure, type TestCluster } from './support/cluster.js';
import { NS } from './support/names.js';
import { connectClient, isMessageWithBody, type TestClient } from './support/test-client.js';

const MAM = 'urn:xmpp:mam:2';
const RSM = 'http://jabber.org/protocol/rsm';
const SID = 'urn:xmpp:sid:0';
const FORWARD = 'urn:xmpp:forward:0';
const CARBONS = 'urn:xmpp:carbons:2';
const MAX_MESSAGES = 6;

let cluster: TestCluster | undefined;
let gwA: GatewayProcess;
let gwB: GatewayProcess;
const clients: TestClient[] = [];

printGatewayLogsOnFailure(() => cluster);

before(async () => {
  cluster = await startCluster('account-mam');
  const env = { PARLEY_MAM_MAX_MESSAGES_PER_ACCOUNT: String(MAX_MESSAGES) };
  [gwA, gwB] = await Promise.all([cluster.startGateway(env), cluster.startGateway(env)]);
  for (const u of ['alice', 'bob', 'carol', 'dave', 'erin', 'frank']) await cluster.addUser(`${u}@localhost`, 'pw');
});

after(async () => {
  await Promise.all(clients.map((c) => c.stop()));
  await cluster?.close();
});

async function login(user: string, resource: string, gw: GatewayProcess): Promise<TestClient> {
  const c = await connectClient({ service: `xmpp://127.0.0.1:${gw.c2sPort}`, username: user, password: 'pw', resource });
  clients.push(c);
  await c.send(xml('presence'));
  return c;
}

interface Answer {
  ids: string[];
  bodies: string[];
  results: Element[];
  fin: Element | undefined;
  iq: Element;
}

let queries = 0;

/** Runs a query on `to`'s archive (own when undefined) with RSM `set` children and form fields. */
async function query(c: TestClient, opts: { set?: Element[]; fields?: Record<string, string | string[]>; to?: string; flip?: boolean } = {}): Promise<Answer> {
  const qid = `q${++queries}`;
  const children: Element[] = [];
  if (opts.fields) {
    children.push(
      xml(
        'x',
        { xmlns: 'jabber:x:data', type: 'submit' },
        xml('field', { var: 'FORM_TYPE', type: 'hidden' }, xml('value', {}, MAM)),
        ...Object.entries(opts.fields).map(([k, v]) => xml('field', { var: k }, ...(Array.isArray(v) ? v : [v]).map((one) => xml('value', {}, one)))),
      ),
    );
  }
  if (opts.set) children.push(xml('set', { xmlns: RSM }, ...opts.set));
  if (opts.flip) children.push(xml('flip-page'));
  const iq = await c.iq('set', opts.to, xml('query', { xmlns: MAM, queryid: qid }, ...children));
  const results = c.received.filter((el) => el.name === 'message' && el.getChild('result', MAM)?.attrs['queryid'] === qid);
  return {
    ids: results.map((m) => String(m.getChild('result', MAM)!.attrs['id'])),
    bodies: results.map((m) => m.getChild('result', MAM)!.getChild('forwarded', FORWARD)!.getChild('message')!.getChildText('body') ?? ''),
    results,
    fin: iq.getChild('fin', MAM),
    iq,
  };
}

const rsm = (name: string, text = '') => xml(name, {}, text);
const setText = (a: Answer, name: string) => a.fin?.getChild('set', RSM)?.getChildText(name) ?? undefined;
const sidOf = (el: Element, by: string) => el.getChildren('stanza-id', SID).find((s) => s.attrs['by'] === by)?.attrs['id'] as string | undefined;

function assertError(reply: Element, condition: string): void {
  assert.equal(reply.attrs['type'], 'error', reply.toString());
  assert.ok(reply.getChild('error')?.getChild(condition, NS.stanzas), `expected <${condition}/> in ${reply.toString()}`);
}

test('account archives: both directions, one stanza-id, paging, with, hints, offline, access', async () => {
  const alice = await login('alice', 'desk', gwA);
  const alice2 = await login('alice', 'phone', gwB);
  const bob = await login('bob', 'home', gwB);
  assert.equal((await alice2.iq('set', undefined, xml('enable', { xmlns: CARBONS }))).attrs['type'], 'result');

  // Disco: the account advertises MAM and stanza ids; the form.
  const info = await alice.iq('get', 'alice@localhost', xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' }));
  const features = info.getChild('query')!.getChildren('feature').map((f) => f.attrs['var']);
  assert.ok(features.includes(MAM) && features.includes(SID) && features.includes(`${MAM}#extended`), features.join(' '));
  const form = await alice.iq('get', undefined, xml('query', { xmlns: MAM }));
  assert.deepEqual(form.getChild('query', MAM)?.getChild('x', 'jabber:x:data')?.getChildren('field').map((f) => f.attrs['var']), ['FORM_TYPE', 'with', 'start', 'end', 'before-id', 'after-id', 'ids']);

  // m1: alice → bob (bare JID), with a forged stanza-id by bob that must go.
  await alice.send(xml('message', { to: 'bob@localhost', type: 'chat', id: 'm1' }, xml('body', {}, 'm1'), xml('stanza-id', { xmlns: SID, by: 'bob@localhost', id: 'forged' })));
  const m1 = await bob.waitForStanza(isMessageWithBody('m1'));
  assert.equal(m1.getChildren('stanza-id', SID).length, 1, m1.toString());
  const id1 = sidOf(m1, 'bob@localhost')!;
  assert.ok(id1 && id1 !== 'forged', m1.toString());
  // The sender's other resource: the <sent/> carbon holds the sender's stanza-id inside (§3.5).
  const carbon = await alice2.waitForStanza((el) => el.getChild('sent', CARBONS) !== undefined);
  const inner = carbon.getChild('sent', CARBONS)!.getChild('forwarded', FORWARD)!.getChild('message')!;
  assert.equal(sidOf(inner, 'alice@localhost'), id1, carbon.toString());
  assert.equal(sidOf(m1, 'alice@localhost'), undefined, 'the recipient does not see the sender archive id');

  // m2: bob → alice's full JID on the other gateway.
  await bob.send(xml('message', { to: 'alice@localhost/desk', type: 'chat', id: 'm2' }, xml('body', {}, 'm2')));
  const m2 = await alice.waitForStanza(isMessageWithBody('m2'));
  const id2 = sidOf(m2, 'alice@localhost')!;
  assert.ok(id2, m2.toString());
  // The <received/> carbon on the other gateway carries the same stanza-id.
  const received = await alice2.waitForStanza((el) => el.getChild('received', CARBONS)?.getChild('forwarded', FORWARD)?.getChild('message')?.getChildText('body') === 'm2');
  assert.equal(sidOf(received.getChild('received', CARBONS)!.getChild('forwarded', FORWARD)!.getChild('message')!, 'alice@localhost'), id2, received.toString());
  // m3 <no-store/>: delivered without a stanza-id, archived nowhere.
  await alice.send(xml('message', { to: 'bob@localhost', type: 'chat' }, xml('body', {}, 'm3'), xml('no-store', { xmlns: 'urn:xmpp:hints' })));
  const m3 = await bob.waitForStanza(isMessageWithBody('m3'));
  assert.equal(m3.getChild('stanza-id', SID), undefined, m3.toString());
  // A headline and a body-less chat state: not archived either.
  await alice.send(xml('message', { to: 'bob@localhost', type: 'headline' }, xml('body', {}, 'h')));
  await alice.send(xml('message', { to: 'bob@localhost', type: 'chat' }, xml('active', { xmlns: 'http://jabber.org/protocol/chatstates' })));
  // m4: alice → bob, type normal.
  await alice.send(xml('message', { to: 'bob@localhost' }, xml('body', {}, 'm4')));
  const id4 = sidOf(await bob.waitForStanza(isMessageWithBody('m4')), 'bob@localhost')!;
  // m5: alice → carol, who is offline: carol's archive has it too.
  await alice.send(xml('message', { to: 'carol@localhost', type: 'chat' }, xml('body', {}, 'm5')));
  await new Promise((r) => setTimeout(r, 200));

  const all = await query(alice);
  assert.equal(all.iq.attrs['type'], 'result', all.iq.toString());
  assert.deepEqual(all.bodies, ['m1', 'm2', 'm4', 'm5']);
  assert.deepEqual(all.ids.slice(0, 3), [id1, id2, id4], 'the sender archive uses the id the recipient saw');
  assert.equal(all.fin?.attrs['complete'], 'true');
  assert.equal(setText(all, 'count'), '4');
  const fwd = all.results[1]!.getChild('result', MAM)!.getChild('forwarded', FORWARD)!;
  assert.ok(fwd.getChild('delay', 'urn:xmpp:delay')?.attrs['stamp'], 'a delay stamp');
  assert.equal(fwd.getChild('message')!.attrs['from'], 'bob@localhost/home');
  assert.equal(fwd.getChild('message')!.getChild('stanza-id', SID), undefined, 'the archived copy has no stanza-id of its own archive');

  const bobs = await query(bob);
  assert.deepEqual(bobs.ids, [id1, id2, id4]);
  assert.deepEqual(bobs.bodies, ['m1', 'm2', 'm4']);

  // Paging (§4.3): pages of 2 forwards, then the last page and the one before it.
  const p1 = await query(alice, { set: [rsm('max', '2')] });
  assert.deepEqual(p1.ids, [id1, id2]);
  assert.equal(p1.fin?.attrs['complete'], undefined);
  assert.deepEqual([setText(p1, 'first'), setText(p1, 'last')], [id1, id2]);
  const p2 = await query(alice, { set: [rsm('max', '2'), rsm('after', id2)] });
  assert.deepEqual(p2.bodies, ['m4', 'm5']);
  assert.equal(p2.fin?.attrs['complete'], 'true');
  const last = await query(alice, { set: [rsm('max', '2'), rsm('before')] });
  assert.deepEqual(last.bodies, ['m4', 'm5']);
  assert.equal(last.fin?.attrs['complete'], undefined);
  const prev = await query(alice, { set: [rsm('max', '2'), rsm('before', id4)] });
  assert.deepEqual(prev.ids, [id1, id2]);
  assert.equal(prev.fin?.attrs['complete'], 'true');
  assertError((await query(alice, { set: [rsm('after', 'no-such-id')] })).iq, 'item-not-found');

  // with (§4.1.1): a bare JID matches every resource, a full JID only itself.
  assert.deepEqual((await query(alice, { fields: { with: 'bob@localhost' } })).bodies, ['m1', 'm2', 'm4']);
  assert.deepEqual((await query(alice, { fields: { with: 'bob@localhost/home' } })).bodies, ['m2']);
  assert.deepEqual((await query(alice, { fields: { with: 'carol@localhost' } })).bodies, ['m5']);
  assertError((await query(alice, { fields: { with: 'not a jid@' } })).iq, 'bad-request');
  assertError((await query(alice, { fields: { unknown: 'x' } })).iq, 'feature-not-implemented');

  // Only the account itself: another account gets service-unavailable (as Prosody).
  assertError((await query(bob, { to: 'alice@localhost' })).iq, 'service-unavailable');
  assert.equal(bob.received.filter((el) => el.getChild('result', MAM) !== undefined && el.getChild('result', MAM)!.getChild('forwarded', FORWARD)?.getChild('message')?.getChildText('body') === 'm5').length, 0);

  // The offline recipient: the stored message carries the id of carol's archive.
  const carol = await login('carol', 'c', gwB);
  const m5 = await carol.waitForStanza(isMessageWithBody('m5'));
  const carols = await query(carol);
  assert.deepEqual(carols.bodies, ['m5']);
  assert.equal(carols.ids[0], sidOf(m5, 'carol@localhost'));
});

test('account archives: preferences', async () => {
  const dave = await login('dave', 'd', gwA);
  const erin = await login('erin', 'e', gwB);
  const empty = await dave.iq('get', undefined, xml('prefs', { xmlns: MAM }));
  assert.equal(empty.getChild('prefs', MAM)?.attrs['default'], 'always', empty.toString());

  const set = await dave.iq('set', undefined, xml('prefs', { xmlns: MAM, default: 'never' }, xml('always'), xml('never')));
  assert.equal(set.getChild('prefs', MAM)?.attrs['default'], 'never', set.toString());
  await erin.send(xml('message', { to: 'dave@localhost', type: 'chat' }, xml('body', {}, 'p1')));
  const p1 = await dave.waitForStanza(isMessageWithBody('p1'));
  assert.equal(p1.getChild('stanza-id', SID), undefined, 'not archived: no stanza-id');
  await dave.send(xml('message', { to: 'erin@localhost', type: 'chat' }, xml('body', {}, 'p2')));
  await erin.waitForStanza(isMessageWithBody('p2'));

  // never by default, but always with erin.
  const withList = await dave.iq('set', undefined, xml('prefs', { xmlns: MAM, default: 'never' }, xml('always', {}, xml('jid', {}, 'erin@localhost')), xml('never')));
  assert.deepEqual(withList.getChild('prefs', MAM)!.getChild('always')!.getChildren('jid').map((j) => j.getText()), ['erin@localhost']);
  await erin.send(xml('message', { to: 'dave@localhost', type: 'chat' }, xml('body', {}, 'p3')));
  assert.ok(sidOf(await dave.waitForStanza(isMessageWithBody('p3')), 'dave@localhost'));
  // roster: erin is not in dave's roster.
  await dave.iq('set', undefined, xml('prefs', { xmlns: MAM, default: 'roster' }));
  await erin.send(xml('message', { to: 'dave@localhost', type: 'chat' }, xml('body', {}, 'p4')));
  assert.equal(sidOf(await dave.waitForStanza(isMessageWithBody('p4')), 'dave@localhost'), undefined);

  assert.deepEqual((await query(dave)).bodies, ['p3']);
  assert.deepEqual((await query(erin)).bodies, ['p1', 'p2', 'p3', 'p4'], "erin's own archive follows erin's preferences");
  const read = await dave.iq('get', undefined, xml('prefs', { xmlns: MAM }));
  assert.equal(read.getChild('prefs', MAM)?.attrs['default'], 'roster');

  assertError(await dave.iq('set', undefined, xml('prefs', { xmlns: MAM, default: 'sometimes' })), 'bad-request');
  assertError(await dave.iq('set', undefined, xml('prefs', { xmlns: MAM, default: 'always' }, xml('never', {}, xml('jid', {}, '@@')))), 'jid-malformed');
  assertError(await erin.iq('get', 'dave@localhost', xml('prefs', { xmlns: MAM })), 'service-unavailable');
});

test('account archives: bounded, and deleted with the account', async () => {
  const frank = await login('frank', 'f', gwA);
  const erin = clients.find((c) => c.bare === 'erin@localhost')!;
  for (let i = 1; i <= MAX_MESSAGES + 3; i++) {
    await erin.send(xml('message', { to: 'frank@localhost', type: 'chat' }, xml('body', {}, `b${i}`)));
    await frank.waitForStanza(isMessageWithBody(`b${i}`));
  }
  const db = cluster!.db;
  const keys = cluster!.keys;
  assert.equal(await db.xlen(keys.mamArchive('frank@localhost')), MAX_MESSAGES);
  assert.equal(await db.hlen(keys.mamArchiveIndex('frank@localhost')), MAX_MESSAGES);
  const bounded = await query(frank);
  assert.deepEqual(bounded.bodies, ['b4', 'b5', 'b6', 'b7', 'b8', 'b9']);

  await frank.stop();
  const deleted = await cluster!.ctl(['user', 'delete', 'frank@localhost']);
  assert.equal(deleted.code, 0, deleted.stderr);
  assert.equal(await db.exists(keys.mamArchive('frank@localhost'), keys.mamArchiveIndex('frank@localhost')), 0);
  // dave set preferences and archived p3: both go with the account.
  const dave = clients.find((c) => c.bare === 'dave@localhost')!;
  assert.equal(await db.exists(keys.mamPrefs('dave@localhost'), keys.mamArchive('dave@localhost')), 2);
  await dave.stop();
  assert.equal((await cluster!.ctl(['user', 'delete', 'dave@localhost'])).code, 0);
  assert.equal(await db.exists(keys.mamPrefs('dave@localhost'), keys.mamArchive('dave@localhost'), keys.mamArchiveIndex('dave@localhost')), 0);
});

test('measure: a page of 50 over XMPP at 10,000 archived messages', async () => {
  const N = 10_000;
  const owner = 'erin@localhost';
  const db = cluster!.db;
  const keys = cluster!.keys;
  await db.del(keys.mamArchive(owner), keys.mamArchiveIndex(owner));
  // Filled directly in the store's format (keys.ts mamArchive): what 10,000 appends leave.
  const ids: string[] = [];
  for (let i = 0; i < N; i += 1000) {
    const p = db.pipeline();
    for (let k = i; k < i + 1000; k++) {
      const id = `fill-${k}`;
      ids.push(id);
      p.xadd(keys.mamArchive(owner), '*', 's', id, 'w', 'bob@localhost/home', 'x', `<message xmlns="jabber:client" from="bob@localhost/home" to="${owner}/e" type="chat" id="f${k}"><body>A typical chat line of about sixty characters, number ${k}.</body></message>`);
    }
    const replies = (await p.exec()) ?? [];
    const h = db.pipeline();
    replies.forEach(([, sid], j) => h.hset(keys.mamArchiveIndex(owner), ids[i + j]!, String(sid)));
    await h.exec();
  }
  const erin = clients.find((c) => c.bare === owner)!;
  const timed = async (opts: Parameters<typeof query>[1], runs = 20) => {
    let answer: Answer | undefined;
    const started = process.hrtime.bigint();
    for (let r = 0; r < runs; r++) answer = await query(erin, opts);
    return { ms: Number(process.hrtime.bigint() - started) / 1e6 / runs, answer: answer! };
  };
  const first = await timed({});
  assert.equal(first.answer.ids.length, 50, 'mam.maxQueryResults is the default page');
  assert.deepEqual(first.answer.ids.slice(0, 2), ['fill-0', 'fill-1']);
  assert.equal(setText(first.answer, 'count'), String(N));
  const lastPage = await timed({ set: [rsm('max', '50'), rsm('before')] });
  assert.equal(lastPage.answer.ids.at(-1), `fill-${N - 1}`);
  const middle = await timed({ set: [rsm('max', '50'), rsm('after', 'fill-5000')] });
  assert.equal(middle.answer.ids[0], 'fill-5001');
  console.log(`# account MAM over XMPP: page of 50 at ${N} messages, mean of 20 round trips: first ${first.ms.toFixed(1)} ms, last ${lastPage.ms.toFixed(1)} ms, after an id ${middle.ms.toFixed(1)} ms`);
  assert.ok(first.ms < 500, `${first.ms} ms`);
});

test('#extended on 10,000 archived messages: after-id/before-id, ids, flipped pages, metadata; paged through both ways', async () => {
  const owner = 'erin@localhost';
  const erin = clients.find((c) => c.bare === owner)!;
  const N = 10_000;
  // The archive the measure test filled: fill-0 .. fill-9999, oldest first.
  const between = await query(erin, { fields: { 'after-id': 'fill-5000', 'before-id': 'fill-5004' } });
  assert.deepEqual(between.ids, ['fill-5001', 'fill-5002', 'fill-5003']);
  assert.equal(between.fin?.attrs['complete'], 'true');
  assert.equal(setText(between, 'count'), undefined, 'no count for an id-bounded page');
  // before-id does not turn the page (RSM before does): the oldest page below it.
  const below = await query(erin, { fields: { 'before-id': 'fill-5000' }, set: [rsm('max', '3')] });
  assert.deepEqual(below.ids, ['fill-0', 'fill-1', 'fill-2']);
  assert.equal(below.fin?.attrs['complete'], undefined);
  // Combined with RSM before: the newest page below after-id's bound.
  const newest = await query(erin, { fields: { 'after-id': 'fill-9990' }, set: [rsm('max', '3'), rsm('before')] });
  assert.deepEqual(newest.ids, ['fill-9997', 'fill-9998', 'fill-9999']);
  // ids: those messages, oldest first; with a time bound too.
  const picked = await query(erin, { fields: { ids: ['fill-9000', 'fill-10', 'fill-5000', 'fill-10'] } });
  assert.deepEqual(picked.ids, ['fill-10', 'fill-5000', 'fill-9000']);
  assert.equal(setText(picked, 'count'), '3');
  assertError((await query(erin, { fields: { ids: ['fill-10', 'nope'] } })).iq, 'item-not-found');
  assertError((await query(erin, { fields: { 'after-id': 'nope' } })).iq, 'item-not-found');
  assertError((await query(erin, { fields: { ids: Array.from({ length: 51 }, (_, i) => `fill-${i}`) } })).iq, 'bad-request');
  // Flipped: the same page, sent newest first; <fin/> unchanged.
  const plain = await query(erin, { set: [rsm('max', '4'), rsm('before')] });
  const flipped = await query(erin, { set: [rsm('max', '4'), rsm('before')], flip: true });
  assert.deepEqual(flipped.ids, [...plain.ids].reverse());
  assert.equal(setText(flipped, 'first'), setText(plain, 'first'));
  assert.equal(setText(flipped, 'last'), setText(plain, 'last'));
  // §5 metadata.
  const meta = (await erin.iq('get', undefined, xml('metadata', { xmlns: MAM }))).getChild('metadata', MAM);
  assert.equal(meta?.getChild('start')?.attrs['id'], 'fill-0', meta?.toString());
  assert.equal(meta?.getChild('end')?.attrs['id'], `fill-${N - 1}`);
  assert.match(String(meta?.getChild('end')?.attrs['timestamp']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  const bob = clients.find((c) => c.bare === 'bob@localhost')!;
  assertError(await bob.iq('get', owner, xml('metadata', { xmlns: MAM })), 'service-unavailable');

  // Paging through all 10,000 both ways with after-id / before-id (pages of 50): no gap, no duplicate.
  const started = process.hrtime.bigint();
  const forward: string[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await query(erin, { ...(cursor ? { fields: { 'after-id': cursor } } : {}), set: [rsm('max', '50')] });
    forward.push(...page.ids);
    cursor = page.ids.at(-1);
    if (page.fin?.attrs['complete'] === 'true') break;
    assert.ok(forward.length < N + 50, 'paging ends');
  }
  const backward: string[] = [];
  cursor = undefined;
  for (;;) {
    const page = await query(erin, { ...(cursor ? { fields: { 'before-id': cursor } } : {}), set: [rsm('max', '50'), rsm('before')], flip: true });
    backward.push(...page.ids);
    cursor = page.ids.at(-1);
    if (page.fin?.attrs['complete'] === 'true') break;
    assert.ok(backward.length < N + 50, 'paging ends');
  }
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const expected = Array.from({ length: N }, (_, i) => `fill-${i}`);
  assert.deepEqual(forward, expected);
  assert.deepEqual(backward, [...expected].reverse(), 'flipped pages walked backwards: newest first throughout');
  console.log(`# account MAM #extended: 2 x ${N / 50} pages of 50 (after-id forward, before-id + flip backward) in ${ms.toFixed(0)} ms`);
});
