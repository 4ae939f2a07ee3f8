/*
 * `xmppctl status [--json]` (issue #14 item 4): what the cluster looks like from Redis —
 * Redis itself (version, round trip, clients, memory), the data schema version, the
 * gateways and room workers with the age of their heartbeats (by the Redis server clock),
 * and who owns each room shard (readClusterState of @parley/control, as `GET /v1/cluster`).
 *
 * A gateway is alive while its heartbeat is younger than `gateway.deadAfterMs`; a room worker
 * while younger than `roomWorker.leaseTtlMs`. Exit 0 when healthy (Redis answers, at least
 * one gateway alive, every shard owned by an alive worker, schema version readable by this
 * release), 1 otherwise (the report says why); Redis unreachable is exit 1 with one line.
 */
import type { Command } from 'commander';
import { readClusterState } from '@parley/control';
import { DATA_SCHEMA_VERSION } from '@parley/service-runtime';
import { out, withRedis, type CtlContext } from './ctl-context.js';

/** `xmppctl status --json`: shapes in ms, bytes and shard numbers. */
export interface StatusReport {
  healthy: boolean;
  /** Why not healthy (empty when healthy). */
  problems: string[];
  redis: { version: string; rttMs: number; connectedClients: number; usedMemoryBytes: number };
  /** Stored data schema version (null: none written yet), and the one this release reads and writes. */
  schema: { stored: number | null; supported: number };
  gateways: { id: string; alive: boolean; lastSeenMsAgo: number; sessions: number }[];
  workers: { id: string; alive: boolean; lastSeenMsAgo: number; shards: number[] }[];
  shards: { total: number; owned: number; unowned: number[]; backlog: number };
}

/** Adds `status` to `program`. */
export function registerStatus(program: Command, ctx: CtlContext): void {
  program
    .command('status')
    .description('cluster status: Redis, schema version, gateways, room workers, shard owners (exit 1 when degraded)')
    .option('--json', 'print the report as one JSON object')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const c = ctx.cfg(cmd);
      const report = await withRedis(c, async (redis, keys): Promise<StatusReport> => {
        const state = await readClusterState(redis, keys, c.muc.shards);
        const [[sec, usec], stored] = await Promise.all([redis.time(), redis.get(keys.schemaVersion())]);
        const now = Number(sec) * 1000 + Math.floor(Number(usec) / 1000);
        const gateways = state.gateways.map((g) => ({ id: g.id, alive: now - g.lastSeen < c.gateway.deadAfterMs, lastSeenMsAgo: Math.max(0, now - g.lastSeen), sessions: g.sessions }));
        const workers = state.workers.map((w) => ({ id: w.id, alive: now - w.lastSeen < c.roomWorker.leaseTtlMs, lastSeenMsAgo: Math.max(0, now - w.lastSeen), shards: w.shards }));
        const aliveWorkers = new Set(workers.filter((w) => w.alive).map((w) => w.id));
        const unowned = state.shards.filter((s) => s.owner === undefined || !aliveWorkers.has(s.owner)).map((s) => s.shard);
        const storedVersion = stored !== null && /^\d{1,9}$/.test(stored) ? Number(stored) : null;
        const problems: string[] = [];
        if (!gateways.some((g) => g.alive)) problems.push('no gateway alive');
        if (unowned.length > 0) problems.push(`${unowned.length} of ${c.muc.shards} shards without an alive owner`);
        if (stored !== null && (storedVersion === null || storedVersion > DATA_SCHEMA_VERSION)) problems.push(`data schema version ${stored.slice(0, 32)} is newer than this release reads (${DATA_SCHEMA_VERSION})`);
        return {
          healthy: problems.length === 0,
          problems,
          redis: { version: state.redis.version, rttMs: state.redis.rttMs, connectedClients: state.redis.connectedClients, usedMemoryBytes: state.redis.usedMemoryBytes },
          schema: { stored: storedVersion, supported: DATA_SCHEMA_VERSION },
          gateways,
          workers,
          shards: { total: c.muc.shards, owned: c.muc.shards - unowned.length, unowned, backlog: state.shards.reduce((n, s) => n + s.streamLength, 0) },
        };
      });
      if (opts.json) out(JSON.stringify(report));
      else print(report);
      if (!report.healthy) ctx.exit(1);
    });
}

const ago = (ms: number) => `${(ms / 1000).toFixed(1)} s ago`;

/** Shard numbers as ranges: [0,1,2,5] → "0-2,5". */
function ranges(shards: readonly number[]): string {
  const sorted = [...shards].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',') || '-';
}

function print(r: StatusReport): void {
  out(`status\t${r.healthy ? 'healthy' : `DEGRADED: ${r.problems.join('; ')}`}`);
  out(`redis\t${r.redis.version}, round trip ${r.redis.rttMs} ms, ${r.redis.connectedClients} clients, ${(r.redis.usedMemoryBytes / 1048576).toFixed(1)} MiB used`);
  out(`schema\t${r.schema.stored ?? 'none written yet'} (this release: ${r.schema.supported})`);
  out(`gateways\t${r.gateways.filter((g) => g.alive).length} alive of ${r.gateways.length}`);
  for (const g of r.gateways) out(`  ${g.id}\t${g.alive ? 'alive' : 'DEAD'}\t${ago(g.lastSeenMsAgo)}\t${g.sessions} sessions`);
  out(`workers\t${r.workers.filter((w) => w.alive).length} alive of ${r.workers.length}`);
  for (const w of r.workers) out(`  ${w.id}\t${w.alive ? 'alive' : 'DEAD'}\t${ago(w.lastSeenMsAgo)}\tshards ${ranges(w.shards)}`);
  out(`shards\t${r.shards.owned}/${r.shards.total} owned${r.shards.unowned.length ? ` (unowned: ${ranges(r.shards.unowned)})` : ''}, backlog ${r.shards.backlog} entries`);
}
