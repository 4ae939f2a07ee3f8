// The room worker's per-shard lines go to debug and one summary line to info (issue #14 item 4).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { ShardLogSummary } from '../src/shard-log-summary.js';

function capture(level: string, summary: ShardLogSummary): { log: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { log: pino({ level, hooks: { logMethod: summary.hook } }, sink), lines };
}

test('at info: no per-shard line, one summary with the counts and the shards held', async () => {
  const summary = new ShardLogSummary(64, 30);
  const { log, lines } = capture('info', summary);
  const held = new Set<number>();
  summary.attach(log.child({ workerId: 'w1' }), () => [...held]);
  for (let s = 0; s < 64; s++) {
    held.add(s);
    log.child({ shard: s }).info({ loadMs: 1 }, 'shard acquired');
  }
  for (let s = 32; s < 64; s++) {
    log.child({ shard: s }).info({ to: 'w2' }, 'handing shard over');
    held.delete(s);
    log.child({ shard: s }).info({ heldMs: 5 }, 'shard released');
  }
  log.warn({ shard: 7 }, 'shard lost'); // stays a line of its own
  log.info('room worker ready'); // other info lines pass
  await new Promise((r) => setTimeout(r, 80));
  assert.deepEqual(lines.map((l) => l.msg), ['shard lost', 'room worker ready', 'room shards changed']);
  const s = lines[2]!;
  assert.equal(s.level, 30);
  assert.equal(s.workerId, 'w1');
  assert.deepEqual([s.acquired, s.handedOver, s.released, s.holdingCount, s.shards], [64, 32, 32, 32, 64]);
  assert.deepEqual(s.holding, Array.from({ length: 32 }, (_, i) => i));
  summary.flush(); // nothing new: no second line
  assert.equal(lines.length, 3);
});

test('at debug: the per-shard lines keep their fields, at debug level', () => {
  const summary = new ShardLogSummary(64, 10_000);
  const { log, lines } = capture('debug', summary);
  summary.attach(log, () => [3]);
  log.child({ shard: 3 }).info({ loadMs: 2, token: 9 }, 'shard acquired');
  summary.flush();
  assert.equal(lines.length, 2);
  assert.deepEqual([lines[0]!.level, lines[0]!.msg, lines[0]!.shard, lines[0]!.token], [20, 'shard acquired', 3, 9]);
  assert.deepEqual([lines[1]!.level, lines[1]!.msg, lines[1]!.acquired, lines[1]!.holdingCount], [30, 'room shards changed', 1, 1]);
});
