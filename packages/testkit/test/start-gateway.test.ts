import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { startGateway, TestkitError } from '../src/index.js';

const script = fileURLToPath(new URL('./fixtures/fake-gateway.mjs', import.meta.url));
const base = { redisUrl: 'redis://127.0.0.1:1', keyPrefix: 'tk:', script };

test('startGateway resolves with the ready line and passes the environment', async () => {
  const gw = await startGateway({ ...base, env: { EXTRA: 'x' } });
  try {
    assert.equal(gw.c2sPort, 15222);
    assert.equal(gw.wsPort, 15280);
    assert.equal(gw.gatewayId, 'fake-1');
    assert.ok(gw.pid > 0);
    const starting = await gw.waitForLog((e) => e['msg'] === 'starting');
    assert.deepEqual(starting['env'], { REDIS_URL: base.redisUrl, PREFIX: 'tk:', C2S: '0', EXTRA: 'x' });
    assert.ok(gw.logs.includes('not json'));
    await assert.rejects(gw.waitForLog((e) => e['msg'] === 'never', 100), /within 100 ms/);
  } finally {
    await gw.stop();
  }
  const status = await gw.exited;
  assert.equal(status.code, 0, 'SIGTERM reached the process');
  assert.ok(gw.logs.some((l) => l.includes('"stopping"')));
  assert.ok(gw.stderr.includes('a line on stderr'));
});

test('startGateway kill() waits for the exit', async () => {
  const gw = await startGateway(base);
  await gw.kill();
  assert.equal(gw.child.signalCode, 'SIGKILL');
});

test('startGateway rejects with the output when the process exits before ready', async () => {
  await assert.rejects(startGateway({ ...base, env: { FAKE_MODE: 'exit' } }), (err: unknown) => {
    assert.ok(err instanceof TestkitError);
    assert.equal(err.code, 'GATEWAY_START_FAILED');
    assert.match(err.message, /cannot start/);
    assert.match(err.message, /a line on stderr/);
    return true;
  });
});

test('startGateway rejects when the process is not ready in time', async () => {
  await assert.rejects(startGateway({ ...base, env: { FAKE_MODE: 'hang' }, readyTimeoutMs: 500 }), (err: unknown) => {
    assert.ok(err instanceof TestkitError);
    assert.equal(err.code, 'GATEWAY_START_FAILED');
    assert.match(err.message, /within 500 ms/);
    return true;
  });
});
