// A private Prosody 0.12 (Debian package `prosody`) for the comparison: its own
// configuration, data directory and log in the work directory, c2s on a free loopback port,
// run in the foreground (`prosody --config <file> -F`) as the `prosody` user when we are
// root (as /work/shared/reference/prosody/run_prosody.sh does), stopped with SIGTERM.
//
// Fair settings (Prosody 0.12 option names, from its source under /usr/lib/prosody):
//   no TLS (no certificates, c2s_require_encryption = false), PLAIN on plain TCP
//   (allow_unencrypted_plain_auth); open test auth `authentication = "insecure"` as in
//   Prosody's own test configuration (spec/scansion/prosody.cfg.lua), or
//   `internal_hashed` (SCRAM-SHA-1 + PLAIN against stored salted keys) for login runs;
//   `storage = "memory"`; no mod_limits (Prosody's rate limiter is not loaded unless listed);
//   c2s_stanza_size_limit 256 KiB → 1 MiB; network_settings.tcp_backlog 128 → 1024
//   (net/server_epoll.lua); MUC: muc_room_default_history_length 0 for throughput runs,
//   muc_room_cache_size 100 → 100,000 (mod_muc.lua keeps only that many rooms live),
//   muc_tombstones off (memory storage); 0.12 has no per-room occupant cap or per-user room
//   cap to lift. Variants: stock GC (incremental) and `gc = { mode = "generational" }`.
import { execFileSync } from 'node:child_process';
import { chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, waitForPort } from '../lib/net.js';
import { DOMAIN, MUC_DOMAIN, spawnLogged, type RunningServer, type ServerVariant, type StartOptions } from './server.js';

function lua(s: string): string {
  return JSON.stringify(s); // a JSON string is a valid Lua string literal for these paths
}

function config(opts: StartOptions, port: number, generational: boolean): string {
  const dir = opts.workDir;
  return `-- Written by bench/compare/servers/prosody.ts for one benchmark run.
daemonize = false
pidfile = ${lua(join(dir, 'prosody.pid'))}
data_path = ${lua(join(dir, 'data'))}
log = { warn = ${lua(join(dir, 'prosody.log'))} }
${generational ? 'gc = { mode = "generational" }' : '-- gc: Prosody\'s default (incremental)'}

interfaces = { "127.0.0.1" }
c2s_ports = { ${port} }
c2s_direct_tls_ports = { }
s2s_ports = { }
http_ports = { }
https_ports = { }
network_backend = "epoll"
network_settings = { tcp_backlog = 1024 }

modules_enabled = { "roster"; "saslauth"; "disco"; "ping"; "register" }
modules_disabled = { "s2s"; "offline"; "tls" }

c2s_require_encryption = false
allow_unencrypted_plain_auth = true
c2s_stanza_size_limit = 1048576
${
    opts.auth === 'open'
      ? 'authentication = "insecure"\ninsecure_open_authentication = "Yes please, I know what I\'m doing!"'
      : 'authentication = "internal_hashed"'
  }
allow_registration = true -- in-band registration from 127.0.0.1 (allow-listed in mod_register_limits) creates the login runs' accounts
storage = "memory"

VirtualHost "${DOMAIN}"

Component "${MUC_DOMAIN}" "muc"
	storage = "memory"
	muc_room_default_history_length = ${opts.historyLength}
	muc_room_cache_size = 100000
	muc_tombstones = false
	restrict_room_creation = false
`;
}

function variant(generational: boolean): ServerVariant {
  const id = generational ? 'prosody-gen' : 'prosody';
  return {
    id,
    get label() {
      return `Prosody ${version()}${generational ? ', generational GC' : ', stock (incremental GC)'}`;
    },
    settings: [
      'authentication = "insecure" (open test auth; "internal_hashed" with registered accounts for login runs), storage = "memory"',
      'no TLS, allow_unencrypted_plain_auth = true, mod_limits not loaded, c2s_stanza_size_limit = 1 MiB',
      'network_settings = { tcp_backlog = 1024 }',
      'MUC: muc_room_default_history_length = 0 (throughput), muc_room_cache_size = 100000 (0.12 has no occupant or per-user room caps)',
      generational ? 'gc = { mode = "generational" }' : 'GC: default (incremental)',
    ],
    async start(opts: StartOptions): Promise<RunningServer> {
      const port = await freePort();
      mkdirSync(join(opts.workDir, 'data'), { recursive: true });
      const cfg = join(opts.workDir, 'prosody.cfg.lua');
      writeFileSync(cfg, config(opts, port, generational));
      writeFileSync(join(opts.workDir, 'prosody.log'), '');
      let cmd = 'prosody';
      let args = ['--config', cfg, '-F'];
      if (process.getuid?.() === 0) {
        // Prosody refuses to run as root; run as its own user, as the Debian service does.
        const uid = Number(execFileSync('id', ['-u', 'prosody'], { encoding: 'utf8' }).trim());
        const gid = Number(execFileSync('id', ['-g', 'prosody'], { encoding: 'utf8' }).trim());
        for (const p of [opts.workDir, join(opts.workDir, 'data'), join(opts.workDir, 'prosody.log'), cfg]) chownSync(p, uid, gid);
        args = ['--reuid=prosody', '--regid=prosody', '--init-groups', cmd, ...args];
        cmd = 'setpriv';
      }
      const proc = spawnLogged(cmd, args, join(opts.workDir, 'console.log'), { cwd: opts.workDir });
      opts.log(`${id}: pid ${proc.child.pid}, c2s 127.0.0.1:${port}, config ${cfg}`);
      try {
        await waitForPort(port, 30_000, proc.exited);
      } catch (err) {
        await proc.stop(2000);
        throw err;
      }
      return {
        id,
        targets: [`127.0.0.1:${port}`],
        domain: DOMAIN,
        mucDomain: MUC_DOMAIN,
        // setpriv execs prosody (lua5.4) in place: one process.
        pids: () => (proc.exited() === undefined && proc.child.pid !== undefined ? [proc.child.pid] : []),
        stop: () => proc.stop(10_000),
      };
    },
  };
}

function version(): string {
  try {
    return execFileSync('dpkg-query', ['-W', '-f', '${Version}', 'prosody'], { encoding: 'utf8' }).trim();
  } catch {
    return '(version unknown)';
  }
}

export const prosodyStock = variant(false);
export const prosodyGenerational = variant(true);
