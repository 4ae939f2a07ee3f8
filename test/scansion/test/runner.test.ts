/*
 * The runner against a real cluster: redis + two gateways (open test authentication, PLAIN
 * without TLS). Our direct-message script passes with Romeo and Juliet on different
 * gateways; a deliberately wrong script is reported as a failure.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { repoRoot, startGateway, startRedis, type GatewayProcess, type RedisServer } from '@parley/testkit';
import { parseScript } from '../lib/parse-script.js';
import { runScript } from '../lib/run-script.js';

const ENV = { PARLEY_AUTH_BACKEND: 'open-insecure-test-only', PARLEY_ALLOW_PLAIN_WITHOUT_TLS: 'true' };
let redis: RedisServer | undefined;
const gateways: GatewayProcess[] = [];
let ports: number[] = [];
let tmp = '';

before(async () => {
  redis = await startRedis();
  const keyPrefix = `it:scansion:${randomBytes(3).toString('hex')}:`;
  for (let i = 0; i < 2; i++) gateways.push(await startGateway({ redisUrl: redis.url, keyPrefix, env: ENV }));
  ports = gateways.map((g) => g.c2sPort);
  tmp = mkdtempSync(join(tmpdir(), 'scansion-'));
});

after(async () => {
  for (const g of gateways) await g.stop();
  await redis?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const script = (path: string) => parseScript(readFileSync(path, 'utf8'));
const directMessage = join(repoRoot(), 'test', 'scansion', 'scripts', 'direct-message.scs');

test('direct-message.scs passes across two gateways', async () => {
  const result = await runScript(script(directMessage), { host: '127.0.0.1', ports });
  assert.equal(result.error, undefined, gateways.map((g) => g.output()).join('\n').slice(-4000));
  assert.equal(result.ok, true);
});

test('a wrong expectation fails, with expected and closest received', async () => {
  const wrong = readFileSync(directMessage, 'utf8').replace('<body>Wherefore art thou?</body>\n\t</message>\n\n#', '<body>Where art thou?</body>\n\t</message>\n\n#');
  assert.notEqual(wrong, readFileSync(directMessage, 'utf8'));
  const file = join(tmp, 'wrong.scs');
  writeFileSync(file, wrong);
  const result = await runScript(script(file), { host: '127.0.0.1', ports, receiveTimeoutMs: 1000 });
  assert.equal(result.ok, false);
  assert.match(result.error ?? '', /Juliet receives/);
  assert.match(result.error ?? '', /expected: <message/);
  assert.match(result.error ?? '', /closest received: <message/);
  assert.match(result.error ?? '', /text "Wherefore art thou\?" instead of "Where art thou\?"/);
});

test('receives: nothing fails when a stanza arrives', async () => {
  const file = join(tmp, 'nothing.scs');
  writeFileSync(file, readFileSync(directMessage, 'utf8').replace(/Juliet receives:\n(\t.*\n)+/, 'Juliet receives: nothing\n'));
  const result = await runScript(script(file), { host: '127.0.0.1', ports });
  assert.equal(result.ok, false);
  assert.match(result.error ?? '', /expected nothing, received:\n    <(message|presence)/);
});

test('the CLI prints PASS/FAIL lines and a summary, exit code 1 on failure', () => {
  const file = join(tmp, 'wrong-cli.scs');
  writeFileSync(file, readFileSync(directMessage, 'utf8').replace('type="result" from="localhost"', 'type="error" from="localhost"'));
  const r = spawnSync(process.execPath, ['--conditions=parley-source', '--import', 'tsx', join(repoRoot(), 'test', 'scansion', 'cli.ts'), '--host', '127.0.0.1', '--port', ports.join(','), directMessage, file], {
    cwd: repoRoot(),
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /^PASS direct-message$/m);
  assert.match(r.stdout, /^FAIL wrong-cli$/m);
  assert.match(r.stdout, /^1 passed, 1 failed$/m);
});
