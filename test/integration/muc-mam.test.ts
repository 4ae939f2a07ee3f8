/*
 * XEP-0313 room archives on a cluster of two gateways and two room workers: messages are
 * archived under the stanza-id the room reflected them with, queries page with RSM
 * (`<max/>`, `<after/>`, `<before/>`, the last page), an unknown RSM id gets
 * item-not-found, a `<no-store/>` message is absent, the archive is bounded at
 * `muc.archive.maxMessages` (trimmed with its id index), a members-only room refuses a
 * non-member, and destroying the room deletes its archive in the same commit.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { shardForRoom } from '@parley/bus';
import { startMucCluster, type MucCluster } from '@parley/testkit';
import type { Element } from 'ltx';
import type { ScansionClient } from '../scansion/lib/client.js';
import { MucClients } from './support/muc-clients.js';

const SHARDS = 4;
const MAX_MESSAGES = 5;
const ROOM = 'mamroom@conference.localhost';
const CLOSED = 'mamclosed@conference.localhost';
const MAM = 'urn:xmpp:mam:2';
const RSM = 'http://jabber.org/protocol/rsm';
const SID = 'urn:xmpp:sid:0';

let cluster: MucCluster | undefined;
const muc = new MucClients(() => cluster);

before(async () => {
  cluster = await startMucCluster({ name: 'muc-mam', shards: SHARDS, env: { PARLEY_MUC_ARCHIVE_MAX_MESSAGES: String(MAX_MESSAGES) } });
});

after(async () => {
  await muc.disconnectAll();
  await cluster?.stop();
});

const connect = (user: string, gateway: number) => muc.connect(user, gateway);
const next = (client: ScansionClient, match: (el: Element) => boolean, timeoutMs?: number) => muc.next(client, match, timeoutMs);
const join = (client: ScansionClient, room: string, nick: string) => muc.join(client, room, nick);
const iq = (client: ScansionClient, id: string, xml: string) => muc.iq(client, id, xml);

/** Sends a groupchat message and returns the stanza-id of its reflection to `client`. */
async function say(client: ScansionClient, id: string, extra = ''): Promise<string> {
  client.send(`<message type='groupchat' to='${ROOM}' id='${id}'><body>${id}</body>${extra}</message>`);
  const el = await next(client, (m) => m.name === 'message' && m.attrs.id === id && m.attrs.type === 'groupchat');
  return String(el.getChild('stanza-id', SID)!.attrs.id);
}

interface QueryAnswer {
  ids: string[];
  bodies: string[];
  fin: Element | undefined;
  iq: Element;
}

/** Runs an archive query on ROOM (RSM `set` inner XML) and collects its results. */
async function query(client: ScansionClient, qid: string, set = '', room = ROOM): Promise<QueryAnswer> {
  client.send(`<iq type='set' id='${qid}' to='${room}'><query xmlns='${MAM}' queryid='${qid}'>${set ? `<set xmlns='${RSM}'>${set}</set>` : ''}</query></iq>`);
  const ids: string[] = [];
  const bodies: string[] = [];
  for (;;) {
    const el = await next(client, (m) => (m.name === 'iq' && m.attrs.id === qid) || (m.name === 'message' && m.getChild('result', MAM)?.attrs.queryid === qid));
    if (el.name === 'iq') return { ids, bodies, fin: el.getChild('fin', MAM), iq: el };
    const result = el.getChild('result', MAM)!;
    ids.push(String(result.attrs.id));
    bodies.push(result.getChild('forwarded', 'urn:xmpp:forward:0')!.getChild('message')!.getChildText('body') ?? '');
  }
}

const setText = (a: QueryAnswer, name: string) => a.fin?.getChild('set', RSM)?.getChildText(name) ?? undefined;

test('room archive: ids, paging, hints, bounds, access and destruction', async () => {
  const db = cluster!.redis.client();
  const keys = cluster!.keys;
  const shard = shardForRoom(ROOM, SHARDS);
  const romeo = await connect('mamromeo', 0);
  const juliet = await connect('mamjuliet', 1);
  const rosaline = await connect('mamrosaline', 1);
  await join(romeo, ROOM, 'Romeo');
  const created = await iq(romeo, 'cfg', `<iq type='set' to='${ROOM}' id='cfg'><query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='submit'/></query></iq>`);
  assert.equal(created.attrs.type, 'result');
  await join(juliet, ROOM, 'Juliet');

  const s1 = await say(juliet, 'm1');
  await say(juliet, 'm2', `<no-store xmlns='urn:xmpp:hints'/>`);
  const s3 = await say(juliet, 'm3');
  const s4 = await say(romeo, 'm4');

  // Everything, from a non-occupant of this open room.
  const all = await query(rosaline, 'all');
  assert.equal(all.iq.attrs.type, 'result');
  assert.deepEqual(all.ids, [s1, s3, s4], 'archive ids are the reflected stanza-ids; the no-store message is absent');
  assert.deepEqual(all.bodies, ['m1', 'm3', 'm4']);
  assert.equal(all.fin?.attrs.complete, 'true');
  assert.equal(setText(all, 'count'), '3');

  // Pages of 2, forwards.
  const p1 = await query(rosaline, 'p1', '<max>2</max>');
  assert.deepEqual(p1.ids, [s1, s3]);
  assert.equal(p1.fin?.attrs.complete, undefined);
  assert.deepEqual([setText(p1, 'first'), setText(p1, 'last')], [s1, s3]);
  const p2 = await query(rosaline, 'p2', `<max>2</max><after>${s3}</after>`);
  assert.deepEqual(p2.ids, [s4]);
  assert.equal(p2.fin?.attrs.complete, 'true');

  // Backwards: the last page, then the one before it.
  const last = await query(rosaline, 'last', '<max>2</max><before/>');
  assert.deepEqual(last.ids, [s3, s4]);
  assert.equal(last.fin?.attrs.complete, undefined);
  const prev = await query(rosaline, 'prev', `<max>2</max><before>${s3}</before>`);
  assert.deepEqual(prev.ids, [s1]);
  assert.equal(prev.fin?.attrs.complete, 'true');

  // An id the archive does not hold.
  const unknown = await query(rosaline, 'unknown', '<after>no-such-id</after>');
  assert.equal(unknown.iq.attrs.type, 'error');
  assert.ok(unknown.iq.getChild('error')?.getChild('item-not-found'));

  // Bounded: 5 more messages leave the newest MAX_MESSAGES, ids index trimmed alike.
  const more: string[] = [];
  for (let i = 5; i <= 9; i++) more.push(await say(juliet, `m${i}`));
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(await db.xlen(keys.roomArchive(shard, ROOM)), MAX_MESSAGES);
  assert.equal(await db.hlen(keys.roomArchiveIndex(shard, ROOM)), MAX_MESSAGES);
  const bounded = await query(rosaline, 'bounded');
  assert.deepEqual(bounded.ids, more);
  const gone = await query(rosaline, 'gone', `<after>${s1}</after>`);
  assert.ok(gone.iq.getChild('error')?.getChild('item-not-found'), 'a trimmed id is unknown');

  // A members-only room refuses a non-member (XEP-0313 §6.2.2).
  await join(romeo, CLOSED, 'Romeo');
  await iq(
    romeo,
    'cfg2',
    `<iq type='set' to='${CLOSED}' id='cfg2'><query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='submit'>` +
      `<field var='muc#roomconfig_membersonly'><value>1</value></field></x></query></iq>`,
  );
  const refused = await query(rosaline, 'closed', '', CLOSED);
  assert.equal(refused.iq.attrs.type, 'error');
  assert.ok(refused.iq.getChild('error')?.getChild('forbidden'));
  const owner = await query(romeo, 'closed-owner', '', CLOSED);
  assert.equal(owner.iq.attrs.type, 'result');

  // Destroying the room deletes its archive.
  const destroyed = await iq(romeo, 'destroy', `<iq type='set' to='${ROOM}' id='destroy'><query xmlns='http://jabber.org/protocol/muc#owner'><destroy/></query></iq>`);
  assert.equal(destroyed.attrs.type, 'result');
  assert.equal(await db.exists(keys.roomArchive(shard, ROOM), keys.roomArchiveIndex(shard, ROOM)), 0);
  await join(romeo, ROOM, 'Romeo');
  await iq(romeo, 'cfg3', `<iq type='set' to='${ROOM}' id='cfg3'><query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='submit'/></query></iq>`);
  const fresh = await query(romeo, 'fresh');
  assert.deepEqual(fresh.ids, []);
  assert.equal(setText(fresh, 'count'), '0');
  db.disconnect();
});

test('muc.archive.defaultEnabled=false: a new room keeps no archive until its owner turns it on', async () => {
  const off = await startMucCluster({ name: 'muc-mam-off', shards: SHARDS, env: { PARLEY_MUC_ARCHIVE_DEFAULT_ENABLED: 'false' } });
  const clients = new MucClients(() => off);
  const db = off.redis.client();
  try {
    const room = 'quietroom@conference.localhost';
    const shard = shardForRoom(room, SHARDS);
    const owner = await clients.connect('offowner', 0);
    await clients.join(owner, room, 'Owner');
    await clients.iq(owner, 'cfg', `<iq type='set' to='${room}' id='cfg'><query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='submit'/></query></iq>`);
    const form = await clients.iq(owner, 'form', `<iq type='get' to='${room}' id='form'><query xmlns='http://jabber.org/protocol/muc#owner'/></iq>`);
    const field = form.getChild('query')?.getChild('x', 'jabber:x:data')?.getChildren('field').find((f) => f.attrs.var === 'muc#roomconfig_enablearchiving');
    assert.equal(field?.getChildText('value'), '0', 'the configuration form shows archiving off');
    const info = await clients.iq(owner, 'info', `<iq type='get' to='${room}' id='info'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`);
    assert.ok(!info.getChild('query')?.getChildren('feature').some((f) => f.attrs.var === MAM), 'no urn:xmpp:mam:2 on the room');
    owner.send(`<message type='groupchat' to='${room}' id='q1'><body>q1</body></message>`);
    await clients.next(owner, (m) => m.name === 'message' && m.attrs.id === 'q1');
    assert.equal(await db.exists(off.keys.roomArchive(shard, room)), 0, 'nothing archived');
    // The owner turns it on for this room: the next message is archived.
    await clients.iq(
      owner,
      'on',
      `<iq type='set' to='${room}' id='on'><query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='submit'>` +
        `<field var='muc#roomconfig_enablearchiving'><value>1</value></field></x></query></iq>`,
    );
    owner.send(`<message type='groupchat' to='${room}' id='q2'><body>q2</body></message>`);
    await clients.next(owner, (m) => m.name === 'message' && m.attrs.id === 'q2');
    assert.equal(await db.xlen(off.keys.roomArchive(shard, room)), 1);
  } finally {
    db.disconnect();
    await clients.disconnectAll();
    await off.stop();
  }
});
