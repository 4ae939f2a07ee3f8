import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '@parley/testkit';
import { Layout, LoadgenError, loadScenarioFile, parseScenario, parseScenarioText } from '@parley/loadgen';

const minimal = { name: 'm', targets: ['127.0.0.1:5222'], domain: 'localhost', accounts: { count: 2 } };

/** The issues of a scenario that must fail. */
function issuesOf(input: unknown): string[] {
  try {
    parseScenario(input);
  } catch (err) {
    assert.ok(err instanceof LoadgenError);
    assert.equal(err.code, 'BAD_SCENARIO');
    return [...err.issues];
  }
  assert.fail('expected the scenario to be rejected');
}

test('a minimal scenario gets every default', () => {
  const s = parseScenario(minimal);
  assert.equal(s.transport, 'tcp');
  assert.equal(s.websocketPath, '/xmpp-websocket');
  assert.equal(s.mucService, 'conference.localhost');
  assert.equal(s.accounts.mode, 'open');
  assert.equal(s.login.mechanism, 'PLAIN');
  assert.equal(s.login.ratePerSec, 200);
  assert.equal(s.rooms.count, 0);
  assert.equal(s.rooms.joinPattern, 'ramp');
  assert.equal(s.rooms.configureInstant, true);
  assert.equal(s.messages.durationSec, 0);
  assert.equal(s.idleSec, 0);
});

test('YAML and JSON texts parse alike', () => {
  const yaml = 'name: m\ntargets: ["127.0.0.1:5222"]\ndomain: localhost\naccounts: { count: 2 }\nlogin: { mechanism: SCRAM-SHA-1 }\n';
  const a = parseScenarioText(yaml, 'x.yaml');
  const b = parseScenarioText(JSON.stringify({ ...minimal, login: { mechanism: 'SCRAM-SHA-1' } }), 'x.json');
  assert.deepEqual(a, b);
  assert.throws(() => parseScenarioText('{nope', 'x.json'), /does not parse/);
});

test('each invalid field is reported with its path', () => {
  const cases: [unknown, RegExp][] = [
    [{ ...minimal, name: '' }, /^name:/],
    [{ ...minimal, targets: [] }, /^targets:/],
    [{ ...minimal, targets: ['localhost'] }, /^targets\.0: "localhost" is not host:port/],
    [{ ...minimal, targets: ['h:70000'] }, /^targets\.0: .*port must be/],
    [{ ...minimal, transport: 'udp' }, /^transport:/],
    [{ ...minimal, websocketPath: 'ws' }, /^websocketPath:/],
    [{ ...minimal, domain: '' }, /^domain:/],
    [{ ...minimal, accounts: { count: 0 } }, /^accounts\.count:/],
    [{ ...minimal, accounts: { count: 1.5 } }, /^accounts\.count:/],
    [{ ...minimal, accounts: { count: 2, mode: 'magic' } }, /^accounts\.mode:/],
    [{ ...minimal, accounts: { count: 2, prefix: 'A B' } }, /^accounts\.prefix:/],
    [{ ...minimal, login: { ratePerSec: 0 } }, /^login\.ratePerSec:/],
    [{ ...minimal, login: { mechanism: 'DIGEST-MD5' } }, /^login\.mechanism:/],
    [{ ...minimal, rooms: { count: -1 } }, /^rooms\.count:/],
    [{ ...minimal, rooms: { joinPattern: 'flood' } }, /^rooms\.joinPattern:/],
    [{ ...minimal, rooms: { count: 1, occupantsPerRoom: 3 } }, /^rooms: 1 rooms × 3 occupants need 3 accounts/],
    [{ ...minimal, rooms: { count: 1, occupantsPerRoom: 2 }, messages: { sendersPerRoom: 3 } }, /^messages\.sendersPerRoom: more senders/],
    [{ ...minimal, messages: { ratePerSender: -2 } }, /^messages\.ratePerSender:/],
    [{ ...minimal, messages: { sendersPerRoom: 1, durationSec: 5 } }, /^messages: sending needs rooms/],
    [{ ...minimal, rooms: { count: 2 }, messages: { sendersPerRoom: 1, sendingRooms: 3 } }, /^messages\.sendingRooms: more sending rooms \(3\) than rooms \(2\)/],
    [{ ...minimal, rooms: { count: 2 }, messages: { sendersPerRoom: 1, sendingRooms: 1.5 } }, /^messages\.sendingRooms:/],
    [{ ...minimal, rooms: { count: 2 }, messages: { sendersPerRoom: 1, sendingRooms: -1 } }, /^messages\.sendingRooms:/],
    [{ ...minimal, rooms: { count: 2 }, messages: { sendersPerRoom: 1, sendingRooms: 0, durationSec: 5 } }, /^messages: sending needs .*sendingRooms > 0/],
    [{ ...minimal, idleSec: -1 }, /^idleSec:/],
    [{ ...minimal, extra: true }, /Unrecognized key: "extra"/],
    [{ ...minimal, rooms: { countt: 1 } }, /^rooms: Unrecognized key/],
  ];
  for (const [input, want] of cases) {
    const issues = issuesOf(input);
    assert.ok(issues.some((i) => want.test(i)), `${JSON.stringify(input)} → ${issues.join(' | ')}`);
  }
});

test('all problems are reported at once', () => {
  const issues = issuesOf({ name: '', targets: ['x'], domain: '', accounts: { count: 0 } });
  assert.ok(issues.length >= 4, issues.join(' | '));
});

test('every checked-in scenario is valid', async () => {
  const dir = join(repoRoot(), 'bench', 'scenarios');
  const files = readdirSync(dir).filter((f) => /\.(json|ya?ml)$/.test(f));
  assert.ok(files.length >= 9);
  for (const f of files) await loadScenarioFile(join(dir, f));
  assert.ok(files.some((f) => f.startsWith('smoke-')));
});

test('messages.sendingRooms: only that many rooms, spread evenly, have senders; default every room', () => {
  const base = { ...minimal, accounts: { count: 100 }, rooms: { count: 10, occupantsPerRoom: 10 }, messages: { sendersPerRoom: 2, durationSec: 1 } };
  const all = new Layout(parseScenario(base), ['127.0.0.1:5222'], 1, 'r');
  assert.equal(all.sendingRooms, 10);
  assert.equal(Array.from({ length: 100 }, (_, i) => i).filter((i) => all.isSender(i)).length, 20, 'default: 2 senders in each of 10 rooms');

  const some = new Layout(parseScenario({ ...base, messages: { ...base.messages, sendingRooms: 3 } }), ['127.0.0.1:5222'], 1, 'r');
  const rooms = Array.from({ length: 10 }, (_, r) => r).filter((r) => some.roomSends(r));
  assert.deepEqual(rooms, [3, 6, 9], '3 of 10 rooms, spread over the indexes');
  const senders = Array.from({ length: 100 }, (_, i) => i).filter((i) => some.isSender(i));
  assert.deepEqual(senders, [30, 31, 60, 61, 90, 91], 'the first sendersPerRoom occupants of those rooms only');
  assert.equal(some.roomSends(-1), false);
  assert.equal(some.roomSends(10), false);

  // The issue #15 shape: 1,000 rooms of 10, 100 sending rooms with one sender: 1 % of 10,000.
  const big = { ...minimal, accounts: { count: 10_000 }, rooms: { count: 1000, occupantsPerRoom: 10 }, messages: { sendersPerRoom: 1, sendingRooms: 100, durationSec: 1 } };
  const l = new Layout(parseScenario(big), ['127.0.0.1:5222'], 2, 'r');
  let n = 0;
  for (let i = 0; i < 10_000; i++) if (l.isSender(i)) n++;
  assert.equal(n, 100);
  assert.equal(Array.from({ length: 1000 }, (_, r) => r).filter((r) => l.roomSends(r)).length, 100);
  const none = new Layout(parseScenario({ ...base, messages: { sendersPerRoom: 2, sendingRooms: 0 } }), ['127.0.0.1:5222'], 1, 'r');
  assert.equal(Array.from({ length: 100 }, (_, i) => i).some((i) => none.isSender(i)), false, 'sendingRooms 0: nobody sends (allowed without a sending phase)');
});
