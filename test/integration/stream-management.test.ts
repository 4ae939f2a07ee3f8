/*
 * XEP-0198 stream management (v1.6.3) with real gateways, room workers and raw sockets:
 * the <sm/> feature, <enable/> and the <failed/> cases (§3, §6), acks both ways (§4: the
 * server's h counts the client's stanzas, the server asks for acks after
 * PARLEY_SM_ACK_REQUEST_STANZAS stanzas, an h above what was sent is a stream error),
 * resumption on the same gateway (§5: messages sent while detached arrive once each and in
 * order, the client's h decides what is re-sent, the old SM-ID is refused afterwards), the
 * timeout (the unacknowledged and queued messages go to offline storage, RFC 6121 §8.5,
 * and arrive at the next login), a room that keeps the occupant during a resumption, and a
 * resumption on the other gateway (the session, its queue and its room membership move).
 * The <failed/> conditions and stream errors are those Prosody 0.12's mod_smacks gives
 * (compared by raw transcripts; differences in docs/xeps.md).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { elementRe, FEATURES_RE, loginPlain, RawClient, startMucCluster, streamHeader, type GatewayProcess, type MucCluster } from '@parley/testkit';
import { parseSessionRecord, type SessionRecord } from '@parley/bus';

const SM = 'urn:xmpp:sm:3';
const DOMAIN = 'localhost';
const ROOM = 'smroom@conference.localhost';
const ACK_EVERY = 3;

let cluster: MucCluster | undefined;
const raws: RawClient[] = [];

before(async () => {
  cluster = await startMucCluster({ name: 'stream-management', gateways: 2, workers: 1, shards: 4, env: { PARLEY_SM_ACK_REQUEST_STANZAS: String(ACK_EVERY), PARLEY_SM_ACK_REQUEST_MS: '60000' } });
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

/** Logs in with PLAIN and binds; asserts the <sm/> feature is offered after authentication. */
async function login(g: GatewayProcess, user: string, resource: string): Promise<{ raw: RawClient; jid: string }> {
  const raw = await connect(g);
  const { jid, features } = await loginPlain(raw, { domain: DOMAIN, user, password: 'pw', resource });
  assert.match(features, /<sm xmlns=['"]urn:xmpp:sm:3['"]/);
  return { raw, jid };
}

/** Sends <enable/> and returns the <enabled/> element's text. */
async function enable(raw: RawClient, attrs = ''): Promise<string> {
  const from = raw.length;
  await raw.send(`<enable xmlns='${SM}' ${attrs}/>`);
  const [enabled] = await raw.waitFor(/<enabled\b[^>]*\/>|<failed\b[\s\S]*?<\/failed>/, { from });
  return enabled;
}

const attr = (text: string, name: string): string | undefined => new RegExp(`\\s${name}=['"]([^'"]*)['"]`).exec(text)?.[1];

/** Top-level stanzas in a raw text slice (the messages here carry no nested stanzas). */
const countStanzas = (text: string): number => (text.match(/<(?:message|presence|iq)[\s>/]/g) ?? []).length;

/** Opens a new stream and authenticates with PLAIN, without binding; returns after the post-auth features. */
async function authOnly(g: GatewayProcess, user: string): Promise<RawClient> {
  const raw = await connect(g);
  await raw.send(streamHeader(DOMAIN));
  await raw.waitFor(FEATURES_RE);
  await raw.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from(`\0${user}\0pw`).toString('base64')}</auth>`);
  await raw.waitFor(/<success\b/);
  const from = raw.length;
  await raw.send(streamHeader(DOMAIN));
  const [features] = await raw.waitFor(FEATURES_RE, { from });
  assert.match(features, /<sm xmlns=['"]urn:xmpp:sm:3['"]/);
  return raw;
}

/** Sends <resume/> and returns the answer (<resumed/> or <failed/>). */
async function resume(raw: RawClient, previd: string, h: number): Promise<string> {
  const from = raw.length;
  await raw.send(`<resume xmlns='${SM}' previd='${previd}' h='${h}'/>`);
  const [answer] = await raw.waitFor(/<resumed\b[^>]*\/>|<failed\b[\s\S]*?<\/failed>/, { from });
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

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 8000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const chat = (to: string, body: string, id: string) => `<message type='chat' to='${to}' id='${id}'><body>${body}</body></message>`;

/** The offsets of each body in `text`; asserts each occurs exactly once. */
function onceEach(text: string, bodies: string[]): number[] {
  return bodies.map((b) => {
    const all = text.split(`<body>${b}</body>`).length - 1;
    assert.equal(all, 1, `"${b}" should arrive exactly once, arrived ${all} times in ${text}`);
    return text.indexOf(`<body>${b}</body>`);
  });
}

test('enable, acks both ways, and the <failed/> and stream error cases (XEP-0198 §3, §4, §6)', async () => {
  // <r/> before <enable/>: an unsupported-stanza-type stream error, as Prosody 0.12.
  const early = await login(gw(0), 'smack', 'r0');
  await early.raw.send(`<r xmlns='${SM}'/>`);
  await early.raw.waitFor(/<stream:error>\s*<unsupported-stanza-type\b/);
  await early.raw.closed();
  const { raw } = await login(gw(0), 'smack', 'r1');
  let from = raw.length;
  const enabled = await enable(raw);
  assert.match(enabled, /^<enabled\b/);
  assert.equal(attr(enabled, 'resume'), undefined, 'no resumption when not asked');
  assert.equal(attr(enabled, 'id'), undefined);
  // §3: a second <enable/> fails.
  assert.match(await enable(raw), /<failed\b[\s\S]*<unexpected-request xmlns=['"]urn:ietf:params:xml:ns:xmpp-stanzas['"]/);
  // Three pings: the server handled 3 stanzas and sent 3 replies, then asks for an ack (ACK_EVERY = 3).
  from = raw.length;
  for (let i = 0; i < 3; i++) await raw.send(`<iq type='get' id='p${i}' to='${DOMAIN}'><ping xmlns='urn:xmpp:ping'/></iq>`);
  await raw.waitFor(elementRe('iq', { id: 'p2' }), { from });
  await raw.waitFor(/<r xmlns=['"]urn:xmpp:sm:3['"]\/>/, { from });
  const f2 = raw.length;
  await raw.send(`<r xmlns='${SM}'/>`);
  const [a] = await raw.waitFor(/<a xmlns=['"]urn:xmpp:sm:3['"][^>]*\/>/, { from: f2 });
  assert.equal(attr(a, 'h'), '3');
  await raw.send(`<a xmlns='${SM}' h='3'/>`);
  // One more reply: acknowledging 5 is more than was sent (4): §6 handled-count-too-high.
  const f3 = raw.length;
  await raw.send(`<iq type='get' id='p3' to='${DOMAIN}'><ping xmlns='urn:xmpp:ping'/></iq>`);
  await raw.waitFor(elementRe('iq', { id: 'p3' }), { from: f3 });
  await raw.send(`<a xmlns='${SM}' h='5'/>`);
  const [err] = await raw.waitFor(/<stream:error>[\s\S]*?<\/stream:error>/, { from: f3 });
  assert.match(err, /<undefined-condition\b/);
  assert.match(err, /<handled-count-too-high xmlns=['"]urn:xmpp:sm:3['"]/);
  assert.equal(attr(err.slice(err.indexOf('handled-count')), 'send-count'), '4');
  await raw.closed();

  // §3: <enable/> before binding fails; §5: an unknown SM-ID is item-not-found.
  const r2 = await authOnly(gw(0), 'smack');
  assert.match(await enable(r2), /<failed\b[\s\S]*<unexpected-request\b/);
  assert.match(await resume(r2, 'no-such-id', 0), /<failed\b[\s\S]*<item-not-found\b/);
  assert.match(await resume(r2, 'no-such-id', -1 as number), /<failed\b[\s\S]*<item-not-found\b/, 'a malformed h too (as Prosody)');
});

test('resumption on the same gateway: what was sent while detached arrives once, in order; h decides what is re-sent (XEP-0198 §5)', async () => {
  const alice = await login(gw(0), 'alice', 'phone');
  const enabled = await enable(alice.raw, "resume='true'");
  const id = attr(enabled, 'id');
  assert.ok(id, enabled);
  assert.equal(attr(enabled, 'resume'), 'true');
  assert.equal(attr(enabled, 'max'), '300', 'the default window, as Prosody smacks');
  const since = alice.raw.length;
  await alice.raw.send(`<presence/>`);
  await alice.raw.waitFor(/<presence\b/, { from: since });
  const bob = await login(gw(1), 'bob', 'pc');
  await bob.raw.send(chat(alice.jid, 'm1', 'b1'));
  await alice.raw.waitFor(/<body>m1<\/body>/, { from: since });
  // The client handled everything it got so far (it read m1) but never acked; the connection drops.
  const handled = countStanzas(alice.raw.text.slice(since));
  alice.raw.destroy();
  const bare = 'alice@localhost';
  const detached = await until('alice detached', async () => (await sessionsOf(bare)).get('phone')?.detached);
  assert.ok(detached > 0);
  // While detached: to the full JID and to the bare JID (the session is still available).
  await bob.raw.send(chat(alice.jid, 'm2', 'b2'));
  await bob.raw.send(chat(bare, 'm3', 'b3'));
  await bob.raw.send(chat(alice.jid, 'm4', 'b4'));
  await new Promise((r) => setTimeout(r, 300));
  const back = await authOnly(gw(0), 'alice');
  const from = back.length;
  const resumed = await resume(back, id, handled);
  assert.match(resumed, /^<resumed\b/);
  assert.equal(attr(resumed, 'previd'), id);
  assert.equal(attr(resumed, 'h'), '1', 'the server handled one stanza of alice: her presence');
  await back.waitFor(/<body>m4<\/body>/, { from });
  await new Promise((r) => setTimeout(r, 300));
  const text = back.text.slice(from);
  const [p2, p3, p4] = onceEach(text, ['m2', 'm3', 'm4']);
  assert.ok(p2! < p3! && p3! < p4!, `in order: ${text}`);
  assert.ok(!text.includes('<body>m1</body>'), 'm1 was acknowledged by h and is not sent again');
  const record = (await sessionsOf(bare)).get('phone');
  assert.equal(record?.detached, undefined, 'the registry record is no longer marked detached');
  // The resumed session works both ways and keeps its JID; its counters carried over (h = 2 after one more stanza).
  const fb = bob.raw.length;
  await back.send(chat('bob@localhost/pc', 'after', 'a1'));
  await bob.raw.waitFor(new RegExp(`from=['"]${alice.jid}['"][^>]*>\\s*<body>after</body>|<body>after</body>`), { from: fb });
  const fr = back.length;
  await back.send(`<r xmlns='${SM}'/>`);
  const [a] = await back.waitFor(/<a xmlns=['"]urn:xmpp:sm:3['"][^>]*\/>/, { from: fr });
  assert.equal(attr(a, 'h'), '2');
  // The SM-ID belongs to the resumed stream now: another resumption of it from a second stream takes it over (conflict on this one).
  const again = await authOnly(gw(0), 'alice');
  const r3 = await resume(again, id, handled + 3);
  assert.match(r3, /^<resumed\b/);
  await back.waitFor(/<stream:error>\s*<conflict\b/, { from: fr });
  // A clean close ends the session: no resumption afterwards.
  await again.send(`<a xmlns='${SM}' h='${handled + 3}'/></stream:stream>`);
  await again.closed();
  await until('alice gone', async () => ((await sessionsOf(bare)).size === 0 ? true : undefined));
  const late = await authOnly(gw(0), 'alice');
  assert.match(await resume(late, id, 0), /<failed\b[\s\S]*<item-not-found\b/);
  await bob.raw.send('</stream:stream>');
});

test('timeout without resumption: unacknowledged and queued messages go to offline storage and arrive at the next login (RFC 6121 §8.5)', async () => {
  const carol = await login(gw(0), 'carol', 'tablet');
  const enabled = await enable(carol.raw, "resume='1' max='1'");
  assert.equal(attr(enabled, 'max'), '1', "the client's smaller max is granted");
  const id = attr(enabled, 'id')!;
  const since = carol.raw.length;
  await carol.raw.send('<presence/>');
  const dave = await login(gw(1), 'dave', 'pc');
  await dave.raw.send(chat('carol@localhost', 'u1', 'd1'));
  await carol.raw.waitFor(/<body>u1<\/body>/, { from: since });
  carol.raw.destroy(); // u1 was never acknowledged
  await until('carol detached', async () => (await sessionsOf('carol@localhost')).get('tablet')?.detached);
  await dave.raw.send(chat('carol@localhost/tablet', 'u2', 'd2'));
  const db = cluster!.redis.client();
  try {
    await until('two offline messages', async () => ((await db.llen(cluster!.keys.offline('carol@localhost'))) === 2 ? true : undefined), 10_000);
  } finally {
    db.disconnect();
  }
  assert.equal((await sessionsOf('carol@localhost')).size, 0, 'the session ended');
  const late = await authOnly(gw(0), 'carol');
  assert.match(await resume(late, id, 0), /<failed\b[\s\S]*<item-not-found\b/);
  // The stream stays usable after <failed/> (§5): bind and come online.
  const fb = late.length;
  await late.send(`<iq type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>tablet</resource></bind></iq>`);
  await late.waitFor(elementRe('iq', { id: 'bind1' }), { from: fb });
  await late.send('<presence/>');
  await late.waitFor(/<body>u2<\/body>/, { from: fb });
  await new Promise((r) => setTimeout(r, 200));
  const text = late.text.slice(fb);
  const [p1, p2] = onceEach(text, ['u1', 'u2']);
  assert.ok(p1! < p2!, 'in order');
  assert.match(text, /<delay xmlns=['"]urn:xmpp:delay['"]/);
  // Dave got no error: nothing bounced.
  assert.doesNotMatch(dave.raw.text, /type=['"]error['"]/);
});

test('a room keeps the occupant while the session is detached and resumed; its messages are queued (XEP-0198 §5)', async () => {
  const erin = await login(gw(1), 'erin', 'pc');
  const frank = await login(gw(0), 'frank', 'phone');
  const id = attr(await enable(frank.raw, "resume='true'"), 'id')!;
  const join = async (raw: RawClient, nick: string) => {
    const from = raw.length;
    await raw.send(`<presence to='${ROOM}/${nick}'><x xmlns='http://jabber.org/protocol/muc'/></presence>`);
    await raw.waitFor(new RegExp(`<presence[^>]*from=['"]${ROOM}/${nick}['"][\\s\\S]*?status code=['"]110['"]`), { from, timeoutMs: 10_000 });
  };
  await join(erin.raw, 'erin');
  const fc = erin.raw.length;
  await erin.raw.send(`<iq type='set' id='cfg' to='${ROOM}'><query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='submit'/></query></iq>`);
  await erin.raw.waitFor(elementRe('iq', { id: 'cfg' }), { from: fc });
  await join(frank.raw, 'frank');
  const since = frank.raw.length;
  const handled = countStanzas(frank.raw.text.slice(frank.raw.text.indexOf('<enabled')));
  const watch = erin.raw.length;
  frank.raw.destroy();
  await until('frank detached', async () => (await sessionsOf('frank@localhost')).get('phone')?.detached);
  await erin.raw.send(`<message type='groupchat' to='${ROOM}' id='g1'><body>while away</body></message>`);
  await erin.raw.waitFor(/<body>while away<\/body>/, { from: watch });
  const back = await authOnly(gw(0), 'frank');
  const from = back.length;
  assert.match(await resume(back, id, handled), /^<resumed\b/);
  await back.waitFor(/<body>while away<\/body>/, { from });
  await new Promise((r) => setTimeout(r, 300));
  onceEach(back.text.slice(from), ['while away']);
  assert.ok(since > 0);
  // Frank is still an occupant: a message from him reaches the room.
  await back.send(`<message type='groupchat' to='${ROOM}' id='g2'><body>back</body></message>`);
  await erin.raw.waitFor(/<body>back<\/body>/, { from: watch });
  assert.doesNotMatch(erin.raw.text.slice(watch), new RegExp(`<presence[^>]*from=['"]${ROOM}/frank['"][^>]*type=['"]unavailable['"]`), 'no leave during the resumption');
  // The check can fail: a clean close makes frank leave.
  await back.send('</stream:stream>');
  await erin.raw.waitFor(new RegExp(`<presence[^>]*(?:from=['"]${ROOM}/frank['"][^>]*type=['"]unavailable['"]|type=['"]unavailable['"][^>]*from=['"]${ROOM}/frank['"])`), { from: watch, timeoutMs: 10_000 });
});

test('resumption on another gateway: the session, its queue and its room membership move; nothing lost or repeated (XEP-0198 §5)', async () => {
  const room = 'smroom2@conference.localhost';
  const harry = await login(gw(1), 'harry', 'pc');
  const gina = await login(gw(0), 'gina', 'phone');
  const id = attr(await enable(gina.raw, "resume='true'"), 'id')!;
  const join = async (raw: RawClient, nick: string) => {
    const from = raw.length;
    await raw.send(`<presence to='${room}/${nick}'><x xmlns='http://jabber.org/protocol/muc'/></presence>`);
    await raw.waitFor(new RegExp(`<presence[^>]*from=['"]${room}/${nick}['"][\\s\\S]*?status code=['"]110['"]`), { from, timeoutMs: 10_000 });
  };
  await join(harry.raw, 'harry');
  const fc = harry.raw.length;
  await harry.raw.send(`<iq type='set' id='cfg2' to='${room}'><query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='submit'/></query></iq>`);
  await harry.raw.waitFor(elementRe('iq', { id: 'cfg2' }), { from: fc });
  await join(gina.raw, 'gina');
  const since = gina.raw.length;
  await harry.raw.send(chat(gina.jid, 'x1', 'h1'));
  await gina.raw.waitFor(/<body>x1<\/body>/, { from: since });
  const handled = countStanzas(gina.raw.text.slice(gina.raw.text.indexOf('<enabled')));
  const watch = harry.raw.length;
  gina.raw.destroy();
  await until('gina detached', async () => (await sessionsOf('gina@localhost')).get('phone')?.detached);
  await harry.raw.send(chat(gina.jid, 'x2', 'h2'));
  await harry.raw.send(`<message type='groupchat' to='${room}' id='g1'><body>g1</body></message>`);
  await harry.raw.waitFor(/<body>g1<\/body>/, { from: watch });
  await new Promise((r) => setTimeout(r, 300));
  // The client comes back through the other gateway.
  const back = await authOnly(gw(1), 'gina');
  const from = back.length;
  const resumed = await resume(back, id, handled);
  assert.match(resumed, /^<resumed\b/, resumed);
  assert.equal(attr(resumed, 'h'), '1', 'one stanza of gina was handled: her room join');
  await back.waitFor(/<body>g1<\/body>/, { from });
  await back.waitFor(/<body>x2<\/body>/, { from });
  const record = (await sessionsOf('gina@localhost')).get('phone');
  assert.equal(record?.gateway, gw(1).gatewayId, 'the registry record names the new gateway');
  assert.equal(record?.detached, undefined);
  // After the move, new stanzas reach the new gateway: direct and from the room.
  await harry.raw.send(chat(gina.jid, 'x3', 'h3'));
  await back.waitFor(/<body>x3<\/body>/, { from });
  // The old gateway goes away (gracefully): the room must now deliver to the new one itself.
  await gw(0).stop();
  await harry.raw.send(`<message type='groupchat' to='${room}' id='g2'><body>g2</body></message>`);
  await back.waitFor(/<body>g2<\/body>/, { from, timeoutMs: 10_000 });
  await new Promise((r) => setTimeout(r, 300));
  const text = back.text.slice(from);
  const [p2, p3] = onceEach(text, ['x2', 'x3']);
  onceEach(text, ['g1', 'g2']);
  assert.ok(p2! < p3!, 'in order');
  assert.ok(!text.includes('<body>x1</body>'), 'x1 was acknowledged by h and is not sent again');
  assert.doesNotMatch(harry.raw.text.slice(watch), new RegExp(`<presence[^>]*from=['"]${room}/gina['"][^>]*type=['"]unavailable['"]`), 'the room never saw gina leave');
  // The resumed session sends into the room as the same occupant.
  await back.send(`<message type='groupchat' to='${room}' id='g3'><body>from gina</body></message>`);
  await harry.raw.waitFor(/<body>from gina<\/body>/, { from: watch });
});
