/*
 * debug.hopTrace (issue #15 item 1, @parley/bus hop-trace.ts) on a cluster of two gateways and
 * one room worker: a groupchat message sent by an occupant on the first gateway to a room
 * whose other occupant is on the second is logged by the second gateway as one `hop trace`
 * line with every point of HOP_POINTS stamped, in path order (one clock per machine: µs of
 * CLOCK_MONOTONIC), and the two writes off the path are logged as `hop trace ack` lines with the
 * same id (the ingress XADD on the first gateway, the delivery pipeline on the room worker).
 * Joins (presence) are not traced.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { HOP_POINTS, hopNowUs } from '@parley/bus';
import { startMucCluster, type MucCluster, type ServiceProcess } from '@parley/testkit';
import { MucClients } from './support/muc-clients.js';

const ROOM = 'hoptrace@conference.localhost';

let cluster: MucCluster | undefined;
const clients = new MucClients(() => cluster);

before(async () => {
  cluster = await startMucCluster({ name: 'hop-trace', gateways: 2, workers: 1, shards: 4, env: { PARLEY_DEBUG_HOP_TRACE: 'true' } });
});

after(async () => {
  await clients.disconnectAll();
  await cluster?.stop();
});

/** Parsed JSON log lines of `p` whose `msg` is `msg`. */
function lines(p: ServiceProcess, msg: string): Array<Record<string, unknown>> {
  return p.logs.filter((l) => l.includes(`"${msg}"`)).map((l) => JSON.parse(l) as Record<string, unknown>).filter((e) => e['msg'] === msg);
}

test('a traced groupchat delivery has every stamp, in path order, and its two acks', async () => {
  const c = cluster!;
  const alice = await clients.connect('hopalice', 0);
  const bob = await clients.connect('hopbob', 1);
  await clients.join(alice, ROOM, 'alice');
  // XEP-0045 §10.1.2: an instant room, unlocked for the others.
  const made = await clients.iq(alice, 'instant', `<iq type='set' to='${ROOM}' id='instant'><query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='submit'/></query></iq>`);
  assert.equal(made.attrs.type, 'result', made.toString());
  await clients.join(bob, ROOM, 'bob');
  assert.equal(lines(c.gateways[1]!, 'hop trace').length, 0, 'presence is not traced');

  alice.send(`<message to='${ROOM}' type='groupchat' id='m1'><body>traced</body></message>`);
  await clients.next(bob, (el) => el.name === 'message' && el.getChildText('body') === 'traced');
  const line = await c.gateways[1]!.waitForLog((e) => e['msg'] === 'hop trace' && e['to'] === 'hopbob@localhost/res');
  const hop = line['hop'] as Record<string, number>;
  const stamps = HOP_POINTS.map((p) => hop[p]);
  for (const [i, s] of stamps.entries()) assert.equal(typeof s, 'number', `${HOP_POINTS[i]} stamped: ${JSON.stringify(line)}`);
  for (let i = 1; i < stamps.length; i++) assert.ok(stamps[i]! >= stamps[i - 1]!, `${HOP_POINTS[i - 1]} ≤ ${HOP_POINTS[i]}: ${JSON.stringify(hop)}`);
  // µs of the machine's monotonic clock (this process reads the same one), within the test's seconds.
  const now = hopNowUs();
  assert.ok(stamps[stamps.length - 1]! <= now && now - stamps[0]! < 60_000_000, `${stamps[0]} vs ${now}`);
  assert.ok(stamps[stamps.length - 1]! - stamps[0]! < 10_000_000);

  const id = line['hopTrace'];
  assert.match(String(id), /^[A-Za-z0-9._-]+\.\d+$/);
  const gwAck = await c.gateways[0]!.waitForLog((e) => e['msg'] === 'hop trace ack' && e['hopTrace'] === id);
  assert.equal(gwAck['point'], 'gw.xadd');
  assert.ok(Math.abs((gwAck['sent'] as number) - hop['gw.xadd']!) < 0.2, JSON.stringify(gwAck));
  assert.ok((gwAck['reply'] as number) >= (gwAck['sent'] as number));
  const wkAck = await c.workers[0]!.waitForLog((e) => e['msg'] === 'hop trace ack' && e['hopTrace'] === id);
  assert.equal(wkAck['point'], 'wk.sent');
  assert.ok(Math.abs((wkAck['sent'] as number) - hop['wk.sent']!) < 0.2, JSON.stringify(wkAck));
  assert.ok((wkAck['reply'] as number) >= (wkAck['sent'] as number));

  // The sender's own copy (XEP-0045 §7.4) is delivered on the first gateway: traced there, same id.
  const echo = await c.gateways[0]!.waitForLog((e) => e['msg'] === 'hop trace' && e['to'] === 'hopalice@localhost/res');
  assert.equal(echo['hopTrace'], id);
  assert.equal(lines(c.gateways[1]!, 'hop trace').length, 1, 'one line per delivery');
});
