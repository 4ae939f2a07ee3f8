/*
 * CI smoke runs of the checked-in smoke scenarios (bench/scenarios/smoke-*) at tiny scale
 * against our real cluster: redis + 2 gateways + 2 room workers, open test-only auth,
 * clients spread over both gateways. Correctness, not speed: every run must end with zero
 * failures, zero loss and zero duplicates, and the books must add up.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { repoRoot, startMucCluster, type MucCluster } from '@parley/testkit';
import { loadScenarioFile, renderHtml, runScenario, type LoadResult } from '@parley/loadgen';

let cluster: MucCluster | undefined;

before(async () => {
  cluster = await startMucCluster({ name: 'loadgen', env: { PARLEY_LOG_LEVEL: 'warn' } });
});

after(async () => {
  await cluster?.stop();
});

async function run(file: string, transport: 'tcp' | 'websocket' = 'tcp'): Promise<LoadResult> {
  const scenario = await loadScenarioFile(join(repoRoot(), 'bench', 'scenarios', file));
  const targets = cluster!.gateways.map((g) => `127.0.0.1:${transport === 'tcp' ? g.c2sPort : g.wsPort}`);
  const result = await runScenario(scenario, { targets, workers: 2 });
  assert.ok(result.ok, `${file}: ${result.reasons.join('; ')}`);
  return result;
}

/** The books add up: per-sender counts, occupants, timeline. */
function assertBooks(r: LoadResult): void {
  const s = r.scenario;
  const m = r.messages;
  assert.equal(r.clients.loggedIn, s.accounts.count);
  assert.equal(r.clients.joined, s.rooms.count * s.rooms.occupantsPerRoom);
  assert.equal(r.clients.roomsCreated, s.rooms.count);
  assert.equal(m.lost, 0);
  assert.equal(m.duplicates, 0);
  assert.equal(m.unexpected, 0);
  assert.equal(r.errors.misrouted, 0);
  assert.deepEqual(r.errors.failures, {});
  assert.deepEqual(r.errors.stanza, {});
  if (s.messages.sendersPerRoom === 0) return;
  const senders = s.rooms.count * s.messages.sendersPerRoom;
  const perSender = s.messages.ratePerSender * (s.messages.warmupSec + s.messages.durationSec);
  assert.equal(m.senders, senders);
  assert.ok(Math.abs(m.sent - senders * perSender) <= senders, `sent ${m.sent}, planned ${senders * perSender}`);
  assert.equal(m.expected, m.sent * s.rooms.occupantsPerRoom, 'every occupant, the sender included, gets each message');
  assert.equal(m.delivered, m.expected);
  assert.equal(r.timeline.reduce((n, p) => n + p.deliveries, 0), m.delivered, 'the timeline holds every delivery');
  assert.equal(r.timeline.reduce((n, p) => n + p.sent, 0), m.sent, 'the timeline holds every send');
  const measured = m.sent - senders * s.messages.ratePerSender * s.messages.warmupSec;
  assert.ok(Math.abs(m.latency.count - measured * s.rooms.occupantsPerRoom) <= senders * s.rooms.occupantsPerRoom, 'warm-up deliveries are not measured');
  assert.ok(m.latency.p50Ms > 0 && m.latency.p50Ms <= m.latency.p99Ms && m.latency.p99Ms <= m.latency.maxMs);
  assert.ok(r.generator.cpuUserMs > 0);
}

test('smoke-rooms: 4 rooms × 5, 2 senders each at 5 msg/s for 1 + 3 s, over both gateways', async () => {
  const r = await run('smoke-rooms.json');
  assertBooks(r);
  assert.ok(r.messages.warmupSec === 1 && r.timeline.length >= 4);
  const html = renderHtml(r);
  assert.match(html, /PASS/);
  assert.equal((html.match(/<svg /g) ?? []).length, 3, 'latency, throughput and CPU plots');
  assert.doesNotMatch(html, /<script|https?:\/\/(?!www.w3.org)/, 'self-contained');
});

test('smoke-one-room: one room of 12, 3 senders', async () => {
  assertBooks(await run('smoke-one-room.json'));
});

test('smoke-storm: 29 clients join one room at once; then everyone gets the message', async () => {
  const r = await run('smoke-storm.json');
  assertBooks(r);
  assert.equal(r.joins.stormClients, 29);
  assert.ok(r.joins.stormMs !== null && r.joins.stormMs > 0);
});

test('smoke-storm-rooms: 3 rooms × 8 joined at once', async () => {
  const r = await run('smoke-storm-rooms.json');
  assertBooks(r);
  assert.equal(r.joins.stormClients, 21);
});

test('smoke-websocket: rooms over RFC 7395', async () => {
  const r = await run('smoke-websocket.json', 'websocket');
  assert.equal(r.transport, 'websocket');
  assertBooks(r);
});

test('smoke-idle: 20 clients in rooms of 10 stay connected', async () => {
  const r = await run('smoke-idle.yaml');
  assertBooks(r);
  assert.ok(r.phasesMs.idle >= 1000);
});

test('smoke-logins: 20 PLAIN logins create the accounts, then 20 SCRAM-SHA-1 logins use them', async () => {
  const plain = await run('smoke-logins-plain.json');
  assert.equal(plain.logins.count, 20);
  const scram = await run('smoke-logins-scram-sha-1.json');
  assert.equal(scram.scenario.login.mechanism, 'SCRAM-SHA-1');
  assert.equal(scram.logins.count, 20);
  assert.equal(scram.logins.login.count, 20);
  assert.ok(scram.logins.login.p50Ms > 0);
});
