/*
 * Exactly-once room delivery at the gateway (issue #10 item 10): a room worker that dies
 * between writing a turn's envelopes and committing it is replaced by one that applies the
 * same shard entries again and writes the same envelopes, with the same delivery marks
 * (@parley/bus delivery-mark.ts). The gateway's delivery consumer
 * (services/gateway/src/routing/delivery-consumer.ts) must drop the second copy. Here the
 * envelopes are built with the room worker's own planner (planEnvelopes) and written twice
 * with XADD to a real gateway's delivery stream, as the two owners would; each client must
 * receive each stanza exactly once, and a later entry must still get through.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Element } from 'ltx';
import { encodeEnvelope } from '@parley/bus';
import { planEnvelopes, type Delivery } from '@parley/room-worker';
import type { GatewayProcess } from '@parley/testkit';
import { startCluster, printGatewayLogsOnFailure, type TestCluster } from './support/cluster.js';
import { rawLogin, rawPing, type RawSession } from './support/raw-session.js';

const ROOM = 'replay@conference.localhost';
const SHARD = 7;

let cluster: TestCluster | undefined;
let gw: GatewayProcess;
const sessions: RawSession[] = [];

printGatewayLogsOnFailure(() => cluster);

before(async () => {
  cluster = await startCluster('delivery-replay');
  gw = await cluster.startGateway({ PARLEY_ALLOW_PLAIN_WITHOUT_TLS: 'true' });
  await cluster.addUser('alice@localhost', 'pw');
});

after(async () => {
  for (const s of sessions) s.raw.destroy();
  await cluster?.close();
});

function groupchat(id: string, nick: string, to?: string): Element {
  const el = new Element('message', { xmlns: 'jabber:client', type: 'groupchat', id, from: `${ROOM}/${nick}`, ...(to ? { to } : {}) });
  el.c('body').t(`text of ${id}`);
  return el;
}

/** Occurrences of `id='<id>'` / `id="<id>"` in received text. */
function count(text: string, id: string): number {
  return text.match(new RegExp(`\\sid=(?:'${id}'|"${id}")`, 'g'))?.length ?? 0;
}

/** Copies of the stanza with `id` a client has received. */
function copies(s: RawSession, id: string): number {
  return count(s.raw.text, id);
}

test('a room delivery written twice with the same marks reaches each session once', async () => {
  assert.ok(cluster);
  const a = await rawLogin(gw, 'alice', 'pw', 'a');
  const b = await rawLogin(gw, 'alice', 'pw', 'b');
  sessions.push(a, b);
  const reg = await cluster.waitForSessions('alice@localhost', (s) => s.has('a') && s.has('b'));
  const sa = reg.get('a')!;
  const sb = reg.get('b')!;
  assert.equal(sa.gateway, gw.gatewayId);
  // Both sessions are fully set up on the gateway before anything is delivered.
  await rawPing(a.raw);
  await rawPing(b.raw);

  const now = Date.now();
  const entry = `${now}-0`;
  const later = `${now + 1}-0`;
  const to = (s: RawSession, sessionId: string) => ({ gatewayId: gw.gatewayId, sessionId, to: s.jid });
  // One shard entry's output, as resolveRecipients hands it to the planner: a broadcast to
  // both sessions (a `fanout` envelope), two stanzas only `a` gets (one `stanzas` envelope)
  // and a stanza addressed to the bare JID (a whole `stanza` envelope).
  const turn: Delivery[] = [
    { entry, seq: 0, ...to(a, sa.sessionId), stanza: groupchat('fan-1', 'carol') },
    { entry, seq: 1, ...to(b, sb.sessionId), stanza: groupchat('fan-1', 'carol') },
    { entry, seq: 2, ...to(a, sa.sessionId), stanza: groupchat('own-1', 'dave') },
    { entry, seq: 3, ...to(a, sa.sessionId), stanza: groupchat('own-2', 'erin') },
    { entry, seq: 4, ...to(a, sa.sessionId), stanza: groupchat('bare-1', 'carol', 'alice@localhost') },
  ];
  const planned = planEnvelopes(SHARD, turn);
  assert.deepEqual(planned.map((p) => p.envelope.kind).sort(), ['fanout', 'stanza', 'stanzas']);
  const stream = cluster.keys.gatewayDelivery(gw.gatewayId);
  const write = async (envelopes: typeof planned) => {
    const pipeline = cluster!.db.pipeline();
    for (const { envelope } of envelopes) pipeline.xadd(stream, '*', ...encodeEnvelope(envelope));
    const replies = (await pipeline.exec()) ?? [];
    for (const [err] of replies) assert.equal(err, null);
  };
  // The first owner writes the turn and dies before its commit; the next owner applies the
  // same entry from the same state and writes the same envelopes again.
  await write(planned);
  await write(planEnvelopes(SHARD, turn));
  // Then the next entry of the shard, which is new and must be delivered.
  await write(
    planEnvelopes(SHARD, [
      { entry: later, seq: 0, ...to(a, sa.sessionId), stanza: groupchat('next-1', 'carol') },
      { entry: later, seq: 1, ...to(b, sb.sessionId), stanza: groupchat('next-1', 'carol') },
    ]),
  );
  await a.raw.waitFor((t) => count(t, 'next-1') >= 1, 10_000);
  await b.raw.waitFor((t) => count(t, 'next-1') >= 1, 10_000);
  // Anything still in flight would come right behind the later entry: one more round trip.
  await rawPing(a.raw);
  await rawPing(b.raw);

  assert.equal(copies(a, 'fan-1'), 1, a.raw.text);
  assert.equal(copies(b, 'fan-1'), 1, b.raw.text);
  assert.equal(copies(a, 'own-1'), 1, a.raw.text);
  assert.equal(copies(a, 'own-2'), 1, a.raw.text);
  assert.equal(copies(a, 'bare-1'), 1, a.raw.text);
  assert.equal(copies(a, 'next-1'), 1, a.raw.text);
  assert.equal(copies(b, 'next-1'), 1, b.raw.text);
  assert.equal(copies(b, 'own-1') + copies(b, 'own-2') + copies(b, 'bare-1'), 0, b.raw.text);
});
