import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * What the launcher keeps in its data directory so that a restart with the same directory
 * prints the same connection details (issue #14 item 4): `xmppctl` and scripts keep working
 * with the `REDIS_URL` and the development admin token they were given.
 * Stored as JSON in `<data-dir>/launcher.json`, mode 0600 (the directory is 0700): the Redis
 * password is there in clear, because the launcher prints it again; redis.conf keeps only
 * its SHA-256.
 */
export interface LauncherState {
  /** Loopback TCP port of the launched redis-server (1..65535). */
  redisPort?: number;
  /** Password of the Redis ACL user `parley` (base64url, 32 characters). */
  redisPassword?: string;
  /** The development admin API token (admin scope; base64url, 32 characters). */
  adminToken?: string;
  /**
   * Base port of the launched Redis Cluster (`--redis-cluster`): nodes on this port and the
   * next 5, their cluster bus ports on the 6 after those (1..65524). Its nodes keep these
   * addresses in their nodes.conf, so the next start reuses them.
   */
  redisClusterPort?: number;
}

const STATE_FILE = 'launcher.json';
const SECRET = /^[A-Za-z0-9_-]{16,128}$/;

/** A fresh secret: 24 random bytes, base64url (32 characters). */
export function newSecret(): string {
  return randomBytes(24).toString('base64url');
}

/**
 * Reads `<dataDir>/launcher.json`. A missing file gives `{}`; fields that are missing or not of
 * the expected shape (a port out of range, a secret with other characters) are left out, so
 * the caller makes new ones. Never throws for the file's content; throws when the file exists
 * but cannot be read (permissions).
 */
export function readLauncherState(dataDir: string): LauncherState {
  const file = join(dataDir, STATE_FILE);
  if (!existsSync(file)) return {};
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code) throw err;
    return {}; // not JSON: start afresh
  }
  if (typeof raw !== 'object' || raw === null) return {};
  const r = raw as Record<string, unknown>;
  const state: LauncherState = {};
  if (typeof r.redisPort === 'number' && Number.isInteger(r.redisPort) && r.redisPort > 0 && r.redisPort < 65536) state.redisPort = r.redisPort;
  if (typeof r.redisPassword === 'string' && SECRET.test(r.redisPassword)) state.redisPassword = r.redisPassword;
  if (typeof r.adminToken === 'string' && SECRET.test(r.adminToken)) state.adminToken = r.adminToken;
  if (typeof r.redisClusterPort === 'number' && Number.isInteger(r.redisClusterPort) && r.redisClusterPort > 0 && r.redisClusterPort <= 65524) state.redisClusterPort = r.redisClusterPort;
  return state;
}

/**
 * Merges `patch` into `<dataDir>/launcher.json` (written to a temporary file 0600, then
 * renamed, so a crash never leaves half a file). Creates `dataDir` (0700) when missing.
 */
export function updateLauncherState(dataDir: string, patch: LauncherState): LauncherState {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const next = { ...readLauncherState(dataDir), ...patch };
  const tmp = join(dataDir, `${STATE_FILE}.tmp`);
  writeFileSync(tmp, `${JSON.stringify(next, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, join(dataDir, STATE_FILE));
  return next;
}

/**
 * Claims `dataDir` for this launcher: writes its pid to `<dataDir>/launcher.pid`, unless a
 * launcher that is still running holds it (a live pid whose command line names the
 * launcher), in which case it throws `Error('data directory <dir> is in use by the launcher
 * with pid <n>')`: two launchers on one data directory would run two redis-servers on one
 * append-only file.
 * @returns a function that removes the pid file (only if it still holds this pid)
 */
export function claimDataDir(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = join(dataDir, 'launcher.pid');
  if (existsSync(file)) {
    const pid = Number(readFileSync(file, 'utf8').trim());
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && launcherAlive(pid)) {
      throw new Error(`data directory ${dataDir} is in use by the launcher with pid ${pid}`);
    }
  }
  writeFileSync(file, `${process.pid}\n`, { mode: 0o600 });
  return () => {
    try {
      if (readFileSync(file, 'utf8').trim() === String(process.pid)) writeFileSync(file, '', { mode: 0o600 });
    } catch {
      // gone already
    }
  };
}

function launcherAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('cli');
  } catch {
    return true; // no /proc: assume it is one
  }
}
