/*
 * XEP-0198 resumption driven by slixmpp's own xep_0198 plugin (a client library nobody here
 * wrote; test/interop/slixmpp/sm_driver.py): alice enables stream management with
 * resumption, gets a message, loses her TCP connection without </stream>, bob sends three
 * more messages while she is away, and slixmpp reconnects and resumes on its own. Every
 * message arrives exactly once and in order, and the resumed stream keeps her full JID.
 * One gateway (resumption across gateways is covered by stream-management.test.ts).
 */
import { spawn } from 'node:child_process';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { repoRoot, type GatewayProcess } from '@parley/testkit';
import { startCluster, printGatewayLogsOnFailure, type TestCluster } from './support/cluster.js';
import { DOMAIN } from './support/names.js';

const PYTHON = process.env['PARLEY_PYTHON'] ?? '/usr/bin/python3';
const DRIVER = join(repoRoot(), 'test', 'interop', 'slixmpp', 'sm_driver.py');
const RUN_TIMEOUT_MS = 60_000;
const PASSWORD = 'slix-sm-pw';

let cluster: TestCluster | undefined;
let gw: GatewayProcess;

printGatewayLogsOnFailure(() => cluster);

before(async () => {
  cluster = await startCluster('slixmpp-sm');
  gw = await cluster.startGateway();
  for (const u of ['sm-alice', 'sm-bob']) await cluster.addUser(`${u}@${DOMAIN}`, PASSWORD);
});

after(async () => {
  await cluster?.close();
});

function runDriver(port: number): Promise<{ steps: Map<string, Record<string, unknown>>; stderr: string; exit: string }> {
  const config = { domain: DOMAIN, port, password: PASSWORD, users: { alice: 'sm-alice', bob: 'sm-bob' }, timeout: 10 };
  const child = spawn(PYTHON, [DRIVER, JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-20_000)));
  return new Promise((resolve) => {
    let exit = '';
    const timer = setTimeout(() => {
      exit = `killed after ${RUN_TIMEOUT_MS} ms`;
      child.kill('SIGKILL');
    }, RUN_TIMEOUT_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      process.off('exit', killOnExit);
      const steps = new Map<string, Record<string, unknown>>();
      for (const line of stdout.split('\n')) {
        if (!line.startsWith('{')) continue;
        const parsed = JSON.parse(line) as Record<string, unknown>;
        steps.set(String(parsed['step']), parsed);
      }
      resolve({ steps, stderr, exit: exit || `exit ${code ?? signal}` });
    });
  });
}

test('slixmpp resumes after a lost connection; messages sent meanwhile arrive once, in order (XEP-0198 §5)', async () => {
  const run = await runDriver(gw.c2sPort);
  const context = `exit: ${run.exit}\nsteps: ${JSON.stringify([...run.steps.values()])}\nstderr: ${run.stderr}`;
  assert.deepEqual(run.steps.get('enabled'), { step: 'enabled', sm_id: true }, context);
  const resumed = run.steps.get('resumed');
  assert.ok(resumed, context);
  assert.equal(resumed['error'], undefined, `${String(resumed['error'])}\n${String(resumed['trace'])}\n${context}`);
  assert.deepEqual(resumed['bodies'], ['s1', 's2', 's3', 's4'], context);
  assert.equal(resumed['jid'], `sm-alice@${DOMAIN}/phone`);
  assert.ok(run.steps.has('done'), context);
});
