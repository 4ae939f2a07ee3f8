import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { startRedis } from '../src/index.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function refuses(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ port, host: '127.0.0.1' });
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', () => resolve(true));
  });
}

test('startRedis serves a private, empty, non-persistent redis and stop() removes it', async () => {
  const a = await startRedis();
  const b = await startRedis();
  try {
    assert.notEqual(a.port, b.port);
    assert.equal(a.url, `redis://127.0.0.1:${a.port}`);
    const ca = a.client();
    const cb = b.client();
    assert.equal(await ca.ping(), 'PONG');
    assert.equal(await ca.dbsize(), 0);
    await ca.set('k', 'v');
    assert.equal(await cb.get('k'), null, 'servers do not share data');
    assert.deepEqual(await ca.config('GET', 'save'), ['save', '']);
    assert.deepEqual(await ca.config('GET', 'appendonly'), ['appendonly', 'no']);
    assert.deepEqual(await ca.config('GET', 'bind'), ['bind', '127.0.0.1']);
    assert.ok(existsSync(a.dir));
    assert.ok(alive(a.pid));
  } finally {
    await a.stop();
    await b.stop();
  }
  assert.equal(alive(a.pid), false, 'redis-server process is gone');
  assert.equal(existsSync(a.dir), false, 'temporary directory is removed');
  assert.equal(await refuses(a.port), true, 'port no longer accepts connections');
  await a.stop(); // idempotent
});
