/*
 * `pnpm bench:compare`'s unit costs (issue #15 item 4): Redis counters read from a real
 * redis-server (INFO everything) and differenced over a window, process kinds from
 * /proc/<pid>/cmdline, the unit-cost tables computed from a run record, and `--report-only`
 * still rendering the 2026-11-22 results (recorded before these fields existed) with "—".
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, waitForPort } from '../../bench/compare/lib/net.js';
import { cpuSecondsByKind, processKind } from '../../bench/compare/lib/proc.js';
import { parseInfo, readCounters, windowOf } from '../../bench/compare/lib/redis-stats.js';
import { summarize, unitCostTables, type RunRecord } from '../../bench/compare/lib/report.js';
import { deliveriesPerUnitRate, fullPlan } from '../../bench/compare/plan.js';
import { Layout, parseScenario } from '../../packages/loadgen/src/index.js';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

test('Redis counters: a window counts the commands, bytes and per-command calls made in it', async () => {
  const port = await freePort();
  const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  try {
    await waitForPort(port, 10_000, () => undefined);
    assert.equal(processKind(redis.pid!), 'redis-server');
    assert.ok((cpuSecondsByKind([redis.pid!, process.pid])['redis-server'] ?? -1) >= 0);
    const before = readCounters(port);
    assert.ok(before, 'INFO answered');
    const value = 'x'.repeat(1000);
    for (let i = 0; i < 5; i++) assert.equal(spawnSync('redis-cli', ['-p', String(port), 'SET', `k${i}`, value], { encoding: 'utf8' }).stdout.trim(), 'OK');
    const after = readCounters(port)!;
    const w = windowOf(before, after);
    // 5 SETs plus the INFO of the second sample (the first INFO ran before `before` was taken).
    assert.equal(w.commands, 6);
    assert.equal(w.top[0]?.command, 'set');
    assert.equal(w.top[0]?.calls, 5);
    assert.ok(w.netInputBytes >= 5 * 1000, `${w.netInputBytes} bytes in`);
    assert.ok(after.usedMemoryBytes > before.usedMemoryBytes, 'used_memory grew with 5 KB of values');
    assert.equal(w.usedMemoryGrowthBytes, after.usedMemoryBytes - before.usedMemoryBytes);
  } finally {
    redis.kill('SIGKILL');
  }
});

test('parseInfo reads the stats, memory and commandstats lines; unknown lines are ignored', () => {
  const c = parseInfo(
    '# Stats\r\ntotal_commands_processed:42\r\ntotal_net_input_bytes:1000\r\ntotal_net_output_bytes:2000\r\n# Memory\r\nused_memory:123456\r\nused_memory_human:120.56K\r\n# Commandstats\r\ncmdstat_xadd:calls=10,usec=55,usec_per_call=5.50,rejected_calls=0,failed_calls=0\r\ncmdstat_client|setname:calls=2,usec=1,usec_per_call=0.50,rejected_calls=0,failed_calls=0\r\n',
  );
  assert.deepEqual({ ...c, perCommand: { ...c.perCommand } }, { commands: 42, netInputBytes: 1000, netOutputBytes: 2000, usedMemoryBytes: 123456, perCommand: { xadd: { calls: 10, usec: 55 }, 'client|setname': { calls: 2, usec: 1 } } });
});

test('unit costs: CPU-s per million deliveries by kind and Redis per delivery, from one run record', () => {
  const plan = fullPlan().filter((p) => p.id === 'fixed-2000' || p.id === 's1-idle-10000');
  const variant = { id: 'parley-4g4w', label: 'x', settings: [], start: async () => { throw new Error('unused'); } };
  const fixed = {
    server: 'parley-4g4w', item: 'fixed-2000', kind: 'fixed', rate: 2, workDir: '/x', startedAt: '2026-12-07T00:00:00Z',
    result: { ok: true, reasons: [], generator: { saturated: false }, joins: { stormMs: null }, clients: { joined: 1000 }, messages: { sent: 5000, delivered: 50_000, deliveriesPerSec: 2000, lost: 0, duplicates: 0, latency: { p50Ms: 1, p99Ms: 2 } } },
    serverStats: {
      pids: 9, rssBeforeBytes: 0, cpuMessagingSeconds: 10,
      cpuMessagingByKind: { 'redis-server': 2, gateway: 5, 'room-worker': 3 },
      redisMessaging: { commands: 25_000, netInputBytes: 5_000_000, netOutputBytes: 10_000_000, commandUsec: 100_000, usedMemoryGrowthBytes: 0, top: [{ command: 'xadd', calls: 20_000, usec: 80_000 }] },
    },
  } as unknown as RunRecord;
  const idle = {
    server: 'parley-4g4w', item: 's1-idle-10000', kind: 'idle', workDir: '/x', startedAt: '2026-12-07T00:00:00Z',
    result: { ok: true, reasons: [], generator: { saturated: false }, joins: { stormMs: null }, clients: { joined: 10_000 }, messages: { sent: 0, delivered: 0, lost: 0, duplicates: 0, latency: { p50Ms: 0, p99Ms: 0 } } },
    serverStats: {
      pids: 9, rssBeforeBytes: 100 * 2 ** 20, rssIdleBytes: 100 * 2 ** 20 + 10_000 * 20 * 1024,
      rssBeforeByKind: { 'redis-server': 10 * 2 ** 20, gateway: 90 * 2 ** 20 }, rssIdleByKind: { 'redis-server': 10 * 2 ** 20 + 10_000 * 4 * 1024, gateway: 90 * 2 ** 20 + 10_000 * 16 * 1024 },
      redisUsedMemoryBeforeBytes: 1_000_000, redisUsedMemoryIdleBytes: 31_000_000,
    },
  } as unknown as RunRecord;
  const cells = summarize([fixed, idle], plan, [variant]);
  const f = cells.find((c) => c.item === 'fixed-2000')!;
  assert.deepEqual({ ...f.unit!.cpuSecPerMillionByKind }, { 'redis-server': 40, gateway: 100, 'room-worker': 60 });
  assert.equal(f.cpuSecPerMillion, 200);
  assert.equal(f.unit!.redisCommandsPerDelivery, 0.5);
  assert.equal(f.unit!.redisInBytesPerDelivery, 100);
  assert.equal(f.unit!.redisOutBytesPerDelivery, 200);
  assert.equal(f.unit!.redisCommandUsecPerDelivery, 2);
  assert.equal(f.unit!.redisCommandsPerCpuSecond, 12_500);
  assert.deepEqual(f.unit!.redisTop, [{ command: 'xadd', callsPerDelivery: 0.4, usecPerCall: 4 }]);
  const i = cells.find((c) => c.item === 's1-idle-10000')!;
  assert.deepEqual({ ...i.memPerClientByKindKiB }, { 'redis-server': 4, gateway: 16 });
  assert.equal(i.redisUsedMemoryPerClientBytes, 3000);
  const md = unitCostTables(cells, plan, ['parley-4g4w']).join('\n');
  assert.match(md, /\| parley-4g4w \| fixed-2000 \| 50,000 \(2,000\) \| 40\.0 \| 100\.0 \| 60\.0 \| 200\.0 \| 0\.500 \| 100 \| 200 \| 12,500 \|/);
  assert.match(md, /xadd 0\.4 × 4 µs/);
  assert.match(md, /\| parley-4g4w \| s1-idle-10000 \| 10,000 \| 4\.00 \| 16\.00 \| — \| 20\.0 \| 3,000 \|/);
});

test('--report-only renders the 2026-11-22 results (no unit-cost fields) with "—", keeping every earlier line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'compare-units-'));
  try {
    copyFileSync(join(repoRoot, 'bench', 'results', '2026-11-22.json'), join(dir, '2026-11-22.json'));
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'bench', 'compare', 'compare.ts'), '--report-only', '--date', '2026-11-22', '--out-dir', dir], { cwd: repoRoot, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const md = readFileSync(join(dir, '2026-11-22.md'), 'utf8');
    assert.match(md, /\| parley-1g1w \| fixed-2000 \| — \| — \| — \| — \| 226\.0 \| — \| — \| — \| — \|/);
    assert.match(md, /\| parley-1g1w \| s1-idle-10000 \| 10,000 \| — \| — \| — \| 40\.2 \| — \|/);
    const old = readFileSync(join(repoRoot, 'bench', 'results', '2026-11-22.md'), 'utf8').split('\n');
    const now = new Set(md.split('\n'));
    // The settings lines come from today's variants (servers/*.ts), not from the JSON: they may differ.
    assert.deepEqual(old.filter((l) => !now.has(l) && !l.startsWith('- **parley-')), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('s7-idle-1pct: a stepped scenario of 10,000 clients in 1,000 rooms × 10 where 1 % send (one in each of 100 rooms)', () => {
  const item = fullPlan().find((p) => p.id === 's7-idle-1pct');
  assert.ok(item, 'in the full plan');
  assert.equal(item.kind, 'throughput');
  assert.equal(deliveriesPerUnitRate(item.shape), 1000, '100 senders × 10 occupants per message/s');
  const scenario = parseScenario({ ...item.shape, targets: ['127.0.0.1:5222'] });
  const layout = new Layout(scenario, scenario.targets, 2, 'x');
  let senders = 0;
  const rooms = new Set<number>();
  for (let i = 0; i < layout.clients; i++) {
    if (!layout.isSender(i)) continue;
    senders++;
    rooms.add(layout.roomOf(i));
  }
  assert.equal(layout.clients, 10_000);
  assert.equal(scenario.rooms.count, 1000);
  assert.equal(senders, 100);
  assert.equal(rooms.size, 100, 'one sender per sending room');
  // Every other plan item keeps one sender in every room.
  for (const p of fullPlan().filter((x) => x.id !== 's7-idle-1pct' && (x.kind === 'throughput' || x.kind === 'fixed'))) {
    assert.equal(deliveriesPerUnitRate(p.shape), (p.shape.rooms?.count ?? 0) * (p.shape.rooms?.occupantsPerRoom ?? 1), p.id);
  }
});
