// Redis's own counters, read before and after a measured window so that a run can state what
// each delivery cost in Redis: commands, bytes in and out, and which commands dominate.
// Source: redis.io/docs/latest/commands/info/ — `INFO stats` (total_commands_processed,
// total_net_input_bytes, total_net_output_bytes) and `INFO commandstats`
// (`cmdstat_<name>:calls=<n>,usec=<µs>,usec_per_call=…,rejected_calls=…,failed_calls=…`).
import { spawnSync } from 'node:child_process';

/** Cumulative counters of one redis-server at one instant. */
export interface RedisCounters {
  /** total_commands_processed */
  commands: number;
  /** total_net_input_bytes, total_net_output_bytes */
  netInputBytes: number;
  netOutputBytes: number;
  /** used_memory (INFO memory): bytes allocated by Redis for its data, a gauge */
  usedMemoryBytes: number;
  /** per command (lower-case name, `xadd`, `evalsha`, `client|setname`): calls and CPU µs inside Redis */
  perCommand: Record<string, { calls: number; usec: number }>;
}

/** The difference of two samples: what a window cost. */
export interface RedisWindow {
  commands: number;
  netInputBytes: number;
  netOutputBytes: number;
  /**
   * µs Redis spent inside commands (Σ commandstats usec): wall time, so it grows when the CPU
   * is shared, and a command called by a Lua script counts both alone and inside EVALSHA
   */
  commandUsec: number;
  /** growth of used_memory over the window, bytes (negative when Redis freed more than it took) */
  usedMemoryGrowthBytes: number;
  /** the commands with most calls in the window, at most 8, most calls first */
  top: Array<{ command: string; calls: number; usec: number }>;
}

/** Parses the text of `INFO everything` (or any of its sections: stats, memory, commandstats). */
export function parseInfo(text: string): RedisCounters {
  const perCommand: Record<string, { calls: number; usec: number }> = Object.create(null) as Record<string, { calls: number; usec: number }>;
  let commands = 0;
  let netInputBytes = 0;
  let netOutputBytes = 0;
  let usedMemoryBytes = 0;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    const kv = /^([a-z_]+):(\d+)$/.exec(line);
    if (kv) {
      if (kv[1] === 'total_commands_processed') commands = Number(kv[2]);
      else if (kv[1] === 'total_net_input_bytes') netInputBytes = Number(kv[2]);
      else if (kv[1] === 'total_net_output_bytes') netOutputBytes = Number(kv[2]);
      else if (kv[1] === 'used_memory') usedMemoryBytes = Number(kv[2]);
      continue;
    }
    const cs = /^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/.exec(line);
    if (cs) perCommand[cs[1]!] = { calls: Number(cs[2]), usec: Number(cs[3]) };
  }
  return { commands, netInputBytes, netOutputBytes, usedMemoryBytes, perCommand };
}

/** Reads the counters of the redis-server on 127.0.0.1:`port` with redis-cli; undefined when it does not answer. */
export function readCounters(port: number): RedisCounters | undefined {
  const r = spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), 'INFO', 'everything'], { encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0 || !/total_commands_processed/.test(r.stdout)) return undefined;
  return parseInfo(r.stdout);
}

/** What happened between two samples of the same server. */
export function windowOf(before: RedisCounters, after: RedisCounters): RedisWindow {
  const rows: Array<{ command: string; calls: number; usec: number }> = [];
  for (const [command, a] of Object.entries(after.perCommand)) {
    const b = before.perCommand[command] ?? { calls: 0, usec: 0 };
    if (a.calls > b.calls) rows.push({ command, calls: a.calls - b.calls, usec: a.usec - b.usec });
  }
  rows.sort((x, y) => y.calls - x.calls || x.command.localeCompare(y.command));
  return {
    commands: after.commands - before.commands,
    netInputBytes: after.netInputBytes - before.netInputBytes,
    netOutputBytes: after.netOutputBytes - before.netOutputBytes,
    commandUsec: rows.reduce((s, r) => s + r.usec, 0),
    usedMemoryGrowthBytes: after.usedMemoryBytes - before.usedMemoryBytes,
    top: rows.slice(0, 8),
  };
}
