// A private ejabberd 23.01 (Debian package `ejabberd`) for the comparison. Debian's
// ejabberdctl insists on its system paths, the `ejabberd` user and a distributed Erlang
// node (epmd, cookie); instead we start the release the way ejabberdctl's `foreground`
// does, minus distribution: `erl -noinput +K true +P 250000 -mnesia dir "<spool>"
// -s ejabberd` with ERL_LIBS pointing at Debian's ejabberd libraries and
// EJABBERD_CONFIG_PATH / EJABBERD_LOG_PATH at files in the work directory, as the
// `ejabberd` user when we are root. A non-distributed node (nonode@nohost) needs no epmd
// and no cookie, so nothing outlives the run; mnesia keeps its schema in the spool under
// the work directory.
//
// Fair settings (ejabberd 23.01 option names, docs.ejabberd.im/admin/configuration):
//   c2s listener without starttls, `shaper: none`, `backlog: 1024` (default 5),
//   `max_stanza_size` 1 MiB, `max_fsm_queue` 100,000 (listener and global);
//   `shaper_rules: c2s_shaper: none`; open test auth: `auth_method: [anonymous]`,
//   `anonymous_protocol: login_anon` (PLAIN with any user and password), or
//   `auth_method: [internal]` + `auth_password_format: scram` with accounts registered
//   in-band (mod_register, `registration_timeout: infinity`) for login runs;
//   mnesia only (`default_db`, `default_ram_db`), no disc-backed modules (no offline
//   storage, no MAM); mod_muc: `history_size: 0` for throughput runs, `max_users`
//   200 → 100,000 (the service's cap and `default_room_options`' per-room one: without the
//   latter a room refuses its 201st occupant with resource-constraint), `max_user_conferences` 100 → 100,000, `max_users_presence`
//   1,000 → 100,000, no room/user shapers, `min_message_interval: 0`.
import { execFileSync } from 'node:child_process';
import { chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, waitForPort } from '../lib/net.js';
import { processTree } from '../lib/proc.js';
import { DOMAIN, MUC_DOMAIN, spawnLogged, type RunningServer, type ServerVariant, type StartOptions } from './server.js';

/** Where Debian puts ejabberd's and its dependencies' Erlang applications (ejabberdctl's ERL_LIBS). */
const ERL_LIBS = '/usr/lib/x86_64-linux-gnu';

function config(opts: StartOptions, port: number): string {
  const auth =
    opts.auth === 'open'
      ? 'auth_method: [anonymous]\nanonymous_protocol: login_anon\nallow_multiple_connections: true'
      : 'auth_method: [internal]\nauth_password_format: scram';
  return `# Written by bench/compare/servers/ejabberd.ts for one benchmark run.
loglevel: warning
log_rotate_count: 0
hosts:
  - ${DOMAIN}
certfiles: []
${auth}
default_db: mnesia
default_ram_db: mnesia
max_fsm_queue: 100000
registration_timeout: infinity
listen:
  -
    port: ${port}
    ip: "127.0.0.1"
    module: ejabberd_c2s
    max_stanza_size: 1048576
    shaper: none
    access: c2s
    backlog: 1024
    max_fsm_queue: 100000
acl:
  loopback:
    ip:
      - 127.0.0.0/8
access_rules:
  c2s:
    allow: all
  register:
    allow: all
  muc_create:
    allow: all
shaper_rules:
  max_user_sessions: 1000
  c2s_shaper: none
modules:
  mod_disco: {}
  mod_ping: {}
  mod_roster:
    versioning: false
  mod_register:
    access: register
    ip_access: all
    welcome_message: {}
  mod_muc:
    host: ${MUC_DOMAIN}
    access_create: muc_create
    history_size: ${opts.historyLength}
    max_users: 100000
    max_user_conferences: 100000
    max_users_presence: 100000
    max_users_admin_threshold: 20
    min_message_interval: 0
    min_presence_interval: 0
    room_shaper: none
    user_message_shaper: none
    user_presence_shaper: none
    queue_type: ram
    default_room_options:
      mam: false
      persistent: false
      max_users: 100000
`;
}

function version(): string {
  try {
    return execFileSync('dpkg-query', ['-W', '-f', '${Version}', 'ejabberd'], { encoding: 'utf8' }).trim();
  } catch {
    return '(version unknown)';
  }
}

export const ejabberd: ServerVariant = {
  id: 'ejabberd',
  get label() {
    return `ejabberd ${version()}`;
  },
  settings: [
    'auth_method: [anonymous], anonymous_protocol: login_anon (any user/password over PLAIN); [internal] + auth_password_format: scram with in-band registered accounts for login runs',
    'c2s: no starttls, shaper: none, backlog: 1024, max_fsm_queue: 100000, max_stanza_size: 1 MiB; shaper_rules c2s_shaper: none',
    'mnesia (RAM tables; schema in the run\'s temp spool), no offline storage, no MAM',
    'mod_muc: history_size: 0 (throughput), max_users 100000 (service) and default_room_options max_users 100000 (per room; both default 200), max_user_conferences 100000, max_users_presence 100000, no room/user shapers',
    'Erlang VM as ejabberdctl starts it: +K true +P 250000, default schedulers (one per core)',
  ],
  async start(opts: StartOptions): Promise<RunningServer> {
    const port = await freePort();
    const spool = join(opts.workDir, 'spool');
    const logs = join(opts.workDir, 'logs');
    mkdirSync(spool, { recursive: true });
    mkdirSync(logs, { recursive: true });
    const cfg = join(opts.workDir, 'ejabberd.yml');
    writeFileSync(cfg, config(opts, port));
    const erlArgs = ['-noinput', '+K', 'true', '+P', '250000', '-mnesia', 'dir', JSON.stringify(spool), '-s', 'ejabberd'];
    let cmd = 'erl';
    let args = erlArgs;
    if (process.getuid?.() === 0) {
      const uid = Number(execFileSync('id', ['-u', 'ejabberd'], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', 'ejabberd'], { encoding: 'utf8' }).trim());
      for (const p of [opts.workDir, spool, logs, cfg]) chownSync(p, uid, gid);
      cmd = 'setpriv';
      args = ['--reuid=ejabberd', '--regid=ejabberd', '--init-groups', 'erl', ...erlArgs];
    }
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      HOME: opts.workDir,
      ERL_LIBS,
      EJABBERD_CONFIG_PATH: cfg,
      EJABBERD_LOG_PATH: join(logs, 'ejabberd.log'),
      ERL_CRASH_DUMP: join(logs, 'erl_crash.dump'),
      ERL_CRASH_DUMP_BYTES: '0',
      ERL_MAX_PORTS: '65536',
      ERL_MAX_ETS_TABLES: '1400',
    };
    const proc = spawnLogged(cmd, args, join(opts.workDir, 'console.log'), { env, cwd: spool });
    opts.log(`ejabberd: pid ${proc.child.pid}, c2s 127.0.0.1:${port}, config ${cfg}`);
    try {
      await waitForPort(port, 60_000, proc.exited);
    } catch (err) {
      await proc.stop(2000);
      throw err;
    }
    return {
      id: 'ejabberd',
      targets: [`127.0.0.1:${port}`],
      domain: DOMAIN,
      mucDomain: MUC_DOMAIN,
      // beam.smp (exec'd in place of setpriv/erl) and its erl_child_setup helper
      pids: () => (proc.exited() === undefined && proc.child.pid !== undefined ? processTree(proc.child.pid) : []),
      stop: () => proc.stop(15_000),
    };
  },
};
