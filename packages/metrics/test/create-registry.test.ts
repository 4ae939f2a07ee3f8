// The process metrics a registry collects: prom-client's defaults, less the ones whose
// reading blocks for a time that grows with the number of open sockets (issue #15).
import assert from 'node:assert/strict';
import { open, type FileHandle } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { createRegistry } from '../src/index.js';

async function openFds(text: string): Promise<number> {
  const m = /^process_open_fds\{[^}]*\} (\d+)$/m.exec(text);
  assert.ok(m, 'process_open_fds is exported');
  return Number(m[1]);
}

describe('createRegistry', () => {
  it('leaves out the active handle and resource counts, which walk every handle of the process', async () => {
    const text = await createRegistry({ service: 'gateway', instance: 'gw-1' }).metrics();
    assert.match(text, /^process_cpu_user_seconds_total\{service="gateway",process="gw-1"\} /m);
    assert.match(text, /^nodejs_eventloop_lag_seconds\{/m);
    assert.doesNotMatch(text, /nodejs_active_handles/);
    assert.doesNotMatch(text, /nodejs_active_resources/);
  });

  it('counts open file descriptors (Linux), following the descriptors the process opens and closes', { skip: process.platform !== 'linux' }, async () => {
    const registry = createRegistry({ service: 'room-worker', instance: 'w-1' });
    const before = await openFds(await registry.metrics());
    const files: FileHandle[] = [];
    for (let i = 0; i < 25; i++) files.push(await open(new URL(import.meta.url), 'r'));
    try {
      assert.equal(await openFds(await registry.metrics()), before + 25);
    } finally {
      await Promise.all(files.map((f) => f.close()));
    }
    assert.equal(await openFds(await registry.metrics()), before);
  });

  it('collects no process metrics when asked not to', async () => {
    const text = await createRegistry({ service: 'admin-api', instance: 'a' }, { processMetrics: false }).metrics();
    assert.equal(text.trim(), '');
  });
});
