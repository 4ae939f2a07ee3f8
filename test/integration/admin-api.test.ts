/*
 * The admin REST API end to end, against a running multi-process cluster: redis-server, two
 * gateways, two room workers and the admin API process (issue #4). Real XMPP clients (raw
 * sockets) see what REST calls do: a room created over REST is joinable with its
 * configuration; a kick gives the occupant status 307 and the others the right presence;
 * deleting a user removes them from every room's affiliation lists and a re-created account
 * of the same name has no old privilege; an announcement reaches every online client and its
 * job reaches 100%; a message stored offline through the API reaches its recipient at login and
 * is in the recipient's XEP-0313 archive under the stanza-id it arrives with.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Element } from 'ltx';
import { startMucCluster, type GatewayProcess, type MucCluster } from '@parley/testkit';
import { ScansionClient } from '../scansion/lib/client.js';

const MUC = 'conference.localhost';
const MUC_USER = 'http://jabber.org/protocol/muc#user';

let cluster: MucCluster | undefined;
const clients: ScansionClient[] = [];

before(async () => {
  cluster = await startMucCluster({ name: 'admin', adminApi: true });
});

after(async () => {
  for (const c of clients) await c.disconnect().catch(() => undefined);
  await cluster?.stop();
});

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const api = cluster!.adminApi!;
  const res = await fetch(`${api.url}${path}`, {
    method,
    headers: { ...api.headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

async function connect(user: string, gw: GatewayProcess): Promise<ScansionClient> {
  const c = await ScansionClient.connect({ host: '127.0.0.1', port: gw.c2sPort, jid: `${user}@localhost`, password: 'pw' });
  clients.push(c);
  return c;
}

const until = (c: ScansionClient, pred: (el: Element) => boolean, what: string, timeoutMs = 10_000): Promise<Element> => c.nextMatching(pred, timeoutMs, what);

const statusCodes = (el: Element) => el.getChild('x', MUC_USER)?.getChildren('status').map((s) => s.attrs.code) ?? [];
const selfPresence = (room: string, nick: string) => (el: Element) => el.name === 'presence' && el.attrs.from === `${room}/${nick}` && statusCodes(el).includes('110');

async function join(c: ScansionClient, room: string, nick: string, password?: string): Promise<Element> {
  c.send(`<presence to='${room}/${nick}'><x xmlns='http://jabber.org/protocol/muc'>${password ? `<password>${password}</password>` : ''}</x></presence>`);
  return until(c, (el) => el.name === 'presence' && el.attrs.from === `${room}/${nick}`, `${nick}'s join`);
}

async function waitForJob(id: string): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const { status, json } = await call('GET', `/v1/jobs/${encodeURIComponent(id)}`);
    assert.equal(status, 200, JSON.stringify(json));
    if (json.state === 'completed' || json.state === 'failed') return json;
    assert.ok(Date.now() < deadline, `job ${id} did not finish: ${JSON.stringify(json)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('a room created over REST is joinable with its configuration', async () => {
  const room = `rest-made@${MUC}`;
  const created = await call('POST', '/v1/rooms', {
    jid: room,
    config: { name: 'Made over REST', moderated: true, passwordProtected: true, password: 'sesame' },
  });
  assert.equal(created.status, 201, JSON.stringify(created.json));

  const c = await connect('visitor', cluster!.gateways[0]!);
  const refused = await join(c, room, 'Visitor');
  assert.equal(refused.attrs.type, 'error');
  assert.ok(refused.getChild('error')?.getChild('not-authorized', 'urn:ietf:params:xml:ns:xmpp-stanzas'), refused.toString());

  const joined = await join(c, room, 'Visitor', 'sesame');
  assert.notEqual(joined.attrs.type, 'error', joined.toString());
  assert.ok(!statusCodes(joined).includes('201'), 'not created by the join: it existed already');
  // Moderated: an occupant without affiliation enters as a visitor (XEP-0045 §5.1).
  assert.equal(joined.getChild('x', MUC_USER)?.getChild('item')?.attrs.role, 'visitor');

  c.send(`<iq type='get' to='${room}' id='info'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`);
  const info = await until(c, (el) => el.name === 'iq' && el.attrs.id === 'info', 'disco#info');
  const query = info.getChild('query', 'http://jabber.org/protocol/disco#info');
  assert.equal(query?.getChild('identity')?.attrs.name, 'Made over REST');

  const got = await call('GET', `/v1/rooms/${encodeURIComponent(room)}`);
  assert.equal(got.status, 200);
  const occupants = got.json.occupants as Array<{ nick: string }>;
  assert.deepEqual(occupants.map((o) => o.nick), ['Visitor']);
});

test('a kick over REST: status 307 to the occupant, unavailable presence with 307 to the others', async () => {
  const room = `kick-rest@${MUC}`;
  assert.equal((await call('POST', '/v1/rooms', { jid: room })).status, 201);
  const alice = await connect('alice', cluster!.gateways[0]!);
  const bob = await connect('bob', cluster!.gateways[1]!);
  await join(alice, room, 'Alice');
  await join(bob, room, 'Bob');
  await until(alice, (el) => el.name === 'presence' && el.attrs.from === `${room}/Bob`, "Bob's arrival");

  const kicked = await call('DELETE', `/v1/rooms/${encodeURIComponent(room)}/occupants/Bob`, { reason: 'Too loud' });
  assert.ok(kicked.status === 200 || kicked.status === 204, JSON.stringify(kicked.json));

  const self = await until(bob, (el) => el.name === 'presence' && el.attrs.type === 'unavailable', "Bob's removal");
  assert.deepEqual(statusCodes(self).filter((c) => c !== '110'), ['307']);
  assert.ok(statusCodes(self).includes('110'));
  assert.equal(self.getChild('x', MUC_USER)?.getChild('item')?.getChildText('reason'), 'Too loud');
  const seen = await until(alice, (el) => el.name === 'presence' && el.attrs.from === `${room}/Bob` && el.attrs.type === 'unavailable', 'the kick, seen by Alice');
  assert.deepEqual(statusCodes(seen), ['307']);
  assert.equal(seen.getChild('x', MUC_USER)?.getChild('item')?.attrs.role, 'none');
});

test('deleting a user removes their affiliations everywhere; the same name re-created has no old privilege', async () => {
  const rooms = [`del-one@${MUC}`, `del-two@${MUC}`];
  for (const room of rooms) {
    assert.equal((await call('POST', '/v1/rooms', { jid: room, config: { membersOnly: true } })).status, 201);
    const set = await call('PUT', `/v1/rooms/${encodeURIComponent(room)}/affiliations/${encodeURIComponent('carol@localhost')}`, { affiliation: 'admin' });
    assert.ok(set.status === 200 || set.status === 204, JSON.stringify(set.json));
  }
  assert.equal((await call('POST', '/v1/users', { jid: 'carol@localhost', password: 'carol-pw' })).status, 201);

  const deleted = await call('DELETE', `/v1/users/${encodeURIComponent('carol@localhost')}`);
  assert.equal(deleted.status, 202, JSON.stringify(deleted.json));
  const job = await waitForJob(String(deleted.json.id));
  assert.equal(job.state, 'completed', JSON.stringify(job));
  assert.equal(job.progress, 100);

  for (const room of rooms) {
    const list = await call('GET', `/v1/rooms/${encodeURIComponent(room)}/affiliations`);
    assert.equal(list.status, 200);
    const jids = (list.json.items as Array<{ jid: string }>).map((i) => i.jid);
    assert.ok(!jids.includes('carol@localhost'), `${room} still lists carol: ${jids.join(', ')}`);
  }
  // The name is remembered for a while: re-creating it is refused unless the operator insists.
  const again = await call('POST', '/v1/users', { jid: 'carol@localhost', password: 'new-pw' });
  assert.equal(again.status, 409, JSON.stringify(again.json));
  const forced = await call('POST', '/v1/users', { jid: 'carol@localhost', password: 'new-pw', ignoreTombstone: true });
  assert.equal(forced.status, 201, JSON.stringify(forced.json));

  // The new carol is an ordinary user: the members-only rooms refuse her.
  const carol = await connect('carol', cluster!.gateways[1]!);
  const refused = await join(carol, rooms[0]!, 'Carol');
  assert.equal(refused.attrs.type, 'error', refused.toString());
  assert.ok(refused.getChild('error')?.getChild('registration-required', 'urn:ietf:params:xml:ns:xmpp-stanzas'), refused.toString());
});

test('an announcement reaches every online client, and its job reaches 100%', async () => {
  const online = [await connect('ann1', cluster!.gateways[0]!), await connect('ann2', cluster!.gateways[1]!), await connect('ann3', cluster!.gateways[0]!)];
  const started = await call('POST', '/v1/announcements', { body: 'Maintenance at noon' });
  assert.equal(started.status, 202, JSON.stringify(started.json));
  for (const c of online) {
    const msg = await until(c, (el) => el.name === 'message' && el.getChildText('body') === 'Maintenance at noon', 'the announcement');
    assert.equal(msg.attrs.from, 'localhost');
  }
  const job = await waitForJob(String(started.json.id));
  assert.equal(job.state, 'completed');
  assert.equal(job.progress, 100);
  assert.ok(Number((job.result as { delivered?: number } | undefined)?.delivered) >= online.length, JSON.stringify(job.result));
});

test('a message to an account with nobody online is stored offline and delivered at its next initial presence', async () => {
  assert.equal((await call('POST', '/v1/users', { jid: 'offline-rest@localhost', password: 'pw' })).status, 201);
  const sent = await call('POST', '/v1/messages', { to: 'offline-rest@localhost', body: 'While you were away', type: 'chat' });
  assert.equal(sent.status, 202, JSON.stringify(sent.json));
  assert.equal(sent.json.stored, 'offline');
  assert.equal((await call('POST', '/v1/messages', { to: 'nobody-here@localhost', body: 'x' })).status, 404);

  const c = await connect('offline-rest', cluster!.gateways[1]!);
  c.send('<presence/>');
  const msg = await until(c, (el) => el.name === 'message' && el.getChildText('body') === 'While you were away', 'the offline message');
  assert.equal(msg.attrs.id, sent.json.id);
  assert.equal(msg.attrs.from, 'localhost');
  assert.equal(msg.attrs.type, 'chat');
  const delay = msg.getChild('delay', 'urn:xmpp:delay');
  assert.equal(delay?.attrs.from, 'localhost');
  assert.ok(Math.abs(Date.parse(String(delay?.attrs.stamp)) - Date.now()) < 60_000, msg.toString());
  // Taken once: online now, the next message is delivered, not stored.
  const online = await call('POST', '/v1/messages', { to: 'offline-rest@localhost', body: 'Now online' });
  assert.equal(online.status, 200, JSON.stringify(online.json));
  assert.equal(online.json.delivered, 1);
});

test('a message the API stores offline is in the recipient\'s XEP-0313 archive, under the stanza-id of the copy it gets', async () => {
  assert.equal((await call('POST', '/v1/users', { jid: 'mam-rest@localhost', password: 'pw' })).status, 201);
  const sent = await call('POST', '/v1/messages', { to: 'mam-rest@localhost', body: 'Archived while away', type: 'chat' });
  assert.equal(sent.status, 202, JSON.stringify(sent.json));

  const c = await connect('mam-rest', cluster!.gateways[0]!);
  c.send('<presence/>');
  const msg = await until(c, (el) => el.name === 'message' && el.getChildText('body') === 'Archived while away', 'the offline message');
  assert.equal(msg.attrs.id, sent.json.id);
  const sids = msg.getChildren('stanza-id', 'urn:xmpp:sid:0');
  assert.equal(sids.length, 1, msg.toString());
  assert.equal(sids[0]!.attrs.by, 'mam-rest@localhost');
  const archiveId = String(sids[0]!.attrs.id);

  // XEP-0313 §4: the account's own archive holds it under that id, as from the server.
  c.send("<iq type='set' id='mam-rest-q'><query xmlns='urn:xmpp:mam:2' queryid='f1'/></iq>");
  const results: Element[] = [];
  for (;;) {
    const el = await until(c, (e) => (e.name === 'iq' && e.attrs.id === 'mam-rest-q') || (e.name === 'message' && e.getChild('result', 'urn:xmpp:mam:2')?.attrs.queryid === 'f1'), 'the archive query');
    if (el.name === 'iq') {
      assert.equal(el.attrs.type, 'result', el.toString());
      break;
    }
    results.push(el.getChild('result', 'urn:xmpp:mam:2')!);
  }
  assert.equal(results.length, 1, results.join('\n'));
  assert.equal(results[0]!.attrs.id, archiveId);
  const archived = results[0]!.getChild('forwarded', 'urn:xmpp:forward:0')?.getChild('message');
  assert.equal(archived?.getChildText('body'), 'Archived while away');
  assert.equal(archived?.attrs.from, 'localhost');
  assert.equal(archived?.attrs.id, sent.json.id);
});

test('room bodies: PATCH takes the config of POST; GET leaves the password out unless ?secrets=true', async () => {
  const room = `rest-secret@${MUC}`;
  assert.equal((await call('POST', '/v1/rooms', { jid: room, config: { password: 'opensesame' } })).status, 201);
  const patched = await call('PATCH', `/v1/rooms/${encodeURIComponent(room)}`, { config: { name: 'Secret room' } });
  assert.equal(patched.status, 200, JSON.stringify(patched.json));
  const config = patched.json.config as Record<string, unknown>;
  assert.equal(config.name, 'Secret room');
  assert.equal(config.passwordProtected, true);
  assert.equal(config.password, undefined);
  const secret = await call('GET', `/v1/rooms/${encodeURIComponent(room)}?secrets=true`);
  assert.equal((secret.json.config as Record<string, unknown>).password, 'opensesame');
});
