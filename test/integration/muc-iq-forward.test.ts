/*
 * IQs through a room (XEP-0045 §17.4 rule 3) on a cluster of two gateways and two room
 * workers: a request to an occupant JID reaches the occupant's client (on the other
 * gateway) from the sender's occupant JID with an id of the room's own, and the answer
 * comes back through the room to the sender with the original id. Answers with forged ids,
 * or with a real id sent by anyone but the client the request went to, are dropped. A vCard
 * request goes to the occupant's bare JID and is answered by its server. The forwarded ids
 * are signed with a key the room workers share in Redis.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startMucCluster, type MucCluster } from '@parley/testkit';
import type { Element } from 'ltx';
import { ScansionClient } from '../scansion/lib/client.js';

const ROOM = 'iqroom@conference.localhost';
let cluster: MucCluster | undefined;
const clients: ScansionClient[] = [];

before(async () => {
  cluster = await startMucCluster({ name: 'muc-iq-forward', shards: 8 });
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
const next = (client: ScansionClient, match: (el: Element) => boolean, timeoutMs = 5000): Promise<Element> => client.nextMatching(match, timeoutMs);

/** Asserts that no iq reaches `client` within `ms`. */
async function noIq(client: ScansionClient, ms = 700): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const got = await client.next(Math.max(0, deadline - Date.now()));
    if (!got) return;
    assert.notEqual(got.el.name, 'iq', `unexpected ${got.el.toString()}`);
  }
}

test('an iq to an occupant JID is forwarded and its answer relayed, across gateways', async () => {
  const romeo = await connect('fwdromeo', 0);
  const juliet = await connect('fwdjuliet', 1);
  const outsider = await connect('fwdoutsider', 0);
  romeo.send(`<presence to='${ROOM}/Romeo'><x xmlns='http://jabber.org/protocol/muc'/></presence>`);
  await next(romeo, (el) => el.name === 'presence');
  romeo.send(`<iq type='set' id='c' to='${ROOM}'><query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='submit'/></query></iq>`);
  await next(romeo, (el) => el.name === 'iq' && el.attrs.id === 'c');
  juliet.send(`<presence to='${ROOM}/Juliet'><x xmlns='http://jabber.org/protocol/muc'/></presence>`);
  await next(juliet, (el) => el.name === 'message');

  romeo.send(`<iq type='get' id='v1' to='${ROOM}/Juliet'><query xmlns='jabber:iq:version'/></iq>`);
  const forwarded = await next(juliet, (el) => el.name === 'iq');
  assert.equal(forwarded.attrs.from, `${ROOM}/Romeo`);
  assert.equal(forwarded.attrs.type, 'get');
  const id = String(forwarded.attrs.id);
  assert.notEqual(id, 'v1');
  const decoded = id.split('.').map((p) => Buffer.from(p, 'base64url').toString('latin1')).join(' ');
  assert.ok(!`${id} ${decoded}`.includes('fwdromeo') && !`${id} ${decoded}`.includes('fwdjuliet'), `real JIDs in ${id}`);
  assert.ok(forwarded.getChild('query', 'jabber:iq:version'));

  // Forged or misdirected answers are dropped.
  juliet.send(`<iq type='result' id='forged' to='${ROOM}/Romeo'/>`);
  outsider.send(`<iq type='result' id='${id}' to='${ROOM}/Romeo'/>`);
  await noIq(romeo);

  juliet.send(`<iq type='result' id='${id}' to='${ROOM}/Romeo'><query xmlns='jabber:iq:version'><name>juliet-client</name></query></iq>`);
  const answer = await next(romeo, (el) => el.name === 'iq');
  assert.equal(answer.attrs.id, 'v1');
  assert.equal(answer.attrs.type, 'result');
  assert.equal(answer.attrs.from, `${ROOM}/Juliet`);
  assert.equal(answer.getChild('query', 'jabber:iq:version')?.getChildText('name'), 'juliet-client');

  // XEP-0054: a vCard request goes to the occupant's bare JID, answered by its server.
  juliet.send(`<iq type='set' id='vset'><vCard xmlns='vcard-temp'><FN>Juliet Capulet</FN></vCard></iq>`);
  await next(juliet, (el) => el.name === 'iq' && el.attrs.id === 'vset');
  romeo.send(`<iq type='get' id='vc1' to='${ROOM}/Juliet'><vCard xmlns='vcard-temp'/></iq>`);
  const card = await next(romeo, (el) => el.name === 'iq');
  assert.equal(card.attrs.id, 'vc1');
  assert.equal(card.attrs.type, 'result');
  assert.equal(card.attrs.from, `${ROOM}/Juliet`);
  assert.equal(card.getChild('vCard', 'vcard-temp')?.getChildText('FN'), 'Juliet Capulet');
  await noIq(juliet, 300);

  // The key the workers share.
  const db = cluster!.redis.client();
  try {
    const key = await db.get(cluster!.keys.mucForwardKey());
    assert.match(key ?? '', /^[A-Za-z0-9+/]{43}=$/);
  } finally {
    db.disconnect();
  }
});
