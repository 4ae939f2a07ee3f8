/*
 * xmppctl's operations commands (issue #14 item 4) against a running cluster (redis-server
 * with an ACL user, a gateway, a room worker), seen by real XMPP clients: `room create` makes
 * a joinable room, `room occupants` and `room list` show who is in it, `room destroy` gives
 * occupants XEP-0045 §10.9 <destroy/>; `session kick` ends a session with a stream error;
 * `status` reports gateways, workers, shard owners and the schema version with exit codes;
 * `check` reports the configuration, certificate files and Redis with exit codes.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startMucCluster, xmppctl, type MucCluster, type XmppctlResult } from '@parley/testkit';
import { ScansionClient } from '../scansion/lib/client.js';
import { selfSignedCert } from './support/tls.js';

const MUC = 'conference.localhost';
const MUC_USER = 'http://jabber.org/protocol/muc#user';
const SHARDS = 4;

let cluster: MucCluster | undefined;
const clients: ScansionClient[] = [];
const dirs: string[] = [];

before(async () => {
  cluster = await startMucCluster({ name: 'xmppctl-ops', gateways: 1, workers: 1, shards: SHARDS, redis: { acl: true } });
});

after(async () => {
  for (const c of clients) await c.disconnect().catch(() => undefined);
  await cluster?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Runs xmppctl against the cluster (its Redis URL with the ACL credentials, its prefix and shard count). */
function ctl(args: string[], env: Record<string, string> = {}, keyPrefix = cluster!.keyPrefix): Promise<XmppctlResult> {
  return xmppctl(args, { redisUrl: cluster!.redis.url, keyPrefix, env: { PARLEY_MUC_SHARDS: String(SHARDS), ...env } });
}

const lines = (r: XmppctlResult) => r.stdout.split('\n').filter(Boolean);

async function connect(user: string): Promise<ScansionClient> {
  const c = await ScansionClient.connect({ host: '127.0.0.1', port: cluster!.gateways[0]!.c2sPort, jid: `${user}@localhost`, password: 'pw' });
  clients.push(c);
  return c;
}

async function eventually<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('room create / occupants / list / destroy, seen by an occupant', async () => {
  const room = `ops-room@${MUC}`;
  const created = await ctl(['room', 'create', room, '--name', 'Ops room', '--owner', 'boss@localhost']);
  assert.equal(created.code, 0, created.stderr);
  assert.equal(created.stdout, `created ${room}\n`);
  const again = await ctl(['room', 'create', room]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /exists already/);

  const c = await connect('ops-alice');
  c.send(`<presence to='${room}/Alice'><x xmlns='http://jabber.org/protocol/muc'/></presence>`);
  const self = await c.nextMatching((el) => el.name === 'presence' && el.attrs.from === `${room}/Alice`, 10_000, 'the join');
  assert.notEqual(self.attrs.type, 'error', self.toString());
  const codes = self.getChild('x', MUC_USER)?.getChildren('status').map((s) => s.attrs.code) ?? [];
  assert.ok(!codes.includes('201'), 'the room existed: not created by the join');

  const occupants = await ctl(['room', 'occupants', room]);
  assert.equal(occupants.code, 0, occupants.stderr);
  assert.deepEqual(lines(occupants), ['Alice\tops-alice@localhost\tparticipant\tnone']);

  const listed = await eventually('the room listed with its occupant', async () => {
    const r = await ctl(['room', 'list']);
    assert.equal(r.code, 0, r.stderr);
    return lines(r).includes(`${room}\t1\tOps room`) ? r : undefined;
  });
  assert.ok(lines(listed).every((l) => l.split('\t').length === 3), listed.stdout);

  const destroyed = await ctl(['room', 'destroy', room, '--reason', 'Maintenance', '--alternate', `elsewhere@${MUC}`]);
  assert.equal(destroyed.code, 0, destroyed.stderr);
  assert.equal(destroyed.stdout, `destroyed ${room}\n`);
  const gone = await c.nextMatching((el) => el.name === 'presence' && el.attrs.type === 'unavailable' && el.attrs.from === `${room}/Alice`, 10_000, 'the destroy presence');
  const destroy = gone.getChild('x', MUC_USER)?.getChild('destroy');
  assert.equal(destroy?.attrs.jid, `elsewhere@${MUC}`, gone.toString());
  assert.equal(destroy?.getChildText('reason'), 'Maintenance');

  const missing = await ctl(['room', 'occupants', room]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /no room/);
  assert.equal((await ctl(['room', 'destroy', room])).code, 1);
  for (const bad of [['room', 'create', 'ops-room@localhost'], ['room', 'occupants', `${room}/nick`], ['room', 'destroy', 'not a jid@@']]) {
    const r = await ctl(bad);
    assert.equal(r.code, 2, `${bad.join(' ')}: ${r.stderr}`);
  }
});

test('session kick ends one session with a stream error; unknown session: exit 1; bare JID: exit 2', async () => {
  const kept = await connect('ops-bob');
  const target = await connect('ops-bob');
  const listed = await ctl(['session', 'list']);
  const mine = lines(listed).filter((l) => l.startsWith('ops-bob@localhost/')).map((l) => l.split('\t')[0]!);
  assert.equal(mine.length, 2, listed.stdout);
  const targetJid = mine.find((j) => j === target.jid) ?? assert.fail(`${target.jid} not listed: ${listed.stdout}`);

  const kicked = await ctl(['session', 'kick', targetJid, '--reason', 'Go away']);
  assert.equal(kicked.code, 0, kicked.stderr);
  assert.equal(kicked.stdout, `kicked ${targetJid}\n`);
  // RFC 6120 §4.9.3.14: the stream error, with the reason as its text.
  const streamError = await target.nextMatching((el) => el.name.endsWith('error') && el.getChild('policy-violation', 'urn:ietf:params:xml:ns:xmpp-streams') !== undefined, 10_000, 'the stream error');
  assert.equal(streamError.getChildText('text', 'urn:ietf:params:xml:ns:xmpp-streams'), 'Go away', streamError.toString());
  await eventually('the kicked session closed', async () => (target.closed ? true : undefined));
  assert.equal(kept.closed, false, 'the other session stays');

  const after = await eventually('the session gone from the list', async () => {
    const r = await ctl(['session', 'list']);
    return r.stdout.includes(targetJid) ? undefined : r;
  });
  assert.ok(after.stdout.includes(kept.jid), after.stdout);
  const again = await ctl(['session', 'kick', targetJid]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /no session/);
  assert.equal((await ctl(['session', 'kick', 'ops-bob@localhost'])).code, 2);
  assert.equal((await ctl(['session', 'kick', kept.jid, '--condition', 'see-other-host'])).code, 2);
});

test('status: healthy with the gateway, the worker owning every shard and the schema version; degraded: exit 1', async () => {
  const r = await ctl(['status', '--json']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const s = JSON.parse(r.stdout) as {
    healthy: boolean; schema: { stored: number; supported: number }; redis: { version: string };
    gateways: { id: string; alive: boolean }[]; workers: { id: string; alive: boolean; shards: number[] }[]; shards: { total: number; owned: number; unowned: number[] };
  };
  assert.equal(s.healthy, true);
  assert.deepEqual(s.gateways.map((g) => [g.id, g.alive]), [[cluster!.gateways[0]!.gatewayId, true]]);
  assert.equal(s.workers.length, 1);
  assert.deepEqual(s.workers[0]!.shards, [0, 1, 2, 3]);
  assert.deepEqual([s.shards.total, s.shards.owned, s.shards.unowned], [SHARDS, SHARDS, []]);
  assert.equal(s.schema.stored, s.schema.supported);
  assert.match(s.redis.version, /^\d+\.\d+/);

  const text = await ctl(['status']);
  assert.equal(text.code, 0);
  assert.match(text.stdout, /^status\thealthy$/m);
  assert.match(text.stdout, /^shards\t4\/4 owned/m);

  // An empty key space: no gateway, no shard owner.
  const empty = await ctl(['status'], {}, 'it:nobody-here:');
  assert.equal(empty.code, 1);
  assert.match(empty.stdout, /DEGRADED: no gateway alive; 4 of 4 shards without an alive owner/);
  // Redis unreachable: exit 1, one line.
  const down = await xmppctl(['status'], { redisUrl: 'redis://127.0.0.1:1', keyPrefix: cluster!.keyPrefix });
  assert.equal(down.code, 1);
});

test('check: exit 0 when all is well, 1 for a bad certificate or wrong Redis credentials, 78 for a bad configuration', async () => {
  const cert = selfSignedCert('parley-check-');
  const other = selfSignedCert('parley-check-other-');
  dirs.push(cert.dir, other.dir);
  const tls = { PARLEY_TLS_CERT: cert.certFile, PARLEY_TLS_KEY: cert.keyFile };

  const ok = await ctl(['check'], tls);
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  assert.match(ok.stdout, /^ok\tconfig\tvalid/m);
  // The test certificate is valid for one day: within 14 days of expiry, a warning (exit 0).
  assert.match(ok.stdout, /^WARN\tcertificate default\t.*cert\.pem expires on \d{4}-/m);
  assert.match(ok.stdout, /^ok\tredis\t/m);
  assert.match(ok.stdout, /^ok\tschema\tversion 1/m);
  assert.ok(!ok.stdout.includes(cluster!.redis.acl!.password), 'the Redis password is not printed');

  const noCert = await ctl(['check']);
  assert.equal(noCert.code, 0, 'no certificate is a warning');
  assert.match(noCert.stdout, /^WARN\tcertificate\tnone configured/m);

  const mismatched = await ctl(['check'], { PARLEY_TLS_CERT: cert.certFile, PARLEY_TLS_KEY: other.keyFile });
  assert.equal(mismatched.code, 1);
  assert.match(mismatched.stdout, /^FAIL\tcertificate default\t.*is not the private key of/m);
  const unreadable = join(cert.dir, 'missing.pem');
  const missing = await ctl(['check'], { PARLEY_TLS_CERT: unreadable, PARLEY_TLS_KEY: cert.keyFile });
  assert.equal(missing.code, 1);
  assert.match(missing.stdout, /^FAIL\tcertificate default\t.*missing\.pem: ENOENT/m);
  const garbage = join(cert.dir, 'garbage.pem');
  writeFileSync(garbage, 'not a certificate\n');
  assert.equal((await ctl(['check'], { PARLEY_TLS_CERT: garbage, PARLEY_TLS_KEY: cert.keyFile })).code, 1);

  const u = new URL(cluster!.redis.url);
  u.password = 'wrong-password';
  const wrong = await xmppctl(['check'], { redisUrl: u.toString(), keyPrefix: cluster!.keyPrefix, env: tls });
  assert.equal(wrong.code, 1);
  assert.match(wrong.stdout, /^FAIL\tredis\t.*authentication failed/m);
  assert.ok(!wrong.stdout.includes('wrong-password'), wrong.stdout);
  u.username = '';
  u.password = '';
  const anonymous = await xmppctl(['check'], { redisUrl: u.toString(), keyPrefix: cluster!.keyPrefix, env: tls });
  assert.equal(anonymous.code, 1);
  assert.match(anonymous.stdout, /^FAIL\tredis\t.*authentication failed/m);
  const unreachable = await xmppctl(['check'], { redisUrl: 'redis://127.0.0.1:1', keyPrefix: cluster!.keyPrefix, env: tls });
  assert.equal(unreachable.code, 1);
  assert.match(unreachable.stdout, /^FAIL\tredis\t.*unreachable/m);

  const badConfig = await ctl(['check'], { PARLEY_TLS_CERT: cert.certFile });
  assert.equal(badConfig.code, 78);
  assert.match(badConfig.stdout, /^FAIL\tconfig\t.*certFile and tls.keyFile must be given together/m);
});
