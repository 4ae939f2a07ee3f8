// Process accounting from /proc (Linux): the process tree of a server, its resident memory
// and its CPU time. proc(5): /proc/<pid>/stat fields 14 (utime) and 15 (stime) are in clock
// ticks; /proc/<pid>/status VmRSS is in KiB.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let ticksPerSecond: number | undefined;

/** Clock ticks per second (`getconf CLK_TCK`, 100 on Linux unless told otherwise). */
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** Fields of /proc/<pid>/stat after the command name (field 3 first), or undefined once gone. */
function statFields(pid: number): string[] | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may contain spaces.
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** `root` and all its descendants that are alive now (parent links from /proc/<pid>/stat). */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    const f = statFields(pid);
    const ppid = f === undefined ? undefined : Number(f[1]);
    if (ppid === undefined) continue;
    const list = children.get(ppid) ?? [];
    list.push(pid);
    children.set(ppid, list);
  }
  const out: number[] = [];
  const stack = [root];
  while (stack.length > 0) {
    const pid = stack.pop()!;
    if (statFields(pid) === undefined) continue;
    out.push(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  return out;
}

/** Sum of VmRSS over `pids`, in bytes (processes that are gone count 0). */
export function rssBytes(pids: readonly number[]): number {
  let kib = 0;
  for (const pid of pids) {
    try {
      const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m?.[1]) kib += Number(m[1]);
    } catch {
      // gone
    }
  }
  return kib * 1024;
}

/** Sum of user + system CPU time over `pids`, in seconds (processes that are gone count 0). */
export function cpuSeconds(pids: readonly number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    const f = statFields(pid);
    // After the command name: f[0] is field 3 (state), so utime (14) is f[11], stime (15) f[12].
    if (f) ticks += Number(f[11]) + Number(f[12]);
  }
  return ticks / clockTicks();
}

/**
 * The kind of a server process, from its command line (/proc/<pid>/cmdline): `redis-server`,
 * `gateway` and `room-worker` (parley's services, by their entry point's path), `admin-api`,
 * else the executable's base name (`prosody`, `beam.smp`, …); `gone` once it has exited.
 */
export function processKind(pid: number): string {
  let argv: string[];
  try {
    argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return 'gone';
  }
  const line = argv.join(' ');
  if (/redis-server/.test(argv[0] ?? '')) return 'redis-server';
  if (/services\/gateway\//.test(line)) return 'gateway';
  if (/services\/room-worker\//.test(line)) return 'room-worker';
  if (/services\/admin-api\//.test(line)) return 'admin-api';
  return (argv[0] ?? 'unknown').split('/').pop() || 'unknown';
}

/** `measure` summed per process kind (processKind) over `pids`; kinds sorted by name. */
function sumByKind(pids: readonly number[], measure: (pids: number[]) => number): Record<string, number> {
  const byKind = new Map<string, number>();
  for (const pid of pids) {
    const kind = processKind(pid);
    if (kind === 'gone') continue;
    byKind.set(kind, (byKind.get(kind) ?? 0) + measure([pid]));
  }
  const out: Record<string, number> = Object.create(null) as Record<string, number>;
  for (const k of [...byKind.keys()].sort()) out[k] = byKind.get(k)!;
  return out;
}

/** User + system CPU seconds per process kind (processKind) over `pids`; kinds sorted by name. */
export function cpuSecondsByKind(pids: readonly number[]): Record<string, number> {
  return sumByKind(pids, cpuSeconds);
}

/** VmRSS bytes per process kind (processKind) over `pids`; kinds sorted by name. */
export function rssBytesByKind(pids: readonly number[]): Record<string, number> {
  return sumByKind(pids, rssBytes);
}

/** CPU time and RSS of a set of processes at one instant. */
export interface ProcSample {
  /** seconds since the epoch, fractional */
  at: number;
  cpuSeconds: number;
  /** the same CPU seconds split by process kind (processKind) */
  cpuByKind: Record<string, number>;
  rssBytes: number;
  /** the same RSS split by process kind */
  rssByKind: Record<string, number>;
  pids: number[];
}

export function sample(pids: readonly number[]): ProcSample {
  return { at: Date.now() / 1000, cpuSeconds: cpuSeconds(pids), cpuByKind: cpuSecondsByKind(pids), rssBytes: rssBytes(pids), rssByKind: rssBytesByKind(pids), pids: [...pids] };
}

/** The start time of a process (field 22 of /proc/<pid>/stat, clock ticks since boot), or undefined once gone. */
export function startTime(pid: number): string | undefined {
  return statFields(pid)?.[19];
}

/**
 * SIGKILLs the processes of `procs` that are still the same processes (same start time),
 * so that a recycled pid is never hit.
 */
export function killSame(procs: ReadonlyArray<{ pid: number; start: string | undefined }>): void {
  for (const { pid, start } of procs) {
    if (start === undefined || startTime(pid) !== start) continue;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
}
