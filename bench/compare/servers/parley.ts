// Our cluster for the comparison, started through the local launcher exactly as a user
// would (`node deploy/local/dist/cli.js --gateways G --workers W --c2s-port P ...`, see the
// root README), with its Redis started here: Debian's redis-server on a free loopback port,
// purely in memory (no RDB snapshots, no append-only file), like the peers' memory storage.
//
// Fair settings: no TLS, PLAIN on plain TCP (`--open-auth` sets
// PARLEY_ALLOW_PLAIN_WITHOUT_TLS); open test auth (`--open-auth`: any user, any password,
// as Prosody's "insecure") or, for login runs, stored SCRAM credentials written to Redis
// before the start (PLAIN then costs one PBKDF2 check, as on the peers); MUC history 0 for
// throughput runs (PARLEY_MUC_HISTORY_LENGTH); log level warn; no admin API (`--no-admin`);
// parley has no rate shapers or per-room/per-user caps to lift.
//
// Memory and CPU count every serving process: redis-server, the gateways and the room
// workers; not the launcher itself (a supervisor that only relays logs).
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { keySpace } from '../../../packages/bus/src/keys.js';
import { deriveCredentials } from '../../../packages/sasl/src/derive-credentials.js';
import { freePort, freePortRange, waitForPort } from '../lib/net.js';
import { processTree } from '../lib/proc.js';
import { readCounters } from '../lib/redis-stats.js';
import { DOMAIN, MUC_DOMAIN, spawnLogged, type LoggedChild, type RunningServer, type ServerVariant, type StartOptions } from './server.js';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const launcher = join(repoRoot, 'deploy', 'local', 'dist', 'cli.js');

/** A redis-server purely in memory on a free loopback port. */
async function startRedis(dir: string): Promise<{ port: number; proc: LoggedChild }> {
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const proc = spawnLogged('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--protected-mode', 'yes'], join(dir, 'redis.log'));
  await waitForPort(port, 10_000, proc.exited);
  return { port, proc };
}

/** One RESP command (the Redis protocol, as redis-cli --pipe reads it). */
function resp(...args: string[]): string {
  return `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
}

/**
 * Writes accounts with real SCRAM credentials straight into Redis, the way
 * `@parley/accounts` stores them (one hash per bare JID plus the index set). One derivation
 * serves every account (they share the password); the server's work per login is the same.
 */
async function writeAccounts(redisPort: number, usernames: readonly string[], password: string): Promise<void> {
  const keys = keySpace('parley:');
  const creds = JSON.stringify(await deriveCredentials(password));
  const now = String(Date.now());
  let text = '';
  for (const u of usernames) {
    const bare = `${u}@${DOMAIN}`;
    text += resp('HSET', keys.account(bare), 'credentials', creds, 'created', now) + resp('SADD', keys.accountIndex(), bare);
  }
  const r = spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(redisPort), '--pipe'], { input: text, encoding: 'utf8' });
  if (r.status !== 0 || !/errors: 0/.test(r.stdout)) throw new Error(`writing accounts to Redis failed: ${r.stdout}${r.stderr}`);
}

/** The cluster with `gateways` gateway processes and `workers` room workers. */
export function parley(gateways: number, workers: number, note = ''): ServerVariant {
  const id = `parley-${gateways}g${workers}w`;
  return {
    id,
    label: `parley (${gateways} gateway${gateways > 1 ? 's' : ''} + ${workers} room worker${workers > 1 ? 's' : ''}${note ? `; ${note}` : ''})`,
    settings: [
      '--open-auth (any user/password over PLAIN, no TLS); stored SCRAM credentials for login runs (PLAIN allowed without TLS)',
      'redis-server in memory only (--save "" --appendonly no), counted in memory and CPU',
      'PARLEY_MUC_HISTORY_LENGTH=0 (throughput), PARLEY_LOG_LEVEL=warn, --no-admin, PARLEY_LISTEN_BACKLOG=1024, PARLEY_MUC_ARCHIVE_DEFAULT_ENABLED=false (no room archive, as the peers)',
    ],
    async start(opts: StartOptions): Promise<RunningServer> {
      const redis = await startRedis(join(opts.workDir, 'redis'));
      if (opts.auth === 'accounts' && opts.accounts) await writeAccounts(redis.port, opts.accounts.usernames, opts.accounts.password);
      const c2s = await freePortRange(gateways, 21000 + Math.floor(Math.random() * 8000));
      const ws = await freePortRange(gateways, c2s + gateways + 100);
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        PARLEY_LOG_LEVEL: 'warn',
        PARLEY_MUC_HISTORY_LENGTH: String(opts.historyLength),
        PARLEY_ALLOW_PLAIN_WITHOUT_TLS: 'true',
        // The common listen backlog of the comparison (Prosody's tcp_backlog, ejabberd's backlog).
        PARLEY_LISTEN_BACKLOG: '1024',
        // No room archives (XEP-0313): the peers run without MAM (Prosody without mod_muc_mam,
        // ejabberd without mod_mam).
        PARLEY_MUC_ARCHIVE_DEFAULT_ENABLED: 'false',
      };
      const args = [launcher, '--gateways', String(gateways), '--workers', String(workers), '--c2s-port', String(c2s), '--ws-port', String(ws), '--no-admin', '--no-tls', '--json', '--redis-url', `redis://127.0.0.1:${redis.port}`];
      if (opts.auth === 'open') args.push('--open-auth');
      let ready: (line: string) => void = () => undefined;
      const readyLine = new Promise<string>((resolve) => (ready = resolve));
      const proc = spawnLogged(process.execPath, args, join(opts.workDir, 'cluster.log'), { env, onLine: (l) => l.includes('[cluster] READY') && ready(l) });
      opts.log(`${id}: launcher pid ${proc.child.pid}, redis 127.0.0.1:${redis.port}, c2s ${c2s}..${c2s + gateways - 1}`);
      const stop = async () => {
        await proc.stop(15_000);
        await redis.proc.stop(5_000);
      };
      try {
        const gone = new Promise<never>((_, reject) => {
          const t = setInterval(() => {
            const why = proc.exited();
            if (why !== undefined) {
              clearInterval(t);
              reject(new Error(why));
            }
          }, 200);
          void readyLine.then(() => clearInterval(t));
        });
        const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${id}: no READY after 60 s`)), 60_000).unref());
        await Promise.race([readyLine, gone, timeout]);
      } catch (err) {
        await stop();
        throw err;
      }
      const targets = Array.from({ length: gateways }, (_, i) => `127.0.0.1:${c2s + i}`);
      return {
        id,
        targets,
        domain: DOMAIN,
        mucDomain: MUC_DOMAIN,
        pids() {
          const launcherPid = proc.child.pid;
          const served = launcherPid !== undefined && proc.exited() === undefined ? processTree(launcherPid).slice(1) : [];
          const redisPid = redis.proc.exited() === undefined ? redis.proc.child.pid : undefined;
          return redisPid === undefined ? served : [redisPid, ...served];
        },
        redisCounters: () => (redis.proc.exited() === undefined ? readCounters(redis.port) : undefined),
        stop,
      };
    },
  };
}
