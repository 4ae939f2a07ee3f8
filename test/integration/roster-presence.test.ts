/*
 * Rosters, subscriptions and presence across two gateways (RFC 6121 §2–§4, issue #11):
 * roster set/push/versioning, subscriptions both ways with presence flowing, probe answers,
 * a request stored for an offline user and delivered when it logs in on the other gateway,
 * concurrent roster changes from two gateways, the roster size limit, a SIGKILLed gateway
 * whose users' contacts see them go offline, and a whole-cluster restart (Redis with AOF)
 * that keeps rosters and pending requests.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { keySpace, type KeySpace } from '@parley/bus';
import { startGateway, startRedis, xmppctl, type GatewayProcess, type RedisServer } from '@parley/testkit';
import { xml } from '@xmpp/client';
import type { Element } from 'ltx';
import type { Redis } from 'ioredis';
import { uniquePrefix } from './support/names.js';
import { connectClient, type TestClient } from './support/test-client.js';

const ROSTER = 'jabber:iq:roster';
const DEAD_AFTER_MS = 2000;
const HEARTBEAT_MS = 500;
const MAX_ROSTER_ITEMS = 30;
const env = {
  PARLEY_GATEWAY_DEAD_AFTER_MS: String(DEAD_AFTER_MS),
  PARLEY_HEARTBEAT_MS: String(HEARTBEAT_MS),
  PARLEY_MAX_ROSTER_ITEMS: String(MAX_ROSTER_ITEMS),
  // No XEP-0198 resumption (@xmpp/client asks for it): a SIGKILLed gateway's sessions end at
  // its reap; resumable ones outlive it (stream-management-failover.test.ts).
  PARLEY_SM_RESUME_TIMEOUT_SEC: '0',
};
const USERS = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'lim', 'gus'];

let redis: RedisServer;
let db: Redis;
let prefix: string;
let keys: KeySpace;
let gws: GatewayProcess[] = [];
const clients: TestClient[] = [];

async function gateway(): Promise<GatewayProcess> {
  const gw = await startGateway({ redisUrl: redis.url, keyPrefix: prefix, env });
  gws.push(gw);
  return gw;
}

before(async () => {
  redis = await startRedis({ appendOnly: true });
  db = redis.client();
  prefix = uniquePrefix('roster');
  keys = keySpace(prefix);
  await Promise.all([gateway(), gateway()]);
  await Promise.all(
    USERS.map(async (u) => {
      const r = await xmppctl(['user', 'add', `${u}@localhost`], { redisUrl: redis.url, keyPrefix: prefix, stdin: `${u}-pw\n` });
      assert.equal(r.code, 0, r.stderr);
    }),
  );
});

after(async () => {
  for (const c of clients) await c.stop();
  for (const gw of gws) await gw.stop().catch(() => undefined);
  await redis.stop();
});

async function login(gw: GatewayProcess, user: string, resource: string): Promise<TestClient> {
  const c = await connectClient({ service: `xmpp://127.0.0.1:${gw.c2sPort}`, username: user, password: `${user}-pw`, resource });
  clients.push(c);
  return c;
}

const rosterGet = (c: TestClient, ver?: string) => c.iq('get', undefined, xml('query', ver === undefined ? { xmlns: ROSTER } : { xmlns: ROSTER, ver }));
const rosterSet = (c: TestClient, item: Record<string, string>, groups: string[] = []) =>
  c.iq('set', undefined, xml('query', { xmlns: ROSTER }, xml('item', item, ...groups.map((g) => xml('group', {}, g)))));
const itemsOf = (iq: Element) => iq.getChild('query', ROSTER)?.getChildren('item') ?? [];
const isPush = (jid: string, attrs: Record<string, string | undefined> = {}) => (el: Element) => {
  if (el.name !== 'iq' || el.attrs.type !== 'set') return false;
  const item = el.getChild('query', ROSTER)?.getChild('item');
  return item?.attrs.jid === jid && Object.entries(attrs).every(([k, v]) => item.attrs[k] === v);
};
const isPresence = (from: string, type?: string) => (el: Element) => el.name === 'presence' && el.attrs.from === from && el.attrs.type === type;
const available = async (c: TestClient, extra: Element[] = []) => {
  await c.send(xml('presence', {}, ...extra));
  await c.waitForStanza(isPresence(c.jid));
};

let alice1: TestClient;
let bob: TestClient;

test('roster set on one gateway is pushed to the interested resource on the other; versioning (RFC 6121 §2.3, §2.6)', async () => {
  const [gwA, gwB] = gws as [GatewayProcess, GatewayProcess];
  alice1 = await login(gwA, 'alice', 'a1');
  const alice2 = await login(gwB, 'alice', 'a2');
  const first = await rosterGet(alice1);
  assert.equal(first.attrs.type, 'result');
  assert.equal(itemsOf(first).length, 0);
  await rosterGet(alice2);
  const set = await rosterSet(alice1, { jid: 'bob@localhost', name: 'Bobby' }, ['Friends', 'Friends', 'Work']);
  assert.equal(set.attrs.type, 'result');
  const push = await alice2.waitForStanza(isPush('bob@localhost', { name: 'Bobby', subscription: 'none' }));
  assert.deepEqual(push.getChild('query', ROSTER)!.getChild('item')!.getChildren('group').map((g) => g.getText()), ['Friends', 'Work']);
  await alice1.waitForStanza(isPush('bob@localhost'));
  const full = await rosterGet(alice2, '');
  const ver = full.getChild('query', ROSTER)!.attrs.ver;
  assert.ok(ver, 'the result carries a version');
  assert.equal(itemsOf(full).length, 1);
  // §2.6.3: the current version gets an empty result.
  const same = await rosterGet(alice2, ver);
  assert.equal(same.attrs.type, 'result');
  assert.equal(same.getChild('query', ROSTER), undefined);
  // Someone else's roster: forbidden (§2.1.5 "MUST NOT"); the account exists.
  const other = await alice1.iq('get', 'bob@localhost', xml('query', { xmlns: ROSTER }));
  assert.equal(other.attrs.type, 'error');
  assert.ok(other.getChild('error')?.getChild('forbidden'));
  await alice2.stop();
});

test('subscriptions both ways across gateways: bare-JID stamping, pushes, presence flowing (RFC 6121 §3, §4.2, §4.4)', async () => {
  const gwB = gws[1]!;
  bob = await login(gwB, 'bob', 'b1');
  await rosterGet(bob);
  await available(alice1);
  await available(bob, [xml('status', {}, 'here')]);
  await alice1.send(xml('presence', { to: 'bob@localhost/b1', type: 'subscribe' }));
  const req = await bob.waitForStanza((el) => el.name === 'presence' && el.attrs.type === 'subscribe');
  assert.equal(req.attrs.from, 'alice@localhost', '§3.1.2: stamped with the bare JID');
  assert.equal(req.attrs.to, 'bob@localhost');
  await alice1.waitForStanza(isPush('bob@localhost', { ask: 'subscribe', name: 'Bobby' }));
  await bob.send(xml('presence', { to: 'alice@localhost', type: 'subscribed' }));
  await bob.waitForStanza(isPush('alice@localhost', { subscription: 'from' }));
  await alice1.waitForStanza(isPresence('bob@localhost', 'subscribed'));
  await alice1.waitForStanza(isPush('bob@localhost', { subscription: 'to' }));
  const bobsPresence = await alice1.waitForStanza(isPresence(bob.jid));
  assert.equal(bobsPresence.getChildText('status'), 'here');
  // And back.
  await bob.send(xml('presence', { to: 'alice@localhost', type: 'subscribe' }));
  await alice1.waitForStanza((el) => el.name === 'presence' && el.attrs.type === 'subscribe' && el.attrs.from === 'bob@localhost');
  await alice1.send(xml('presence', { to: 'bob@localhost', type: 'subscribed' }));
  await bob.waitForStanza(isPush('alice@localhost', { subscription: 'both' }));
  await alice1.waitForStanza(isPush('bob@localhost', { subscription: 'both' }));
  await bob.waitForStanza(isPresence(alice1.jid));
  // §4.4: updates go to the contact.
  await alice1.send(xml('presence', {}, xml('show', {}, 'away')));
  const update = await bob.waitForStanza((el) => isPresence(alice1.jid)(el) && el.getChildText('show') === 'away');
  assert.equal(update.attrs.to, 'bob@localhost');
  assert.equal(JSON.parse((await db.hget(keys.roster('alice@localhost'), 'bob@localhost'))!).s, 'both');
});

test('a new session probes its contacts and gets their presence (RFC 6121 §4.2.1, §4.3.2)', async () => {
  const alice3 = await login(gws[1]!, 'alice', 'a3');
  await alice3.send(xml('presence'));
  const answer = await alice3.waitForStanza(isPresence(bob.jid));
  assert.equal(answer.getChildText('status'), 'here');
  // Bob sees the new resource come online too (§4.2.2).
  await bob.waitForStanza(isPresence(alice3.jid));
  await alice3.stop();
  await bob.waitForStanza(isPresence(alice3.jid, 'unavailable'));
});

test("a resource that becomes available gets the presence of the account's other available resources, also when both do so at once on two gateways (RFC 6121 §4.2.2)", async () => {
  // One after the other: the second gets the first's presence (an account is subscribed to
  // itself), the first gets the second's broadcast.
  const first = await login(gws[0]!, 'gus', 'first');
  await available(first, [xml('status', {}, 'first')]);
  const second = await login(gws[1]!, 'gus', 'second');
  const firstGets = first.waitForStanza(isPresence(second.jid));
  await second.send(xml('presence'));
  assert.equal((await second.waitForStanza(isPresence(first.jid))).getChildText('status'), 'first');
  await firstGets;
  await Promise.all([first.stop(), second.stop()]);
  // At once, on two gateways: whichever stores its session as available first, each still
  // learns of the other (before, each could read the other as unavailable and neither
  // presence reached the other resource).
  for (let round = 0; round < 5; round++) {
    const [one, two] = await Promise.all([login(gws[0]!, 'gus', `one${round}`), login(gws[1]!, 'gus', `two${round}`)]);
    const oneGets = one.waitForStanza(isPresence(two.jid));
    const twoGets = two.waitForStanza(isPresence(one.jid));
    await Promise.all([one.send(xml('presence')), two.send(xml('presence'))]);
    await Promise.all([oneGets, twoGets]);
    await Promise.all([one.stop(), two.stop()]);
  }
});

test('a request for an offline user is stored whole and delivered when it logs in on the other gateway (RFC 6121 §3.1.3)', async () => {
  const [gwA, gwB] = gws as [GatewayProcess, GatewayProcess];
  const carol = await login(gwA, 'carol', 'c');
  await available(carol);
  await carol.send(xml('presence', { to: 'dave@localhost', type: 'subscribe' }, xml('nick', { xmlns: 'http://jabber.org/protocol/nick' }, 'Caz')));
  // Stored under Dave's account before he has any session.
  for (let i = 0; i < 50 && !(await db.hexists(keys.rosterPending('dave@localhost'), 'carol@localhost')); i++) await new Promise((r) => setTimeout(r, 50));
  const dave = await login(gwB, 'dave', 'd');
  await dave.send(xml('presence'));
  const req = await dave.waitForStanza((el) => el.name === 'presence' && el.attrs.type === 'subscribe');
  assert.equal(req.attrs.from, 'carol@localhost');
  assert.equal(req.getChild('nick', 'http://jabber.org/protocol/nick')?.getText(), 'Caz', 'extensions kept');
  await dave.stop();
  await carol.stop();
});

test('two gateways changing one roster at once lose no update; the size limit holds (resource-constraint)', async () => {
  const [gwA, gwB] = gws as [GatewayProcess, GatewayProcess];
  const l1 = await login(gwA, 'lim', 'x');
  const l2 = await login(gwB, 'lim', 'y');
  const sets: Array<Promise<Element>> = [];
  for (let i = 0; i < MAX_ROSTER_ITEMS; i++) sets.push(rosterSet(i % 2 ? l1 : l2, { jid: `contact${i}@localhost` }));
  const answers = await Promise.all(sets);
  assert.deepEqual(answers.map((a) => a.attrs.type), answers.map(() => 'result'));
  assert.equal(await db.hlen(keys.roster('lim@localhost')), MAX_ROSTER_ITEMS);
  assert.equal(await db.get(keys.rosterVersion('lim@localhost')), String(MAX_ROSTER_ITEMS), 'one version per change');
  const over = await rosterSet(l1, { jid: 'one-too-many@localhost' });
  assert.equal(over.attrs.type, 'error');
  assert.ok(over.getChild('error')?.getChild('resource-constraint'));
  // Changing an existing item is still allowed.
  assert.equal((await rosterSet(l2, { jid: 'contact0@localhost', name: 'renamed' })).attrs.type, 'result');
  await l1.stop();
  await l2.stop();
});

test('when a gateway is SIGKILLed, contacts and directed-presence targets on the other gateway see its users go offline within seconds', async () => {
  const [gwA, gwB] = gws as [GatewayProcess, GatewayProcess];
  // Bob (on B) also sent directed presence to Dave (on A), who is not his contact (§4.6).
  const dave = await login(gwA, 'dave', 'd2');
  await available(dave);
  await bob.send(xml('presence', { to: 'dave@localhost' }, xml('status', {}, 'hi Dave')));
  await dave.waitForStanza(isPresence(bob.jid));
  const killedAt = Date.now();
  await gwB.kill('SIGKILL');
  await alice1.waitForStanza(isPresence(bob.jid, 'unavailable'), DEAD_AFTER_MS + 6000);
  await dave.waitForStanza(isPresence(bob.jid, 'unavailable'), 3000);
  const ms = Date.now() - killedAt;
  console.log(`# contact saw unavailable ${ms} ms after the SIGKILL (deadAfterMs ${DEAD_AFTER_MS}, heartbeat ${HEARTBEAT_MS})`);
  assert.ok(ms < DEAD_AFTER_MS + 4000, `took ${ms} ms`);
  gws = gws.filter((g) => g !== gwB);
});

test('a cluster restart keeps rosters and pending requests', async () => {
  const erin = await login(gws[0]!, 'erin', 'e');
  await rosterGet(erin);
  await available(erin);
  await erin.send(xml('presence', { to: 'frank@localhost', type: 'subscribe' }));
  await erin.waitForStanza(isPush('frank@localhost', { ask: 'subscribe' }));
  await erin.stop();
  await alice1.stop();
  for (const gw of gws) await gw.stop();
  gws = [];
  await redis.kill('SIGTERM');
  await redis.restart();
  const [gwA, gwB] = await Promise.all([gateway(), gateway()]);
  const alice = await login(gwA!, 'alice', 'again');
  const roster = await rosterGet(alice);
  const bobItem = itemsOf(roster).find((i) => i.attrs.jid === 'bob@localhost');
  assert.equal(bobItem?.attrs.subscription, 'both');
  assert.equal(bobItem?.attrs.name, 'Bobby');
  const frank = await login(gwB!, 'frank', 'f');
  await frank.send(xml('presence'));
  const req = await frank.waitForStanza((el) => el.name === 'presence' && el.attrs.type === 'subscribe');
  assert.equal(req.attrs.from, 'erin@localhost');
});
