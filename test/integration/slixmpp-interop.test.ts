/*
 * A real client library nobody here wrote (issue #11): slixmpp (Debian's python3-slixmpp,
 * installed by `scripts/bootstrap.mjs --with-slixmpp`, which `npm test` runs) logs in on a
 * two-gateway cluster, one user per gateway, and drives rosters and subscriptions (RFC 6121
 * §2–§3), presence both ways with logout and the probe answer (§4), vCard (XEP-0054),
 * blocking (XEP-0191), carbons across gateways (XEP-0280), PEP (XEP-0163), XEP-0084
 * avatars, MAM of both accounts and of a room (XEP-0313 with RSM paging; a room worker is
 * started for the room) and XEP-0048 private-XML bookmarks with their XEP-0411 mapping to
 * XEP-0402 PEP items (slixmpp 1.8 has no xep_0402 plugin) through its own APIs
 * (test/interop/slixmpp/driver.py). The driver prints one JSON line per step; each test
 * below asserts on one step. The same driver also runs against reference Prosody 0.12
 * (startProsody; one port for both "gateways", PLAIN since that is all its insecure
 * authentication offers; its configuration copied with mod_bookmarks added), and the last
 * test compares the two runs. Each Python process is
 * bounded (killed after RUN_TIMEOUT_MS), and its stderr is shown with any failure
 * (PARLEY_SLIXMPP_DEBUG=1 makes slixmpp log every stanza there).
 */
import { spawn, spawnSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prosodyInstalled, prosodyReferenceDir, repoRoot, startProsody, startRoomWorker, type GatewayProcess, type ProsodyServer, type RoomWorkerProcess } from '@parley/testkit';
import { startCluster, printGatewayLogsOnFailure, type TestCluster } from './support/cluster.js';
import { DOMAIN } from './support/names.js';

/** Debian's interpreter, where python3-slixmpp is installed (a pyenv `python3` on the PATH would not see it). */
const PYTHON = process.env['PARLEY_PYTHON'] ?? '/usr/bin/python3';
const DRIVER = join(repoRoot(), 'test', 'interop', 'slixmpp', 'driver.py');
/** Every single wait inside the driver, s. */
const STEP_TIMEOUT_S = 10;
/** The whole Python run, ms; then it is killed. */
const RUN_TIMEOUT_MS = 120_000;
const PASSWORD = 'slix-pw';
const ALICE = 'sx-alice';
const BOB = 'sx-bob';
const alice = `${ALICE}@${DOMAIN}`;
const bob = `${BOB}@${DOMAIN}`;

type StepResult = Record<string, unknown> & { step: string; error?: string; trace?: string };

/** One run of the driver: its JSON lines by step, how it ended, the tail of its stderr. */
interface DriverRun {
  readonly steps: Map<string, StepResult>;
  exit: string;
  stderr: string;
}

let cluster: TestCluster | undefined;
let prosody: ProsodyServer | undefined;
let ours: DriverRun = { steps: new Map(), exit: 'not run', stderr: '' };
let reference: DriverRun = { steps: new Map(), exit: 'not run', stderr: '' };
let roomWorker: RoomWorkerProcess | undefined;
/** The temporary copy of the reference Prosody configuration. */
let referenceDir: string | undefined;

printGatewayLogsOnFailure(() => cluster);

/**
 * Runs the driver to its end (or kills it after RUN_TIMEOUT_MS) and collects its JSON lines.
 * @param allowPlain - let slixmpp use PLAIN without TLS (the reference Prosody offers only that)
 */
function runDriver(ports: [number, number], allowPlain = false): Promise<DriverRun> {
  const config = { domain: DOMAIN, ports, password: PASSWORD, users: { alice: ALICE, bob: BOB }, timeout: STEP_TIMEOUT_S, allow_plain: allowPlain };
  const run: DriverRun = { steps: new Map(), exit: '', stderr: '' };
  const child = spawn(PYTHON, [DRIVER, JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'pipe'] });
  // Not outliving a test process that ends (or is killed by the runner's timeout) mid-run.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (run.stderr = (run.stderr + d).slice(-20_000)));
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      run.exit = `killed after ${RUN_TIMEOUT_MS} ms`;
      child.kill('SIGKILL');
    }, RUN_TIMEOUT_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      process.off('exit', killOnExit);
      run.exit ||= `exit ${code ?? signal}`;
      for (const line of stdout.split('\n')) {
        if (!line.startsWith('{')) continue;
        const parsed = JSON.parse(line) as StepResult;
        run.steps.set(parsed.step, parsed);
      }
      resolve(run);
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      run.exit = `could not start ${PYTHON}: ${err.message}`;
      resolve(run);
    });
  });
}

/** The observations of one step; fails with the driver's error, exit and stderr when it has none. */
function stepOf(name: string, run: DriverRun = ours): StepResult {
  const s = run.steps.get(name);
  const context = `driver ${run.exit}; steps seen: ${[...run.steps.keys()].join(', ')}\n--- slixmpp stderr ---\n${run.stderr}`;
  assert.ok(s, `step "${name}" produced no result (${context})`);
  assert.equal(s.error, undefined, `step "${name}" failed: ${s.error}\n${s.trace ?? ''}\n${context}`);
  return s;
}

before(async () => {
  const probe = spawnSync(PYTHON, ['-c', 'import slixmpp; print(slixmpp.__version__)'], { encoding: 'utf8' });
  assert.equal(probe.status, 0, `slixmpp is not importable by ${PYTHON} (run \`node scripts/bootstrap.mjs --with-slixmpp\`): ${probe.stderr}`);
  cluster = await startCluster('slixmpp');
  // One room worker owns every shard: the MAM step uses a room (XEP-0045 through slixmpp's xep_0045).
  const [gwA, gwB, worker] = (await Promise.all([cluster.startGateway(), cluster.startGateway(), startRoomWorker({ redisUrl: cluster.redis.url, keyPrefix: cluster.prefix })])) as [
    GatewayProcess,
    GatewayProcess,
    RoomWorkerProcess,
  ];
  roomWorker = worker;
  await cluster.addUser(alice, PASSWORD);
  await cluster.addUser(bob, PASSWORD);
  ours = await runDriver([gwA.c2sPort, gwB.c2sPort]);
  const at = (run: DriverRun, step: string, key: string) => JSON.stringify(run.steps.get(step)?.[key]);
  process.stderr.write(`slixmpp ${probe.stdout.trim()} against parley: ${ours.exit}; unavailable seen after ${at(ours, 'presence', 'unavailable_ms')} ms, ping ${at(ours, 'disco', 'ping_ms')} ms\n`);
  if (prosodyInstalled()) {
    // The reference configuration with Prosody 0.12's mod_bookmarks (XEP-0402 and the XEP-0411
    // mapping of private-XML bookmarks) added; its mod_mam and mod_muc_mam are already on.
    referenceDir = await mkdtemp(join(tmpdir(), 'slixmpp-prosody-'));
    const cfg = readFileSync(join(prosodyReferenceDir(), 'prosody.cfg.lua'), 'utf8');
    const withBookmarks = cfg.replace('"carbons"; "pep"; "private";', '"carbons"; "pep"; "private"; "bookmarks";');
    assert.notEqual(withBookmarks, cfg, 'the reference prosody.cfg.lua changed: update how bookmarks are enabled');
    await writeFile(join(referenceDir, 'prosody.cfg.lua'), withBookmarks);
    prosody = await startProsody({ referenceDir });
    reference = await runDriver([prosody.c2sPort, prosody.c2sPort], true);
    process.stderr.write(`slixmpp against Prosody 0.12: ${reference.exit}; unavailable seen after ${at(reference, 'presence', 'unavailable_ms')} ms\n`);
  }
});

after(async () => {
  await prosody?.stop();
  await roomWorker?.stop();
  if (referenceDir) await rm(referenceDir, { recursive: true, force: true });
  await cluster?.close();
});

test('slixmpp logs in on both gateways without TLS (SCRAM) and runs to the end', () => {
  const login = stepOf('login');
  assert.equal(login['alice'], `${alice}/a1`);
  assert.equal(login['bob'], `${bob}/b1`);
  for (const mech of login['mechanisms'] as string[]) assert.match(mech, /^SCRAM-SHA-/);
  stepOf('done');
  assert.equal(ours.exit, 'exit 0', ours.stderr);
});

test('disco#info of the server advertises what the driver uses; ping answered (XEP-0030, XEP-0199)', () => {
  const disco = stepOf('disco');
  const features = disco['features'] as string[];
  for (const ns of ['urn:xmpp:blocking', 'urn:xmpp:carbons:2', 'urn:xmpp:ping', 'vcard-temp', 'http://jabber.org/protocol/disco#info']) {
    assert.ok(features.includes(ns), `${ns} missing from ${JSON.stringify(features)}`);
  }
  assert.equal(typeof disco['ping_ms'], 'number');
});

test('roster set and subscriptions both ways across gateways: bare-JID requests, both rosters at "both" (RFC 6121 §2.3, §3.1)', () => {
  const r = stepOf('roster');
  // §3.1.2: the server stamps the subscription request with the sender's bare JID.
  assert.equal(r['request_from'], alice);
  assert.equal(r['request_back_from'], bob);
  assert.equal(r['alice_pushed'], 'both', 'alice’s roster as kept by slixmpp from the pushes');
  assert.equal(r['bob_pushed'], 'both', 'bob’s roster as kept by slixmpp from the pushes');
  // §2.6.3: slixmpp's get with the version it got from the pushes: nothing changed, an empty result.
  assert.ok(typeof r['sent_ver'] === 'string' && r['sent_ver'] !== '', `roster version sent ${JSON.stringify(r['sent_ver'])}`);
  const wire = String(r['versioned_get_result']);
  assert.match(wire, /^<iq [^>]*type="result"[^>]*\/>$/, `sent ver=${String(r['sent_ver'])}, got ${wire}`);
  assert.deepEqual(r['alice_server'], { [bob]: { name: 'Bob', subscription: 'both', groups: ['Friends'] } });
  assert.deepEqual(r['bob_server'], { [alice]: { name: '', subscription: 'both', groups: [] } });
});

test('presence between the two gateways: available both ways, unavailable on logout, the probe answered on return (RFC 6121 §4)', () => {
  const p = stepOf('presence');
  assert.equal(p['alice_saw_bob'], `${bob}/b1`);
  assert.equal(p['bob_saw_alice'], `${alice}/a1`);
  assert.equal(p['unavailable_from'], `${bob}/b1`);
  assert.ok((p['unavailable_ms'] as number) < STEP_TIMEOUT_S * 1000);
  assert.equal(p['back_status'], 'back');
  // XEP-0153 §4.2 / XEP-0398: no avatar yet, so the server added an empty <photo/>.
  assert.equal(p['back_photo'], '');
  assert.equal(p['probe_answer_from'], `${alice}/a1`);
  assert.deepEqual(p['online_resources'], ['b1']);
});

test('vCard set by one user, read by the other from its bare JID; the avatar hash in presence (XEP-0054, XEP-0153)', () => {
  const v = stepOf('vcard');
  assert.deepEqual(v['read_by_alice'], { FN: 'Bob Builder', NICKNAME: ['bobby'], PHOTO: true });
  assert.deepEqual(v['read_by_bob'], { FN: 'Bob Builder', NICKNAME: ['bobby'] });
  assert.match(String(v['avatar_sha1']), /^[0-9a-f]{40}$/);
  assert.equal(v['presence_photo'], v['avatar_sha1']);
});

test('blocking: push, list, unavailable to the blocked contact, both refusals, unblock and delivery again (XEP-0191)', () => {
  const b = stepOf('blocking');
  assert.deepEqual(b['before'], []);
  assert.deepEqual(b['push'], [bob]);
  assert.deepEqual(b['listed'], [bob]);
  assert.equal(b['bob_saw_unavailable'], `${alice}/a1`);
  // §3.4: the blocking user's own stanza to the blocked JID: not-acceptable + <blocked/>.
  const outbound = b['outbound_error'] as { type: string; condition: string; children: string[] };
  assert.equal(outbound.type, 'cancel');
  assert.equal(outbound.condition, 'not-acceptable');
  assert.ok(outbound.children.includes('{urn:xmpp:blocking:errors}blocked'), JSON.stringify(outbound));
  assert.equal(b['outbound_blocked_child'], true);
  // §3.3: a message from the blocked JID is refused with service-unavailable, and not delivered.
  assert.equal((b['inbound_error'] as { condition: string }).condition, 'service-unavailable');
  assert.equal(b['alice_got_nothing'], true);
  assert.deepEqual(b['unblock_push'], [bob]);
  assert.deepEqual(b['after'], []);
  assert.equal(b['bob_saw_available_again'], `${alice}/a1`);
  assert.equal(b['delivered_from'], `${alice}/a1`);
});

test('carbons between two resources on different gateways: received and sent copies (XEP-0280)', () => {
  const c = stepOf('carbons');
  assert.equal(c['direct_from'], `${bob}/b1`);
  assert.deepEqual(c['received'], { wrapper_from: alice, from: `${bob}/b1`, to: `${alice}/a1`, body: 'for a1, copied to a2' });
  assert.deepEqual(c['sent'], { wrapper_from: alice, from: `${alice}/a1`, to: bob, body: 'sent from a1' });
  assert.equal(c['bob_got_from'], `${alice}/a1`);
});

test('PEP and CSI with slixmpp: +notify from its caps across gateways, XEP-0223 publish options, CSI holding presence (XEP-0163, XEP-0115, XEP-0352)', () => {
  const p = stepOf('pep');
  assert.equal(p['event_from'], alice);
  assert.equal(p['event_title'], 'Spiegel im Spiegel');
  assert.equal(p['private_title'], 'only mine');
  assert.equal(p['bob_read_private'], 'not-allowed', 'XEP-0060 §6.5.9.5: a whitelist node');
  assert.equal(p['csi'], true, 'slixmpp saw the csi stream feature');
  assert.equal(p['held'], true, 'the presence waited while inactive');
  assert.deepEqual(p['order'], ['presence:csi held', 'message']);
});

test('XEP-0084 avatars with slixmpp: metadata notified by +notify across gateways, data fetched by its id', () => {
  const a = stepOf('avatar');
  assert.equal(a['event_from'], alice);
  assert.equal(a['info_id_matches'], true);
  assert.equal(a['info_bytes'], '2048');
  assert.equal(a['data_matches'], true, 'the data item holds the published bytes');
});

test('MAM with slixmpp: account archives on both sides and a room archive, paged by RSM, under the live stanza-ids (XEP-0313, XEP-0359)', () => {
  const m = stepOf('mam');
  const chat = ['mam-chat-1', 'mam-chat-2', 'mam-chat-3'];
  assert.equal(m['chat_live_ids_present'], true, 'the live chat messages carry a stanza-id by the recipient');
  assert.deepEqual(m['bob_bodies'], chat);
  assert.equal(m['bob_ids_match'], true, 'archive ids are the stanza-ids of the live messages');
  assert.deepEqual(m['bob_from'], [`${alice}/m1`]);
  assert.deepEqual(m['bob_to'], [`${bob}/m2`]);
  assert.deepEqual(m['alice_bodies'], chat, 'the sender\'s archive holds its outgoing messages');
  assert.equal(m['alice_ids_unique'], true);
  const room = `sx-mam@conference.${DOMAIN}`;
  assert.equal(m['room_live_ids_present'], true, 'groupchat messages carry a stanza-id by the room');
  assert.deepEqual(m['room_bodies'], ['mam-room-1', 'mam-room-2', 'mam-room-3']);
  assert.equal(m['room_ids_match'], true, 'room archive ids are the stanza-ids of the live messages');
  assert.deepEqual(m['room_from'], [`${room}/Alice`]);
});

test('bookmarks with slixmpp: private-XML bookmarks read back and mapped to XEP-0402 PEP items, removal too (XEP-0048, XEP-0411, XEP-0402)', () => {
  const b = stepOf('bookmarks');
  const one = `sx-bm-one@conference.${DOMAIN}`;
  const two = `sx-bm-two@conference.${DOMAIN}`;
  assert.deepEqual(b['private'], [
    { jid: one, nick: 'Alice', name: 'One', autojoin: true },
    { jid: two, nick: 'Al', name: 'Two', autojoin: false },
  ]);
  assert.deepEqual(b['pep'], [
    { id: one, name: 'One', autojoin: true, nick: 'Alice' },
    { id: two, name: 'Two', autojoin: false, nick: 'Al' },
  ]);
  assert.deepEqual(b['pep_after_removal'], [{ id: two, name: 'Two', autojoin: false, nick: 'Al' }]);
  assert.deepEqual(b['private_after_removal'], [{ jid: two, nick: 'Al', name: 'Two', autojoin: false }]);
});

/** A step's observations that must match between servers: timings and opaque roster versions left out. */
function comparable(run: DriverRun): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = Object.create(null) as Record<string, Record<string, unknown>>;
  for (const name of ['disco', 'roster', 'presence', 'vcard', 'blocking', 'carbons', 'mam', 'bookmarks']) {
    const { step: _step, ping_ms: _ping, unavailable_ms: _ms, sent_ver: _ver, ...rest } = stepOf(name, run);
    out[name] = rest;
  }
  const used = ['urn:xmpp:blocking', 'urn:xmpp:carbons:2', 'urn:xmpp:ping', 'vcard-temp', 'http://jabber.org/protocol/disco#info'];
  out['disco']!['features'] = (out['disco']!['features'] as string[]).filter((f) => used.includes(f));
  // §2.6.3: an empty result, whatever its `from` (Prosody leaves it out, RFC 6120 §8.1.2.1 allows both).
  out['roster']!['versioned_get_result'] = /^<iq [^>]*type="result"[^>]*\/>$/.test(String(out['roster']!['versioned_get_result']));
  // RFC 6120 §8.3.2: <text/> is optional (Prosody adds one).
  const outbound = out['blocking']!['outbound_error'] as { children: string[] };
  outbound.children = outbound.children.filter((c) => c !== '{urn:ietf:params:xml:ns:xmpp-stanzas}text');
  return out;
}

test('the same observations against reference Prosody 0.12, but for the documented XEP-0191 §3.3 difference', () => {
  assert.ok(prosodyInstalled(), 'prosody is not on PATH: run `npm run setup`');
  const mine = comparable(ours);
  const theirs = comparable(reference);
  assert.deepEqual(stepOf('login', reference)['mechanisms'], ['PLAIN', 'PLAIN']);
  // docs/xeps.md (XEP-0191) and test/scansion/scripts/blocking.scs: Prosody 0.12 drops a chat
  // message from a blocked JID to an online full JID; we answer service-unavailable (§3.3),
  // which does not tell the blocked sender which resources are online.
  assert.equal(theirs['blocking']!['inbound_error'], null, 'Prosody now answers: update the note in docs/xeps.md');
  assert.equal((mine['blocking']!['inbound_error'] as { condition: string }).condition, 'service-unavailable');
  delete theirs['blocking']!['inbound_error'];
  delete mine['blocking']!['inbound_error'];
  assert.deepEqual(mine, theirs);
  // PEP (Prosody's mod_pep is in the reference configuration, CSI is not).
  const [pm, pt] = [stepOf('pep'), stepOf('pep', reference)];
  for (const key of ['event_from', 'event_title', 'private_title']) assert.equal(pt[key], pm[key], key);
  // XEP-0084 avatars: the same observations.
  assert.deepEqual(stepOf('avatar', reference), stepOf('avatar'));
  // XEP-0060 §6.5.9.5 says not-allowed (+ closed-node) for a whitelist node; Prosody 0.12 answers forbidden.
  assert.equal(pt['bob_read_private'], 'forbidden', 'Prosody now answers differently: update docs/xeps.md (XEP-0163)');
});
