/*
 * XEP-0198 stream management (v1.6.3) §5 after the gateway holding the session was
 * SIGKILLed (issue #13): the reaper keeps the resumable session as an orphan (its registry
 * record, presence and room membership stay; its rooms are re-pointed at the adopting
 * gateway), queues in Redis what was on its way to it, and a `<resume/>` on a surviving
 * gateway claims it: every direct and groupchat message arrives exactly once and in order,
 * and the room's other occupant sees no leave. When the window ends first, the orphan ends
 * as a logout: its messages go to offline storage (RFC 6121 §8.5.3.2) and arrive at the next
 * login, and the room sees the occupant leave. Real processes: 3 gateways, 1 room worker.
 * smacks is not in Prosody 0.12's core, so there is no Prosody transcript to compare with;
 * the expectations come from XEP-0198 §5 and RFC 6121 §8.5.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { elementRe, FEATURES_RE, loginPlain, RawClient, startMucCluster, streamHeader, type GatewayProcess, type MucCluster } from '@parley/testkit';
import { parseSessionRecord, type SessionRecord } from '@parley/bus';

const SM = 'urn:xmpp:sm:3';
const DOMAIN = 'localhost';
const DEAD_AFTER_MS = 2000;
const HEARTBEAT_MS = 500;

let cluster: MucCluster | undefined;
const raws: RawClient[] = [];

before(async () => {
  cluster = await startMucCluster({
    name: 'sm-failover',
    gateways: 3,
    workers: 1,
    shards: 4,
    env: { PARLEY_SM_ACK_REQUEST_MS: '60000', PARLEY_GATEWAY_DEAD_AFTER_MS: String(DEAD_AFTER_MS), PARLEY_HEARTBEAT_MS: String(HEARTBEAT_MS) },
  });
});

after(async () => {
  for (const r of raws) r.destroy();
  await cluster?.stop();
});

const gw = (i: number): GatewayProcess => cluster!.gateways[i]!;

async function connect(g: GatewayProcess): Promise<RawClient> {
  const raw = await RawClient.connect(g.c2sPort);
  raws.push(raw);
  return raw;
}

async function login(g: GatewayProcess, user: string, resource: string): Promise<{ raw: RawClient; jid: string }> {
  const raw = await connect(g);
  const { jid } = await loginPlain(raw, { domain: DOMAIN, user, password: 'pw', resource });
  return { raw, jid };
}

const attr = (text: string, name: string): string | undefined => new RegExp(`\\s${name}=['"]([^'"]*)['"]`).exec(text)?.[1];
const countStanzas = (text: string): number => (text.match(/<(?:message|presence|iq)[\s>/]/g) ?? []).length;

async function enable(raw: RawClient, attrs: string): Promise<string> {
  const from = raw.length;
  await raw.send(`<enable xmlns='${SM}' ${attrs}/>`);
  const [enabled] = await raw.waitFor(/<enabled\b[^>]*\/>/, { from });
  return enabled;
}

async function authOnly(g: GatewayProcess, user: string): Promise<RawClient> {
  const raw = await connect(g);
  await raw.send(streamHeader(DOMAIN));
  await raw.waitFor(FEATURES_RE);
  await raw.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from(`\0${user}\0pw`).toString('base64')}</auth>`);
  await raw.waitFor(/<success\b/);
  const from = raw.length;
  await raw.send(streamHeader(DOMAIN));
  await raw.waitFor(FEATURES_RE, { from });
  return raw;
}

async function resume(raw: RawClient, previd: string, h: number, timeoutMs = 30_000): Promise<string> {
  const from = raw.length;
  await raw.send(`<resume xmlns='${SM}' previd='${previd}' h='${h}'/>`);
  const [answer] = await raw.waitFor(/<resumed\b[^>]*\/>|<failed\b[\s\S]*?<\/failed>/, { from, timeoutMs });
  return answer;
}

async function sessionsOf(bare: string): Promise<Map<string, SessionRecord>> {
  const db = cluster!.redis.client();
  try {
    const raw = await db.hgetall(cluster!.keys.userSessions(bare));
    const out = new Map<string, SessionRecord>();
    for (const [res, v] of Object.entries(raw)) {
      const rec = parseSessionRecord(v);
      if (rec) out.set(res, rec);
    }
    return out;
  } finally {
    db.disconnect();
  }
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const chat = (to: string, body: string, id: string) => `<message type='chat' to='${to}' id='${id}'><body>${body}</body></message>`;
const groupchat = (room: string, body: string, id: string) => `<message type='groupchat' to='${room}' id='${id}'><body>${body}</body></message>`;

/** The offsets of each body in `text`; asserts each occurs exactly once. */
function onceEach(text: string, bodies: string[]): number[] {
  return bodies.map((b) => {
    const all = text.split(`<body>${b}</body>`).length - 1;
    assert.equal(all, 1, `"${b}" should arrive exactly once, arrived ${all} times in ${text}`);
    return text.indexOf(`<body>${b}</body>`);
  });
}

function assertIncreasing(offsets: number[], what: string): void {
  for (let i = 1; i < offsets.length; i++) assert.ok(offsets[i - 1]! < offsets[i]!, `${what} in order: ${offsets.join(', ')}`);
}

async function join(raw: RawClient, room: string, nick: string): Promise<void> {
  const from = raw.length;
  await raw.send(`<presence to='${room}/${nick}'><x xmlns='http://jabber.org/protocol/muc'/></presence>`);
  await raw.waitFor(new RegExp(`<presence[^>]*from=['"]${room}/${nick}['"][\\s\\S]*?status code=['"]110['"]`), { from, timeoutMs: 10_000 });
}

async function createRoom(raw: RawClient, room: string, nick: string): Promise<void> {
  await join(raw, room, nick);
  const from = raw.length;
  await raw.send(`<iq type='set' id='cfg-${nick}' to='${room}'><query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='submit'/></query></iq>`);
  await raw.waitFor(elementRe('iq', { id: `cfg-${nick}` }), { from });
}

const leaveRe = (room: string, nick: string) =>
  new RegExp(`<presence[^>]*(?:from=['"]${room}/${nick}['"][^>]*type=['"]unavailable['"]|type=['"]unavailable['"][^>]*from=['"]${room}/${nick}['"])`);

test('SIGKILL of the holding gateway, resumption on a survivor: every message arrives once, in order; the room sees no leave (XEP-0198 §5)', async (t) => {
  const room = 'failover1@conference.localhost';
  const harry = await login(gw(1), 'harry', 'pc');
  await createRoom(harry.raw, room, 'harry');
  const gina = await login(gw(0), 'gina', 'phone');
  const enabled = await enable(gina.raw, "resume='true'");
  const id = attr(enabled, 'id')!;
  const start = gina.raw.text.indexOf(enabled) + enabled.length;
  let from = gina.raw.length;
  await gina.raw.send('<presence/>');
  await gina.raw.waitFor(/<presence\b/, { from });
  await join(gina.raw, room, 'gina');
  // x0 is received and acknowledged (the server's queue is trimmed); x1 and g1 are received, never acknowledged.
  from = gina.raw.length;
  await harry.raw.send(chat(gina.jid, 'x0', 'h0'));
  await gina.raw.waitFor(/<body>x0<\/body>[\s\S]*?<\/message>/, { from });
  const x0End = gina.raw.text.indexOf('</message>', gina.raw.text.indexOf('<body>x0</body>')) + '</message>'.length;
  const handled = countStanzas(gina.raw.text.slice(start, x0End));
  await gina.raw.send(`<a xmlns='${SM}' h='${handled}'/>`);
  from = gina.raw.length;
  await harry.raw.send(chat(gina.jid, 'x1', 'h1'));
  await harry.raw.send(groupchat(room, 'g1', 'hg1'));
  await gina.raw.waitFor(/<body>x1<\/body>/, { from });
  await gina.raw.waitFor(/<body>g1<\/body>/, { from });
  const watch = harry.raw.length;

  const killedAt = Date.now();
  await gw(0).kill('SIGKILL');
  await gina.raw.closed();
  // In flight while gateway 0 is dead and not yet reaped: they go to its delivery stream.
  await harry.raw.send(chat(gina.jid, 'x2', 'h2'));
  await harry.raw.send(chat('gina@localhost', 'x3', 'h3'));
  await harry.raw.send(groupchat(room, 'g2', 'hg2'));
  // The client reconnects to a survivor at once: the resumption waits for the reap of gateway 0
  // (its takeover request goes unanswered), then claims the session the reaper kept.
  const back = await authOnly(gw(1), 'gina');
  const rf = back.length;
  const resuming = resume(back, id, handled);
  const moved = await until('gina kept by a survivor', async () => {
    const r = (await sessionsOf('gina@localhost')).get('phone');
    return r && r.gateway !== gw(0).gatewayId ? r : undefined;
  });
  t.diagnostic(`session moved off the dead gateway ${Date.now() - killedAt} ms after SIGKILL (to ${moved.gateway})`);
  assert.ok(moved.available, 'still available');
  // After the reap: routed to the adopting gateway (queued there) or to the resumed session.
  await harry.raw.send(chat(gina.jid, 'x4', 'h4'));
  await harry.raw.send(groupchat(room, 'g3', 'hg3'));
  const resumed = await resuming;
  t.diagnostic(`resumed ${Date.now() - killedAt} ms after SIGKILL`);
  assert.match(resumed, /^<resumed\b/, resumed);
  assert.equal(attr(resumed, 'h'), '2', "gina's presence and room join were handled");
  await back.waitFor(/<body>g3<\/body>/, { from: rf, timeoutMs: 10_000 });
  await back.waitFor(/<body>x4<\/body>/, { from: rf, timeoutMs: 10_000 });
  await new Promise((r) => setTimeout(r, 500));
  let text = back.text.slice(rf);
  assert.ok(!text.includes('<body>x0</body>'), 'x0 was acknowledged and is not sent again');
  assertIncreasing(onceEach(text, ['x1', 'x2', 'x3', 'x4']), 'direct messages');
  assertIncreasing(onceEach(text, ['g1', 'g2', 'g3']), 'groupchat messages');
  const record = (await sessionsOf('gina@localhost')).get('phone');
  assert.equal(record?.gateway, gw(1).gatewayId, 'the registry record names the resuming gateway');
  assert.equal(record?.detached, undefined);

  // The session goes on: new messages both ways, as the same occupant.
  const after = back.length;
  await harry.raw.send(chat(gina.jid, 'x5', 'h5'));
  await harry.raw.send(groupchat(room, 'g4', 'hg4'));
  await back.waitFor(/<body>x5<\/body>/, { from: after });
  await back.waitFor(/<body>g4<\/body>/, { from: after });
  await back.send(groupchat(room, 'from gina', 'gg'));
  await harry.raw.waitFor(/<body>from gina<\/body>/, { from: watch });
  await new Promise((r) => setTimeout(r, 300));
  text = back.text.slice(rf);
  onceEach(text, ['x5', 'g4']);
  assert.doesNotMatch(harry.raw.text.slice(watch), leaveRe(room, 'gina'), 'the room never saw gina leave');
  assert.doesNotMatch(harry.raw.text.slice(watch), /type=['"]error['"]/, 'nothing bounced to the sender');
  // A clean close ends it: the room sees gina leave now (the check above can fail).
  await back.send('</stream:stream>');
  await harry.raw.waitFor(leaveRe(room, 'gina'), { from: watch, timeoutMs: 10_000 });
  const db = cluster!.redis.client();
  try {
    await until('the Redis state is deleted', async () => ((await db.exists(cluster!.keys.smState('gina@localhost', id))) === 0 ? true : undefined));
  } finally {
    db.disconnect();
  }
});

test('the window of an orphan ends: its messages go to offline storage and arrive at the next login; the room sees the occupant leave (RFC 6121 §8.5.3.2)', async () => {
  const room = 'failover2@conference.localhost';
  const judy = await login(gw(1), 'judy', 'pc');
  await createRoom(judy.raw, room, 'judy');
  const ivan = await login(gw(2), 'ivan', 'phone');
  const id = attr(await enable(ivan.raw, "resume='true' max='2'"), 'id')!;
  let from = ivan.raw.length;
  await ivan.raw.send('<presence/>');
  await ivan.raw.waitFor(/<presence\b/, { from });
  await join(ivan.raw, room, 'ivan');
  from = ivan.raw.length;
  await judy.raw.send(chat(ivan.jid, 'y1', 'j1'));
  await ivan.raw.waitFor(/<body>y1<\/body>/, { from });
  const watch = judy.raw.length;
  await gw(2).kill('SIGKILL');
  await ivan.raw.closed();
  await judy.raw.send(chat(ivan.jid, 'y2', 'j2'));
  const orphan = await until('ivan kept as an orphan', async () => {
    const r = (await sessionsOf('ivan@localhost')).get('phone');
    return r && r.gateway !== gw(2).gatewayId ? r : undefined;
  });
  assert.ok(orphan.detached !== undefined && orphan.available, 'kept detached and available: no leave, bare-JID messages still routed to it');
  assert.equal(orphan.gateway, gw(1).gatewayId, 'adopted by the survivor');
  await judy.raw.send(chat('ivan@localhost', 'y3', 'j3'));
  // The window (2 s from the reap) ends: a logout.
  const db = cluster!.redis.client();
  try {
    await until('three offline messages', async () => ((await db.llen(cluster!.keys.offline('ivan@localhost'))) === 3 ? true : undefined), 20_000).catch(async (err: unknown) => {
      console.error('# state when the offline messages were missing: offline', await db.lrange(cluster!.keys.offline('ivan@localhost'), 0, -1), 'expiring', await db.zrange(cluster!.keys.smExpiring(), '0', '-1', 'WITHSCORES'), 'state', await db.hgetall(cluster!.keys.smState('ivan@localhost', id)), 'q', await db.lrange(cluster!.keys.smQueue('ivan@localhost', id), 0, -1), 'sessions', await sessionsOf('ivan@localhost'));
      throw err;
    });
    assert.equal(await db.exists(cluster!.keys.smState('ivan@localhost', id)), 0, 'the Redis state is gone');
    assert.equal(await db.zcard(cluster!.keys.smExpiring()), 0, 'nothing left to sweep');
  } finally {
    db.disconnect();
  }
  assert.equal((await sessionsOf('ivan@localhost')).size, 0, 'the session ended');
  await judy.raw.waitFor(leaveRe(room, 'ivan'), { from: watch, timeoutMs: 10_000 });
  assert.doesNotMatch(judy.raw.text.slice(watch), /type=['"]error['"]/, 'nothing bounced to the sender');
  const late = await authOnly(gw(1), 'ivan');
  assert.match(await resume(late, id, 0), /<failed\b[\s\S]*<item-not-found\b/);
  const fb = late.length;
  await late.send(`<iq type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>phone</resource></bind></iq>`);
  await late.waitFor(elementRe('iq', { id: 'bind1' }), { from: fb });
  await late.send('<presence/>');
  await late.waitFor(/<body>y3<\/body>/, { from: fb });
  await new Promise((r) => setTimeout(r, 300));
  const text = late.text.slice(fb);
  assertIncreasing(onceEach(text, ['y1', 'y2', 'y3']), 'offline messages');
  assert.match(text, /<delay xmlns=['"]urn:xmpp:delay['"]/);
});
