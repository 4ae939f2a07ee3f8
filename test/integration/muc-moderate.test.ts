/*
 * XEP-0425 (Moderated Message Retraction) on a cluster of two gateways and two room workers:
 * a moderator on one gateway retracts a participant's message (by the stanza-id the room
 * reflected it with) for occupants on both gateways: the §3.1 notice reaches everyone, the
 * iq is answered, a late joiner's history no longer holds the message, and a MAM query
 * returns the §4 tombstone in its place; a room keeping no history (the worker confirms the
 * id in the archive inside the turn) retracts the same way, and an unknown id gets
 * item-not-found.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startMucCluster, type MucCluster } from '@parley/testkit';
import type { Element } from 'ltx';
import type { ScansionClient } from '../scansion/lib/client.js';
import { MucClients } from './support/muc-clients.js';

const MODERATE = 'urn:xmpp:message-moderate:1';
const RETRACT = 'urn:xmpp:message-retract:1';
const MAM = 'urn:xmpp:mam:2';
const SID = 'urn:xmpp:sid:0';

let cluster: MucCluster | undefined;
const muc = new MucClients(() => cluster);

before(async () => {
  cluster = await startMucCluster({ name: 'muc-moderate', shards: 4 });
});
after(async () => {
  await muc.disconnectAll();
  await cluster?.stop();
});

const connect = (user: string, gateway: number) => muc.connect(user, gateway);
const next = (client: ScansionClient, match: (el: Element) => boolean, timeoutMs?: number) => muc.next(client, match, timeoutMs);
const join = (client: ScansionClient, room: string, nick: string) => muc.join(client, room, nick);
const iq = (client: ScansionClient, id: string, xml: string) => muc.iq(client, id, xml);
async function say(client: ScansionClient, room: string, id: string): Promise<string> {
  client.send(`<message type='groupchat' to='${room}' id='${id}'><body>${id}</body></message>`);
  const el = await next(client, (m) => m.name === 'message' && m.attrs.id === id && m.attrs.type === 'groupchat');
  return String(el.getChild('stanza-id', SID)!.attrs.id);
}
const moderate = (room: string, id: string, iqId: string) =>
  `<iq type='set' id='${iqId}' to='${room}'><moderate id='${id}' xmlns='${MODERATE}'><retract xmlns='${RETRACT}'/><reason>spam</reason></moderate></iq>`;
const isNotice = (room: string, id: string) => (el: Element) => el.name === 'message' && el.attrs.from === room && el.getChild('retract', RETRACT)?.attrs.id === id;

async function setUpRoom(room: string, owner: ScansionClient, others: ScansionClient[], fields = ''): Promise<void> {
  await join(owner, room, 'Owner');
  const created = await iq(owner, 'cfg', `<iq type='set' id='cfg' to='${room}'><query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#roomconfig</value></field>${fields}</x></query></iq>`);
  assert.equal(created.attrs.type, 'result');
  for (const [k, c] of others.entries()) await join(c, room, `User${k}`);
}

/** The MAM results of `room` for `client`: the forwarded messages, by archive id. */
async function archive(client: ScansionClient, room: string, qid: string): Promise<Map<string, Element>> {
  const results = new Map<string, Element>();
  client.send(`<iq type='set' id='${qid}' to='${room}'><query xmlns='${MAM}' queryid='${qid}'/></iq>`);
  for (;;) {
    const el = await next(client, (e) => (e.name === 'message' && e.getChild('result', MAM)?.attrs.queryid === qid) || (e.name === 'iq' && e.attrs.id === qid));
    if (el.name === 'iq') return results;
    const r = el.getChild('result', MAM)!;
    results.set(String(r.attrs.id), r.getChild('forwarded')!.getChild('message')!);
  }
}

test('a moderator retracts a message for occupants on both gateways; history and archive follow', async () => {
  const room = 'modroom@conference.localhost';
  const owner = await connect('mod-owner', 0);
  const alice = await connect('mod-alice', 1);
  const bob = await connect('mod-bob', 0);
  await setUpRoom(room, owner, [alice, bob]);
  const spam = await say(alice, room, 'spam');
  const keep = await say(alice, room, 'keep');
  const forbidden = await iq(alice, 'm0', moderate(room, spam, 'm0'));
  assert.equal(forbidden.attrs.type, 'error');
  assert.ok(forbidden.getChild('error')!.getChild('forbidden'));

  owner.send(moderate(room, spam, 'm1'));
  const notices = await Promise.all([owner, alice, bob].map((c) => next(c, isNotice(room, spam))));
  for (const n of notices) {
    const moderated = n.getChild('retract', RETRACT)!.getChild('moderated', MODERATE)!;
    assert.equal(moderated.attrs.by, `${room}/Owner`);
    assert.equal(n.getChild('retract', RETRACT)!.getChildText('reason'), 'spam');
    assert.equal(n.getChild('stanza-id', SID)!.attrs.by, room);
  }
  assert.equal(new Set(notices.map((n) => n.getChild('stanza-id', SID)!.attrs.id)).size, 1, 'one stanza-id for everyone');
  const result = await next(owner, (el) => el.name === 'iq' && el.attrs.id === 'm1');
  assert.equal(result.attrs.type, 'result');

  // A late joiner on the other gateway: the history holds 'keep' only.
  const late = await connect('mod-late', 1);
  late.send(`<presence to='${room}/Late'><x xmlns='http://jabber.org/protocol/muc'/></presence>`);
  // XEP-0045 §7.2.15: the history, then the subject.
  const bodies: string[] = [];
  for (;;) {
    const el = await next(late, (e) => e.name === 'message');
    if (el.getChild('subject') !== undefined) break;
    if (el.getChild('body') !== undefined) bodies.push(el.getChildText('body') ?? '');
  }
  assert.deepEqual(bodies, ['keep']);

  const mam = await archive(late, room, 'q1');
  const tomb = mam.get(spam)!;
  assert.ok(tomb, 'the retracted message keeps its archive id');
  assert.equal(tomb.getChild('body'), undefined);
  assert.equal(tomb.getChild('retracted', RETRACT)!.getChild('moderated', MODERATE)!.attrs.by, `${room}/Owner`);
  assert.equal(mam.get(keep)!.getChildText('body'), 'keep');
  assert.ok([...mam.values()].some((m) => m.getChild('retract', RETRACT)?.attrs.id === spam), 'the notice is archived');
});

test('a room without history: the worker finds the id in the archive; an unknown id gets item-not-found', async () => {
  const room = 'modnohist@conference.localhost';
  const owner = await connect('modn-owner', 1);
  const alice = await connect('modn-alice', 0);
  await setUpRoom(room, owner, [alice], `<field var='muc#roomconfig_historylength'><value>0</value></field>`);
  const spam = await say(alice, room, 'spam2');
  const unknown = await iq(owner, 'u1', moderate(room, 'no-such-id', 'u1'));
  assert.equal(unknown.attrs.type, 'error');
  assert.ok(unknown.getChild('error')!.getChild('item-not-found'));
  owner.send(moderate(room, spam, 'm2'));
  await Promise.all([owner, alice].map((c) => next(c, isNotice(room, spam))));
  assert.equal((await next(owner, (el) => el.name === 'iq' && el.attrs.id === 'm2')).attrs.type, 'result');
  const mam = await archive(alice, room, 'q2');
  assert.ok(mam.get(spam)!.getChild('retracted', RETRACT));
  assert.equal(mam.get(spam)!.getChild('body'), undefined);
});
