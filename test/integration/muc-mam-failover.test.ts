/*
 * A room's XEP-0313 archive across a room worker failover (issue #13, "a room's archive after
 * a worker failover has no gap and no duplicate"). One occupant sends N groupchat messages
 * with distinct bodies; after the first half is written to its socket (not awaited: some are
 * still in the room's stream or mid-commit), the worker holding the room's shard is SIGKILLed
 * and the second half follows. Once the other worker has taken the shard over and every
 * message came back live, the archive is read over XMPP with RSM pages (XEP-0059 §2.2,
 * forwards; then §2.5 backwards from the last page) and must hold exactly the N bodies, each
 * once, in send order, under the XEP-0359 stanza-ids the occupants saw on the live messages.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { shardForRoom } from '@parley/bus';
import { startMucCluster, type MucCluster } from '@parley/testkit';
import type { Element } from 'ltx';
import type { ScansionClient } from '../scansion/lib/client.js';
import { MucClients } from './support/muc-clients.js';

const SHARDS = 4;
const LEASE_TTL_MS = 1500;
const N = 200;
const PAGE = 30;
const ROOM = 'mamfailover@conference.localhost';
const MAM = 'urn:xmpp:mam:2';
const RSM = 'http://jabber.org/protocol/rsm';
const SID = 'urn:xmpp:sid:0';

let cluster: MucCluster | undefined;
const muc = new MucClients(() => cluster);

before(async () => {
  cluster = await startMucCluster({
    name: 'muc-mam-failover',
    shards: SHARDS,
    env: { PARLEY_LEASE_TTL_MS: String(LEASE_TTL_MS), PARLEY_ROOM_WORKER_HEARTBEAT_MS: '250' },
  });
});

after(async () => {
  await muc.disconnectAll();
  await cluster?.stop();
});

/** Live groupchat messages of one occupant: body → stanza-id (by the room), in arrival order. */
interface Live {
  bodies: string[];
  ids: Map<string, string>;
}

/** Reads `client`'s stanzas until `live` holds `n` bodies; every groupchat body is recorded, a repeated body fails. */
async function collect(client: ScansionClient, live: Live, n: number, who: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (live.bodies.length < n) {
    const got = await client.next(Math.max(0, deadline - Date.now()));
    if (!got) throw new Error(`${who}: timed out with ${live.bodies.length} of ${n} messages`);
    const el = got.el;
    if (el.name !== 'message' || el.attrs.type !== 'groupchat') continue;
    const body = el.getChildText('body');
    if (body === null) continue;
    assert.ok(!live.ids.has(body), `${who} received ${body} twice`);
    const sid = el.getChildren('stanza-id', SID).find((s) => s.attrs.by === ROOM);
    assert.ok(sid?.attrs.id, `${who}: ${body} carries the room's stanza-id`);
    live.bodies.push(body);
    live.ids.set(body, String(sid.attrs.id));
  }
}

interface Page {
  ids: string[];
  bodies: string[];
  fin: Element | undefined;
  iq: Element;
}

/** One archive query on ROOM with RSM `set` inner XML; collects the results of that queryid. */
async function page(client: ScansionClient, qid: string, set: string): Promise<Page> {
  client.send(`<iq type='set' id='${qid}' to='${ROOM}'><query xmlns='${MAM}' queryid='${qid}'><set xmlns='${RSM}'>${set}</set></query></iq>`);
  const ids: string[] = [];
  const bodies: string[] = [];
  for (;;) {
    const el = await muc.next(client, (m) => (m.name === 'iq' && m.attrs.id === qid) || (m.name === 'message' && m.getChild('result', MAM)?.attrs.queryid === qid));
    if (el.name === 'iq') return { ids, bodies, fin: el.getChild('fin', MAM), iq: el };
    const result = el.getChild('result', MAM)!;
    ids.push(String(result.attrs.id));
    bodies.push(result.getChild('forwarded', 'urn:xmpp:forward:0')!.getChild('message')!.getChildText('body') ?? '');
  }
}

test(`a room archive has all ${N} messages, once each and in order, after a worker failover`, async () => {
  const romeo = await muc.connect('mamforomeo', 0);
  const juliet = await muc.connect('mamfojuliet', 1);
  await muc.join(romeo, ROOM, 'Romeo');
  const created = await muc.iq(romeo, 'cfg', `<iq type='set' to='${ROOM}' id='cfg'><query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='submit'/></query></iq>`);
  assert.equal(created.attrs.type, 'result');
  await muc.join(juliet, ROOM, 'Juliet');

  const shard = shardForRoom(ROOM, SHARDS);
  const db = cluster!.redis.client();
  let lease = await db.get(cluster!.keys.shardLease(shard));
  for (const deadline = Date.now() + 5000; !lease && Date.now() < deadline; lease = await db.get(cluster!.keys.shardLease(shard))) {
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(lease, 'the room shard has a lease');
  const owner = cluster!.workers.find((w) => w.workerId === lease!.split(' ')[0]);
  const survivor = cluster!.workers.find((w) => w !== owner);
  assert.ok(owner && survivor, `lease ${lease} names one of our workers`);

  const sent = Array.from({ length: N }, (_, i) => `mamfo-${String(i + 1).padStart(4, '0')}`);
  const say = (body: string) => romeo.send(`<message type='groupchat' to='${ROOM}' id='${body}'><body>${body}</body></message>`);
  const romeoLive: Live = { bodies: [], ids: new Map() };
  const julietLive: Live = { bodies: [], ids: new Map() };

  // First half written, then the kill while it is in flight, then the second half.
  for (const body of sent.slice(0, N / 2)) say(body);
  await new Promise((r) => setTimeout(r, 20));
  const reflectedBeforeKill = juliet.pending.filter((p) => p.el.name === 'message' && p.el.attrs.type === 'groupchat').length;
  const killedAt = Date.now();
  await owner.kill('SIGKILL');
  for (const body of sent.slice(N / 2)) say(body);
  await Promise.all([collect(romeo, romeoLive, N, 'Romeo'), collect(juliet, julietLive, N, 'Juliet')]);
  const allLiveMs = Date.now() - killedAt;

  // Live delivery: every body once, in send order, the same stanza-id for both occupants.
  assert.deepEqual(romeoLive.bodies, sent);
  assert.deepEqual(julietLive.bodies, sent);
  assert.deepEqual([...julietLive.ids], [...romeoLive.ids]);
  const liveIds = sent.map((b) => romeoLive.ids.get(b)!);
  assert.equal(new Set(liveIds).size, N, 'live stanza-ids are unique');
  assert.equal((await db.get(cluster!.keys.shardLease(shard)))?.split(' ')[0], survivor.workerId, 'the survivor holds the shard');
  db.disconnect();

  // Forwards, page by page, from an account that was never in the room (the room is open).
  const rosaline = await muc.connect('mamforosaline', 1);
  const archivedIds: string[] = [];
  const archivedBodies: string[] = [];
  let after: string | undefined;
  let pages = 0;
  for (;;) {
    const p = await page(rosaline, `fwd${pages}`, `<max>${PAGE}</max>${after ? `<after>${after}</after>` : ''}`);
    assert.equal(p.iq.attrs.type, 'result', `page ${pages}: ${p.iq.toString()}`);
    assert.ok(p.ids.length <= PAGE);
    archivedIds.push(...p.ids);
    archivedBodies.push(...p.bodies);
    pages++;
    assert.equal(p.fin?.getChild('set', RSM)?.getChildText('count'), String(N), 'RSM count is the archive size');
    if (p.fin?.attrs.complete === 'true') break;
    assert.equal(p.ids.length, PAGE, 'an incomplete page is full');
    after = p.fin?.getChild('set', RSM)?.getChildText('last') ?? undefined;
    assert.equal(after, p.ids[p.ids.length - 1], 'RSM last is the page\'s last id');
    assert.ok(pages <= Math.ceil(N / PAGE), 'no more pages than the archive needs');
  }
  assert.equal(pages, Math.ceil(N / PAGE));
  assert.deepEqual(archivedBodies, sent, 'the archive holds every body once, in send order');
  assert.equal(new Set(archivedIds).size, N, 'archive ids are unique');
  assert.deepEqual(archivedIds, liveIds, 'archive ids are the stanza-ids of the live messages');

  // Backwards from the last page: the same sequence.
  const backIds: string[] = [];
  let before = '';
  for (let i = 0; ; i++) {
    const p = await page(rosaline, `back${i}`, `<max>${PAGE}</max><before>${before}</before>`);
    assert.equal(p.iq.attrs.type, 'result');
    backIds.unshift(...p.ids);
    if (p.fin?.attrs.complete === 'true') break;
    before = p.fin?.getChild('set', RSM)?.getChildText('first') ?? '';
    assert.equal(before, p.ids[0]);
    assert.ok(i < Math.ceil(N / PAGE));
  }
  assert.deepEqual(backIds, liveIds, 'paging backwards gives the same ids in the same order');
  process.stdout.write(
    `# mam failover: ${reflectedBeforeKill} of ${N / 2} first-half messages had reached Juliet at the SIGKILL; all ${N} live ${allLiveMs} ms after it (lease TTL ${LEASE_TTL_MS} ms); archive read in ${pages} pages of ${PAGE}\n`,
  );
});
