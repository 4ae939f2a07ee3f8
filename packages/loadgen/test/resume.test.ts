/*
 * XEP-0198 drop-and-resume under load, against our real cluster (redis + 2 gateways + 2 room
 * workers): bench/scenarios/smoke-resume.json at its own small scale. Half the clients,
 * senders among them, destroy their socket every 1.5 s while groupchat flows and resume on
 * the other gateway (§5); every message addressed to them must arrive exactly once, and
 * what they sent while away must reach everyone exactly once too (the whole run's books).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { repoRoot, startMucCluster, type MucCluster } from '@parley/testkit';
import { Layout, loadScenarioFile, runScenario } from '@parley/loadgen';

let cluster: MucCluster | undefined;

before(async () => {
  cluster = await startMucCluster({ name: 'loadgen-resume', env: { PARLEY_LOG_LEVEL: 'warn' } });
});

after(async () => {
  await cluster?.stop();
});

test('smoke-resume: clients that drop and resume on the other gateway get every message once', async () => {
  const scenario = await loadScenarioFile(join(repoRoot(), 'bench', 'scenarios', 'smoke-resume.json'));
  const targets = cluster!.gateways.map((g) => `127.0.0.1:${g.c2sPort}`);
  const r = await runScenario(scenario, { targets, workers: 2 });
  assert.ok(r.ok, r.reasons.join('; '));
  const rs = r.resume;
  assert.ok(rs, 'the report has the drop-and-resume books');
  const layout = new Layout(r.scenario, targets, 1, r.runId);
  const resumers = Array.from({ length: r.scenario.accounts.count }, (_, i) => i).filter((i) => layout.isResumer(i));
  assert.equal(resumers.length, 6, 'half of 12 clients');
  assert.equal(rs.clients, 6);
  assert.ok(resumers.some((i) => layout.isSender(i)), 'some resuming clients also send');
  // 4 s of messaging, one drop every 1.5 s per client, each with its own phase: 2 or 3 each.
  assert.ok(rs.resumptions >= 2 * 6, `resumptions: ${rs.resumptions}`);
  assert.equal(rs.failed, 0);
  assert.equal(rs.lost, 0);
  assert.equal(rs.duplicates, 0);
  assert.equal(rs.unexpected, 0);
  assert.ok(rs.expected > 0 && rs.delivered === rs.expected, `to resuming clients: ${rs.delivered} of ${rs.expected}`);
  assert.ok(rs.time.count === rs.resumptions && rs.time.p50Ms > 0 && rs.time.p50Ms <= rs.time.p99Ms);
  // The whole run: the resumers' own sends included.
  assert.equal(r.messages.lost, 0);
  assert.equal(r.messages.duplicates, 0);
  assert.equal(r.messages.delivered, r.messages.expected);
  assert.equal(r.messages.expected, r.messages.sent * 4);
});
