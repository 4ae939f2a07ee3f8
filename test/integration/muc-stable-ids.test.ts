/*
 * XEP-0359 stanza ids and XEP-0421 occupant ids on a cluster of two gateways and two room
 * workers, across a failover: a groupchat message reaches occupants on both gateways with
 * the same random stanza id (a UUID v4 from the worker), and after the worker holding the
 * room is killed (SIGKILL) and another one loads the room from Redis, a user who leaves
 * and comes back under another nick has the same occupant id (the per-room key is
 * persisted with the room), and the history copy carries the message's stanza id.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { shardForRoom } from '@parley/bus';
import { startMucCluster, type MucCluster } from '@parley/testkit';
import type { Element } from 'ltx';
import { ScansionClient } from '../scansion/lib/client.js';

const SHARDS = 8;
const ROOM = 'stableids@conference.localhost';
const SID = 'urn:xmpp:sid:0';
const OID = 'urn:xmpp:occupant-id:0';
const MUC_USER = 'http://jabber.org/protocol/muc#user';
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

let cluster: MucCluster | undefined;
const clients: ScansionClient[] = [];

before(async () => {
  cluster = await startMucCluster({
    name: 'muc-stable-ids',
    shards: SHARDS,
    env: { PARLEY_LEASE_TTL_MS: '1500', PARLEY_ROOM_WORKER_HEARTBEAT_MS: '250' },
  });
});

after(async () => {
  for (const c of clients) await c.disconnect().catch(() => undefined);
  await cluster?.stop();
});

async function connect(user: string, gateway: number): Promise<ScansionClient> {
  const client = await ScansionClient.connect({ host: '127.0.0.1', port: cluster!.gateways[gateway]!.c2sPort, jid: `${user}@localhost/res`, password: 'pw' });
  clients.push(client);
  return client;
}

/** The next stanza of `client` that `match` accepts (others are skipped). */
const next = (client: ScansionClient, match: (el: Element) => boolean, timeoutMs = 10_000): Promise<Element> => client.nextMatching(match, timeoutMs);

const selfPresence = (nick: string) => (el: Element) =>
  el.name === 'presence' && el.attrs.from === `${ROOM}/${nick}` && el.getChild('x', MUC_USER)?.getChildren('status').some((s) => s.attrs.code === '110') === true;

function occupantId(el: Element): string {
  const ids = el.getChildren('occupant-id', OID);
  assert.equal(ids.length, 1, el.toString());
  return String(ids[0]!.attrs.id);
}

function stanzaId(el: Element): string {
  const ids = el.getChildren('stanza-id', SID).filter((s) => s.attrs.by === ROOM);
  assert.equal(ids.length, 1, el.toString());
  return String(ids[0]!.attrs.id);
}

test('stanza ids are shared by every copy and occupant ids survive a worker failover', async () => {
  const romeo = await connect('sidromeo', 0);
  const juliet = await connect('sidjuliet', 1);
  romeo.send(`<presence to='${ROOM}/Romeo'><x xmlns='http://jabber.org/protocol/muc'/></presence>`);
  await next(romeo, selfPresence('Romeo'));
  romeo.send(
    `<iq type='set' to='${ROOM}' id='cfg'><query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='submit'>` +
      `<field var='muc#roomconfig_persistentroom'><value>1</value></field></x></query></iq>`,
  );
  assert.equal((await next(romeo, (el) => el.name === 'iq' && el.attrs.id === 'cfg')).attrs.type, 'result');

  juliet.send(`<presence to='${ROOM}/Juliet'><x xmlns='http://jabber.org/protocol/muc'/></presence>`);
  const julietSelf = await next(juliet, selfPresence('Juliet'));
  const julietSeen = await next(romeo, (el) => el.name === 'presence' && el.attrs.from === `${ROOM}/Juliet`);
  const julietId = occupantId(julietSelf);
  assert.equal(occupantId(julietSeen), julietId, 'the same occupant id on both gateways');

  juliet.send(`<message type='groupchat' to='${ROOM}' id='g1'><body>one</body></message>`);
  const atRomeo = await next(romeo, (el) => el.name === 'message' && el.attrs.id === 'g1');
  const atJuliet = await next(juliet, (el) => el.name === 'message' && el.attrs.id === 'g1');
  const sid = stanzaId(atRomeo);
  assert.match(sid, UUID_V4);
  assert.equal(stanzaId(atJuliet), sid, 'every recipient gets the same stanza id');
  assert.equal(occupantId(atRomeo), julietId);

  // Kill the worker holding the room's shard; the other one loads the room from Redis.
  const db = cluster!.redis.client();
  try {
    const shard = shardForRoom(ROOM, SHARDS);
    const lease = await db.get(cluster!.keys.shardLease(shard));
    assert.ok(lease, 'the room shard has a lease');
    const owner = cluster!.workers.find((w) => w.workerId === lease.split(' ')[0]);
    assert.ok(owner, `lease ${lease} names one of our workers`);
    await owner.kill('SIGKILL');
  } finally {
    db.disconnect();
  }

  juliet.send(`<presence type='unavailable' to='${ROOM}/Juliet'/>`);
  await next(juliet, (el) => el.name === 'presence' && el.attrs.type === 'unavailable' && el.attrs.from === `${ROOM}/Juliet`, 20_000);
  juliet.send(`<presence to='${ROOM}/Jules'><x xmlns='http://jabber.org/protocol/muc'/></presence>`);
  const again = await next(juliet, selfPresence('Jules'));
  assert.equal(occupantId(again), julietId, 'stable across leaving, a new nick and a reload of the room');
  const history = await next(juliet, (el) => el.name === 'message' && el.getChildText('body') === 'one');
  assert.ok(history.getChild('delay', 'urn:xmpp:delay'), 'a history copy');
  assert.equal(stanzaId(history), sid, 'the history copy keeps the stanza id');
});
