/*
 * Issue #11 gaps, on a cluster of two gateways, two room workers and the admin API:
 * - a removed account (XEP-0077 <remove/>, and the admin API's delete-user job) cancels its
 *   subscriptions: a contact on the other gateway sees it go offline and gets roster pushes
 *   taking its subscription to none (RFC 6121 §3.2/§3.3 on the contact's side);
 * - a user whose gateway is SIGKILLed has its last activity recorded by the reaper
 *   (XEP-0012 §3: the seconds since, the status of its last presence);
 * - XEP-0191 §3.3 for what rooms deliver: a blocked occupant's groupchat and presence do not
 *   reach the blocker (whose block was made from its session on the other gateway, after
 *   the blocker's gateway had cached its list) while others get them; unblocking restores them.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Element } from 'ltx';
import { startMucCluster, type GatewayProcess, type MucCluster } from '@parley/testkit';
import { ScansionClient } from '../scansion/lib/client.js';

const MUC = 'conference.localhost';
const ROSTER = 'jabber:iq:roster';
const BLOCKING = 'urn:xmpp:blocking';
const DEAD_AFTER_MS = 2000;

let cluster: MucCluster | undefined;
const clients: ScansionClient[] = [];

before(async () => {
  cluster = await startMucCluster({
    name: 'departure',
    adminApi: true,
    env: { PARLEY_GATEWAY_DEAD_AFTER_MS: String(DEAD_AFTER_MS), PARLEY_HEARTBEAT_MS: '500' },
  });
});

after(async () => {
  for (const c of clients) await c.disconnect().catch(() => undefined);
  await cluster?.stop();
});

const gw = (i: number): GatewayProcess => cluster!.gateways[i]!;

async function connect(jid: string, g: GatewayProcess): Promise<ScansionClient> {
  const c = await ScansionClient.connect({ host: '127.0.0.1', port: g.c2sPort, jid, password: 'pw' });
  clients.push(c);
  return c;
}

/** The next stanza of `c` that `pred` accepts (others are skipped). */
async function until(c: ScansionClient, pred: (el: Element) => boolean, what: string, timeoutMs = 8000): Promise<Element> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const got = await c.next(Math.max(0, deadline - Date.now()));
    assert.ok(got, `${c.jid}: timed out waiting for ${what}`);
    if (pred(got.el)) return got.el;
  }
}

/** Every stanza `c` receives until `pred` accepts one: [skipped..., matched]. */
async function collectUntil(c: ScansionClient, pred: (el: Element) => boolean, what: string): Promise<Element[]> {
  const seen: Element[] = [];
  const deadline = Date.now() + 8000;
  for (;;) {
    const got = await c.next(Math.max(0, deadline - Date.now()));
    assert.ok(got, `${c.jid}: timed out waiting for ${what}; saw ${seen.map(String).join(' ')}`);
    seen.push(got.el);
    if (pred(got.el)) return seen;
  }
}

let ids = 0;
async function iq(c: ScansionClient, type: 'get' | 'set', payload: string, to?: string): Promise<Element> {
  const id = `q${++ids}`;
  c.send(`<iq type='${type}' id='${id}'${to ? ` to='${to}'` : ''}>${payload}</iq>`);
  return until(c, (el) => el.name === 'iq' && el.attrs.id === id, `the answer to ${payload}`);
}

const bare = (c: ScansionClient) => c.jid.slice(0, c.jid.indexOf('/'));
const isPresence = (from: string, type?: string) => (el: Element) => el.name === 'presence' && el.attrs.from === from && el.attrs.type === type;
const pushFor = (jid: string, subscription: string) => (el: Element) =>
  el.name === 'iq' && el.attrs.type === 'set' && el.getChild('query', ROSTER)?.getChild('item')?.attrs.jid === jid && el.getChild('query', ROSTER)?.getChild('item')?.attrs.subscription === subscription;

/** Mutual subscription ('both') between `a` and `b`, both available and interested in their rosters. */
async function befriend(a: ScansionClient, b: ScansionClient): Promise<void> {
  for (const c of [a, b]) {
    await iq(c, 'get', `<query xmlns='${ROSTER}'/>`);
    c.send('<presence/>');
    await until(c, isPresence(c.jid), 'own presence');
  }
  for (const [x, y] of [[a, b], [b, a]] as const) {
    x.send(`<presence to='${bare(y)}' type='subscribe'/>`);
    await until(y, (el) => el.name === 'presence' && el.attrs.type === 'subscribe' && el.attrs.from === bare(x), 'the request');
    y.send(`<presence to='${bare(x)}' type='subscribed'/>`);
    await until(x, isPresence(y.jid), `${y.jid}'s presence`);
  }
}

async function rosterItem(c: ScansionClient, jid: string): Promise<Element | undefined> {
  const r = await iq(c, 'get', `<query xmlns='${ROSTER}'/>`);
  return r.getChild('query', ROSTER)?.getChildren('item').find((i) => i.attrs.jid === jid);
}

test('XEP-0077 <remove/>: the contact on the other gateway sees unavailable, then pushes down to none', async () => {
  const del = await connect('depin@localhost/a', gw(0));
  const contact = await connect('depinfriend@localhost/b', gw(1));
  await befriend(del, contact);
  const removed = await iq(del, 'set', `<query xmlns='jabber:iq:register'><remove/></query>`);
  assert.equal(removed.attrs.type, 'result', removed.toString());
  const seen = await collectUntil(contact, pushFor('depin@localhost', 'none'), 'the push to none');
  const offline = seen.findIndex(isPresence(del.jid, 'unavailable'));
  assert.ok(offline >= 0, `no unavailable: ${seen.map(String).join(' ')}`);
  // unavailable first, then unsubscribed (both → from), then unsubscribe (from → none)
  assert.ok(seen.findIndex(pushFor('depin@localhost', 'from')) > offline, seen.map(String).join(' '));
  assert.equal((await rosterItem(contact, 'depin@localhost'))?.attrs.subscription, 'none');
});

test('the admin API delete-user job cancels the subscriptions the same way', async () => {
  const del = await connect('depjob@localhost/a', gw(1));
  const contact = await connect('depjobfriend@localhost/b', gw(0));
  await befriend(del, contact);
  const api = cluster!.adminApi!;
  const res = await fetch(`${api.url}/v1/users/${encodeURIComponent('depjob@localhost')}`, { method: 'DELETE', headers: api.headers });
  assert.equal(res.status, 202, await res.text());
  const seen = await collectUntil(contact, pushFor('depjob@localhost', 'none'), 'the push to none');
  assert.ok(seen.some(isPresence(del.jid, 'unavailable')), `no unavailable: ${seen.map(String).join(' ')}`);
  assert.equal((await rosterItem(contact, 'depjob@localhost'))?.attrs.subscription, 'none');
  assert.equal(await cluster!.redis.client().exists(cluster!.keys.roster('depjob@localhost')), 0);
});

/** Joins `room` as `nick`; resolves after the self-presence. */
async function join(c: ScansionClient, room: string, nick: string): Promise<void> {
  c.send(`<presence to='${room}/${nick}'><x xmlns='http://jabber.org/protocol/muc'/></presence>`);
  await until(c, (el) => el.name === 'presence' && el.attrs.from === `${room}/${nick}` && el.getChild('x', 'http://jabber.org/protocol/muc#user')?.getChildren('status').some((s) => s.attrs.code === '110') === true, `${nick}'s join`);
}
const groupchat = (room: string, body: string) => `<message to='${room}' type='groupchat'><body>${body}</body></message>`;
const isBody = (body: string) => (el: Element) => el.name === 'message' && el.getChildText('body') === body;

test('XEP-0191 §3.3: a blocked occupant\'s groupchat and presence are not delivered to the blocker; others get them', async () => {
  const room = `blockroom@${MUC}`;
  const alice = await connect('rbalice@localhost/desk', gw(0));
  const alicePhone = await connect('rbalice@localhost/phone', gw(1)); // blocks, from the other gateway
  const bob = await connect('rbbob@localhost/x', gw(1));
  const carol = await connect('rbcarol@localhost/y', gw(0));
  await join(alice, room, 'Alice');
  // XEP-0045 §10.1.2: an instant room, unlocked.
  const made = await iq(alice, 'set', `<query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='submit'/></query>`, room);
  assert.equal(made.attrs.type, 'result', made.toString());
  await join(bob, room, 'Bob');
  await join(carol, room, 'Carol');
  // Alice's gateway loads (caches) her empty blocklist on this one.
  bob.send(groupchat(room, 'hello 1'));
  await until(alice, isBody('hello 1'), 'hello 1');

  const blocked = await iq(alicePhone, 'set', `<block xmlns='${BLOCKING}'><item jid='${room}/Bob'/></block>`);
  assert.equal(blocked.attrs.type, 'result', blocked.toString());
  bob.send(groupchat(room, 'hello 2'));
  bob.send(`<presence to='${room}/Bob'><status>busy</status></presence>`);
  await until(carol, isBody('hello 2'), 'carol gets hello 2');
  await until(carol, (el) => isPresence(`${room}/Bob`)(el) && el.getChildText('status') === 'busy', 'carol gets the presence');
  carol.send(groupchat(room, 'sentinel'));
  const seen = await collectUntil(alice, isBody('sentinel'), 'the sentinel');
  assert.ok(!seen.some(isBody('hello 2')), 'the blocked groupchat reached the blocker');
  assert.ok(!seen.some(isPresence(`${room}/Bob`)), 'the blocked presence reached the blocker');

  // The room's bare JID blocks everything from it, the occupant JID is unblocked.
  const unblocked = await iq(alicePhone, 'set', `<unblock xmlns='${BLOCKING}'><item jid='${room}/Bob'/></unblock>`);
  assert.equal(unblocked.attrs.type, 'result', unblocked.toString());
  bob.send(groupchat(room, 'hello 3'));
  await until(alice, isBody('hello 3'), 'hello 3 after unblocking');
  await iq(alicePhone, 'set', `<block xmlns='${BLOCKING}'><item jid='${room}'/></block>`);
  carol.send(groupchat(room, 'hello 4'));
  await until(bob, isBody('hello 4'), 'bob gets hello 4');
  await iq(alicePhone, 'set', `<unblock xmlns='${BLOCKING}'/>`);
  carol.send(groupchat(room, 'sentinel 2'));
  const seen2 = await collectUntil(alice, isBody('sentinel 2'), 'the second sentinel');
  assert.ok(!seen2.some(isBody('hello 4')), 'a stanza from a blocked room reached the blocker');
});

test('a user whose gateway dies gets its last activity recorded by the reaper (XEP-0012 §3)', async () => {
  const user = await connect('lastdead@localhost/a', gw(1));
  const contact = await connect('lastdeadfriend@localhost/b', gw(0));
  await befriend(user, contact);
  user.send(`<presence><status>gone fishing</status></presence>`);
  await until(contact, (el) => isPresence(user.jid)(el) && el.getChildText('status') === 'gone fishing', 'the status');
  await gw(1).kill('SIGKILL');
  const killedAt = Date.now();
  await until(contact, isPresence(user.jid, 'unavailable'), 'unavailable after the kill', DEAD_AFTER_MS + 8000);
  await new Promise((r) => setTimeout(r, 1100));
  const last = await iq(contact, 'get', `<query xmlns='jabber:iq:last'/>`, 'lastdead@localhost');
  const q = last.getChild('query', 'jabber:iq:last');
  assert.ok(q, last.toString());
  assert.equal(q.getText(), 'gone fishing', last.toString());
  const seconds = Number(q.attrs.seconds);
  assert.ok(seconds >= 1 && seconds <= (Date.now() - killedAt) / 1000 + 1, last.toString());
});
