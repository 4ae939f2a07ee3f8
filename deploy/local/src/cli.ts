#!/usr/bin/env node
/**
 * The local cluster launcher: one command, in the foreground, starts a complete cluster:
 * its own redis-server (unless --redis-url or REDIS_URL is given), G gateway processes on
 * consecutive ports, W room worker processes and the admin REST API (its URL and a fresh
 * development token are printed before READY). Children's JSON logs are pretty-printed
 * here. A line containing READY is printed once every gateway accepts connections and every
 * room shard has an owner; SIGINT/SIGTERM stop everything cleanly (gateways first, so that
 * rooms hear their sessions end, then room workers and the admin API, then Redis). Every
 * child runs in a process group of its own, so a Ctrl-C or a SIGTERM to the launcher's
 * group reaches the launcher only and the order holds; a child stops by itself when the
 * launcher dies (end of its stdin pipe). The Redis port and password and the development
 * admin token are kept in `<data-dir>/launcher.json` and reused by the next start.
 * With `--redis-cluster` it starts a local Redis Cluster (3 masters + 3 replicas, locked down
 * like the single Redis, in `<data-dir>/redis-cluster`; made on first start, reused after)
 * instead, and every child connects with `redis.cluster` (PARLEY_REDIS_CLUSTER*).
 *
 *   pnpm cluster --gateways 2 --workers 2 --c2s-port 5222 --open-auth
 *
 * These flag names are a stable interface: the load generator, the benchmarks and outside
 * conformance checkers drive the launcher with them.
 */
import { spawn, type ChildProcess } from 'node:child_process';

/**
 * Extra Node.js arguments for every service process, from `PARLEY_SERVICE_NODE_ARGS`
 * (space-separated), e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` for a benchmark's flame graphs
 * (flags that NODE_OPTIONS refuses); none by default.
 */
function serviceNodeArgs(): string[] {
  return (process.env['PARLEY_SERVICE_NODE_ARGS'] ?? '').split(' ').filter((a) => a.length > 0);
}
import { createHash } from 'node:crypto';
import { createInterface } from 'node:readline';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import { Cluster, Redis } from 'ioredis';
import { keySpace } from '@parley/bus';
import { ConfigError, loadConfig } from '@parley/config';
import { PinoPretty } from 'pino-pretty';
import { startRedis, type RedisChild } from './redis-server.js';
import { CLUSTER_NODES, CLUSTER_PORT_SPAN, DEFAULT_CLUSTER_BASE_PORT, startRedisCluster, type RedisClusterChild } from './redis-cluster.js';
import { claimDataDir, newSecret, readLauncherState, updateLauncherState } from './launcher-state.js';
import { ensureSelfSignedCertificates } from './certificates.js';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const gatewayMain = join(repoRoot, 'services', 'gateway', 'dist', 'main.js');
const workerMain = join(repoRoot, 'services', 'room-worker', 'dist', 'main.js');
const adminMain = join(repoRoot, 'services', 'admin-api', 'dist', 'main.js');

const int = (name: string, min: number, max: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}`);
  return n;
};

const program = new Command('cluster')
  .description('Start a complete local parley cluster in the foreground')
  .option('--gateways <n>', 'gateway processes', int('--gateways', 1, 64), 2)
  .option('--workers <n>', 'room worker processes (hosting the XEP-0045 room actors)', int('--workers', 0, 64), 2)
  .option('--c2s-port <port>', 'c2s port of the first gateway; the others use the next ports', int('--c2s-port', 1, 65535), 5222)
  .option('--ws-port <port>', 'WebSocket port of the first gateway; the others use the next ports', int('--ws-port', 1, 65535), 5280)
  .option('--admin-port <port>', 'port of the admin REST API (0 picks a free one)', int('--admin-port', 0, 65535), 5380)
  .option('--no-admin', 'do not start the admin REST API')
  .option('--open-auth', 'TEST ONLY: any user logs in with any password (PLAIN allowed without TLS)', false)
  .option('--redis-url <url>', 'use this Redis instead of starting one (default: $REDIS_URL)')
  .option('--data-dir <dir>', 'where the launched redis-server keeps its data (with --redis-cluster, its nodes in <data-dir>/redis-cluster), launcher.json and certs (made mode 0700, files 0600)', join(repoRoot, '.data', 'redis'))
  .option('--redis-maxmemory <size>', 'maxmemory of the launched redis-server (noeviction: writes fail beyond it, nothing is evicted)', '512mb')
  .option('--redis-cluster', 'start a local Redis Cluster instead of one redis-server: 3 masters + 3 replicas, locked down like the single one (ACL user, password kept in <data-dir>/launcher.json, --redis-maxmemory per node, noeviction, data and nodes.conf in <data-dir>/redis-cluster, private); made with redis-cli --cluster create on first start, reused on the next; the services connect with redis.cluster', false)
  .option('--redis-cluster-port <port>', `with --redis-cluster: port of the first node; the nodes use it and the next ${CLUSTER_NODES - 1}, their cluster bus ports the ${CLUSTER_NODES} after those (default: the previous start's, else ${DEFAULT_CLUSTER_BASE_PORT})`, int('--redis-cluster-port', 1, 65536 - CLUSTER_PORT_SPAN))
  .option('--cert-dir <dir>', 'where self-signed certificates are made on first start and reused (default: <data-dir>/certs; key files 0600)')
  .option('--no-tls', 'no TLS: make no certificate, offer no STARTTLS, open no direct TLS port (unless the configuration names a certificate)')
  .option('--direct-tls-port <port>', 'XEP-0368 direct TLS port of the first gateway, the others use the next ports (default: --c2s-port + 100, i.e. 5322); 0 picks free ports', int('--direct-tls-port', 0, 65535))
  .option('--config <file>', 'JSON or YAML configuration file passed to every process')
  .option('--json', 'print the children\'s JSON log lines as they are instead of pretty-printing them', false);
program.parse();
const opts = program.opts<{
  gateways: number; workers: number; adminPort: number; admin: boolean; c2sPort: number; wsPort: number; openAuth: boolean; redisUrl?: string; dataDir: string; redisMaxmemory: string; config?: string; json: boolean;
  certDir?: string; tls: boolean; directTlsPort?: number; redisCluster: boolean; redisClusterPort?: number;
}>();

// pino-pretty writes to stdout itself (destination 1); with --json the lines pass through.
const pretty = opts.json ? process.stdout : PinoPretty({ colorize: process.stdout.isTTY, translateTime: 'HH:MM:ss.l', ignore: 'hostname', destination: 1, sync: true });
const say = (msg: string) => process.stdout.write(`[cluster] ${msg}\n`);

let redis: RedisChild | undefined;
let redisCluster: RedisClusterChild | undefined;
let releaseDataDir: (() => void) | undefined;
const children: ChildProcess[] = [];
let stopping = false;

const workers: ChildProcess[] = [];

function stopChildren(list: ChildProcess[]): Promise<unknown> {
  return Promise.all(
    list.map((c) => new Promise<void>((resolve) => {
      if (c.exitCode !== null || c.signalCode !== null) return resolve();
      c.once('exit', () => resolve());
      c.kill('SIGTERM');
      setTimeout(() => c.kill('SIGKILL'), 8000).unref();
    })),
  );
}

async function stopAll(code: number): Promise<never> {
  if (stopping) return new Promise<never>(() => undefined);
  stopping = true;
  say('stopping');
  // Gateways first: their sessions end and the rooms are told while the workers still run.
  await stopChildren(children);
  await stopChildren(workers);
  await redis?.stop();
  await redisCluster?.stop();
  releaseDataDir?.();
  say('stopped');
  process.exit(code);
}
process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));

/**
 * Where the children find Redis: `{ url }` (REDIS_URL) or the launched Redis Cluster
 * (PARLEY_REDIS_CLUSTER seed nodes, _USERNAME, _PASSWORD; see packages/config load-config.ts).
 */
type RedisTarget = { url: string } | { cluster: RedisClusterChild };

function childEnv(target: RedisTarget): NodeJS.ProcessEnv {
  // The child stops when its stdin ends, i.e. when this launcher is gone (however it died).
  const env: NodeJS.ProcessEnv = { ...process.env, PARLEY_STOP_ON_STDIN_END: '1' };
  if ('url' in target) env.REDIS_URL = target.url;
  else {
    // redis.cluster wins over redis.url; an inherited (possibly empty) REDIS_URL is dropped.
    delete env.REDIS_URL;
    env.PARLEY_REDIS_CLUSTER = target.cluster.nodes.map((n) => `${n.host}:${n.port}`).join(',');
    env.PARLEY_REDIS_CLUSTER_USERNAME = target.cluster.username;
    env.PARLEY_REDIS_CLUSTER_PASSWORD = target.cluster.password;
  }
  if (opts.config) env.PARLEY_CONFIG = opts.config;
  return env;
}

/** Pretty-prints a child's log lines and resolves with the first one whose msg is `ready`. */
function watch(child: ChildProcess, name: string, ready: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      pretty.write(`${line}\n`);
      try {
        const rec = JSON.parse(line) as Record<string, unknown>;
        if (rec.msg === ready) resolve(rec);
      } catch {
        // not a log line; printed as is
      }
    });
    child.once('exit', (code, signal) => {
      reject(new Error(`${name} exited before it was ready (${signal ?? code})`));
      if (!stopping) say(`${name} (pid ${child.pid}) exited (${signal ?? `code ${code}`}); the others keep serving`);
    });
  });
}

/**
 * A service process: its own process group (`detached`), so that signals sent to the
 * launcher's group (Ctrl-C, `kill -TERM -<pgid>`) reach only the launcher, which then stops
 * the children in order; stdin is a pipe whose end stops the child (PARLEY_STOP_ON_STDIN_END).
 */
function spawnService(main: string, env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(process.execPath, [...serviceNodeArgs(), main], { env, stdio: ['pipe', 'pipe', 'inherit'], detached: true });
}

/**
 * Starts the admin API with the development token (admin scope) kept in
 * `<data-dir>/launcher.json` (made on first start), given to it as a SHA-256 hash like any
 * configured token; resolves with its URL and the token in clear.
 */
async function startAdmin(target: RedisTarget): Promise<{ url: string; token: string }> {
  const token = readLauncherState(opts.dataDir).adminToken ?? updateLauncherState(opts.dataDir, { adminToken: newSecret() }).adminToken!;
  const env = childEnv(target);
  env.PARLEY_ADMIN_PORT = String(opts.adminPort);
  // A development cluster: the API's docs page is readable without a token.
  env.PARLEY_ADMIN_PUBLIC_ENDPOINTS ??= 'docs';
  const sha256 = createHash('sha256').update(token).digest('hex');
  env.PARLEY_ADMIN_TOKENS = [env.PARLEY_ADMIN_TOKENS, `dev:admin:${sha256}`].filter(Boolean).join(',');
  const child = spawnService(adminMain, env);
  workers.push(child);
  const rec = await watch(child, 'admin API', 'admin api ready');
  return { url: String(rec.url), token };
}

async function startWorker(index: number, target: RedisTarget): Promise<{ workerId: string; healthPort: number }> {
  const env = childEnv(target);
  // Health listener (/healthz, /readyz) on a free port, printed below.
  env.PARLEY_ROOM_WORKER_HEALTH_PORT ??= '0';
  const child = spawnService(workerMain, env);
  workers.push(child);
  const rec = await watch(child, `room worker ${index}`, 'room worker ready');
  return { workerId: String(rec.workerId), healthPort: typeof rec.healthPort === 'number' ? rec.healthPort : -1 };
}

/** The configuration the children will see (file and environment). */
function launcherConfig(): ReturnType<typeof loadConfig> {
  try {
    return loadConfig(opts.config ? { file: opts.config } : {});
  } catch (err) {
    if (err instanceof ConfigError) throw new Error(err.message);
    throw err;
  }
}

/**
 * TLS by default (issue #14 item 1): unless `--no-tls` or a certificate is configured
 * (`tls.certFile`, `tls.certificates`, or their PARLEY_* variables), a self-signed
 * certificate per configured host, made on first start in the certificate directory and
 * reused afterwards, given to every gateway as `PARLEY_TLS_CERTIFICATES` (chosen by SNI).
 * TLS is offered (STARTTLS, direct TLS), not required: plain-TCP test clients still work.
 * @returns the gateways' extra environment, empty when the launcher adds no certificate
 */
interface LauncherTls {
  /** Extra gateway environment (the generated certificates). */
  env: Record<string, string>;
  /** Whether gateways get a direct TLS port. */
  directTls: boolean;
  /** Whether STARTTLS is offered (a certificate is configured or made). */
  offered: boolean;
  /** Whether the WebSocket listener is wss:// (`tls.wss`). */
  wss: boolean;
}

async function tlsEnv(): Promise<LauncherTls> {
  const config = launcherConfig();
  const configured = (config.tls.certFile !== undefined && config.tls.keyFile !== undefined) || config.tls.certificates.length > 0;
  if (configured) {
    say(`TLS: the configured certificate${config.tls.certificates.length > 1 ? 's' : ''}`);
    return { env: {}, directTls: opts.tls, offered: true, wss: config.tls.wss };
  }
  if (!opts.tls) return { env: {}, directTls: false, offered: false, wss: false };
  const dir = opts.certDir ?? join(opts.dataDir, 'certs');
  const made = await ensureSelfSignedCertificates(dir, config.hosts);
  for (const c of made) {
    say(`TLS: ${c.created ? 'made a new' : 'reusing the'} self-signed certificate for ${c.host} (${c.certFile}, valid to ${c.validTo}; SHA-256 ${c.fingerprint256}); clients must accept or pin it`);
  }
  return { env: { PARLEY_TLS_CERTIFICATES: made.map((c) => `${c.host}:${c.certFile}:${c.keyFile}`).join(',') }, directTls: true, offered: true, wss: config.tls.wss };
}

/** Resolves once every shard of the MUC service has a lease holder (rooms can be served). */
async function shardsOwned(target: RedisTarget, timeoutMs: number): Promise<number> {
  const config = launcherConfig();
  const keys = keySpace(config.redis.keyPrefix);
  const client =
    'url' in target
      ? new Redis(target.url, { maxRetriesPerRequest: 3 })
      : new Cluster(target.cluster.nodes, { redisOptions: { username: target.cluster.username, password: target.cluster.password, maxRetriesPerRequest: 3 } });
  client.on('error', () => undefined); // a refused connection is retried; the deadline below ends the wait
  try {
    const deadline = Date.now() + timeoutMs;
    const leases = Array.from({ length: config.muc.shards }, (_, s) => keys.shardLease(s));
    for (;;) {
      // One EXISTS per key: on a Redis Cluster the leases are in different slots (no multi-key EXISTS).
      const held = (await Promise.all(leases.map((k) => client.exists(k)))).reduce((a, b) => a + b, 0);
      if (held === leases.length) return held;
      if (Date.now() > deadline) throw new Error(`only ${held} of ${leases.length} room shards have an owner after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    client.disconnect();
  }
}

async function startGateway(index: number, target: RedisTarget, tls: LauncherTls): Promise<{ c2sPort: number; wsPort: number; directTlsPort: number; healthPort: number; gatewayId: string }> {
  const env = { ...childEnv(target), ...tls.env };
  // Health listener (/healthz, /readyz) on a free port, printed with the gateway's ports.
  env.PARLEY_GATEWAY_HEALTH_PORT ??= '0';
  env.PARLEY_C2S_PORT = String(opts.c2sPort + index);
  env.PARLEY_WS_PORT = String(opts.wsPort + index);
  if (tls.directTls) {
    const base = opts.directTlsPort ?? opts.c2sPort + 100;
    env.PARLEY_DIRECT_TLS_PORT = String(base === 0 ? 0 : base + index);
  }
  // The local cluster is also the benchmark target: the load generator connects thousands of
  // clients from 127.0.0.1 (S1: 5,000 per gateway; logins: up to 500 in flight per worker),
  // far above the production per-address caps (issue #10; docs/operations.md "Input limits").
  env.PARLEY_MAX_CONNECTIONS_PER_ADDRESS ??= '100000';
  env.PARLEY_MAX_UNAUTHENTICATED_PER_ADDRESS ??= '10000';
  if (opts.openAuth) {
    env.PARLEY_AUTH_BACKEND = 'open-insecure-test-only';
    env.PARLEY_ALLOW_PLAIN_WITHOUT_TLS = 'true';
  }
  const child = spawnService(gatewayMain, env);
  children.push(child);
  const rec = await watch(child, `gateway ${index}`, 'gateway ready');
  return {
    c2sPort: Number(rec.c2sPort),
    wsPort: Number(rec.wsPort),
    directTlsPort: typeof rec.directTlsPort === 'number' ? rec.directTlsPort : -1,
    healthPort: typeof rec.healthPort === 'number' ? rec.healthPort : -1,
    gatewayId: String(rec.gatewayId),
  };
}

/**
 * `--redis-cluster`: the launcher's own Redis Cluster in `<data-dir>/redis-cluster`, on the
 * base port of the previous start (its nodes keep their addresses in nodes.conf), else
 * `--redis-cluster-port`, else 7000; the password of the previous start (launcher.json).
 */
async function launchRedisCluster(): Promise<RedisClusterChild> {
  if (opts.redisUrl || process.env.REDIS_URL) throw new Error('--redis-cluster starts its own Redis Cluster: leave out --redis-url and REDIS_URL');
  releaseDataDir = claimDataDir(opts.dataDir);
  const previous = readLauncherState(opts.dataDir);
  const dir = join(opts.dataDir, 'redis-cluster');
  if (previous.redisClusterPort !== undefined && opts.redisClusterPort !== undefined && opts.redisClusterPort !== previous.redisClusterPort && existsSync(join(dir, 'node-0', 'nodes.conf'))) {
    throw new Error(`the Redis Cluster in ${dir} runs on ports from ${previous.redisClusterPort} (kept in its nodes.conf files): leave out --redis-cluster-port, or remove ${dir} to make a new cluster`);
  }
  const basePort = previous.redisClusterPort ?? opts.redisClusterPort ?? DEFAULT_CLUSTER_BASE_PORT;
  const password = previous.redisPassword ?? newSecret();
  updateLauncherState(opts.dataDir, { redisPassword: password });
  const cluster = await startRedisCluster(dir, { basePort, password, maxmemory: opts.redisMaxmemory });
  updateLauncherState(opts.dataDir, { redisClusterPort: basePort });
  const seeds = cluster.nodes.map((n) => `${n.host}:${n.port}`).join(',');
  say(
    `Redis Cluster (3 masters + 3 replicas) on 127.0.0.1:${basePort}-${basePort + CLUSTER_NODES - 1}, cluster bus ${basePort + CLUSTER_NODES}-${basePort + CLUSTER_PORT_SPAN - 1}: ` +
      `${cluster.created ? 'created now (redis-cli --cluster create)' : 'the cluster of the previous start (nodes.conf)'}; ACL user ${cluster.username} ` +
      `(${previous.redisPassword ? 'the password of the previous start' : 'a new password'}, kept in ${join(opts.dataDir, 'launcher.json')}); maxmemory ${opts.redisMaxmemory} per node, noeviction; data in ${dir}, mode 0700`,
  );
  // What xmppctl (and any other process) needs to reach it.
  say(`  e.g. PARLEY_REDIS_CLUSTER=${seeds} PARLEY_REDIS_CLUSTER_USERNAME=${cluster.username} PARLEY_REDIS_CLUSTER_PASSWORD=${cluster.password} npm run xmppctl -- status`);
  return cluster;
}

try {
  let redisUrl = opts.redisUrl ?? process.env.REDIS_URL;
  if (opts.redisCluster) {
    redisCluster = await launchRedisCluster();
  } else if (opts.redisClusterPort !== undefined) {
    throw new Error('--redis-cluster-port needs --redis-cluster');
  } else if (!redisUrl) {
    releaseDataDir = claimDataDir(opts.dataDir);
    // Same port and password as the previous start with this data directory (if the port is free).
    const previous = readLauncherState(opts.dataDir);
    redis = await startRedis(opts.dataDir, { maxmemory: opts.redisMaxmemory, ...(previous.redisPort ? { port: previous.redisPort } : {}), password: previous.redisPassword ?? newSecret() });
    updateLauncherState(opts.dataDir, { redisPort: redis.port, redisPassword: new URL(redis.url).password });
    redisUrl = redis.url;
    if (previous.redisPort !== undefined && previous.redisPort !== redis.port) say(`redis port ${previous.redisPort} of the previous start is in use; now on ${redis.port}`);
    // The URL carries the ACL password: it is what xmppctl needs as REDIS_URL.
    say(`redis-server on ${redisUrl} (ACL user; ${previous.redisPassword ? 'the password of the previous start' : 'a new password'}, kept in ${join(opts.dataDir, 'launcher.json')}; maxmemory ${opts.redisMaxmemory}, noeviction; data in ${opts.dataDir}, mode 0700)`);
  }
  const target: RedisTarget = redisCluster ? { cluster: redisCluster } : { url: redisUrl! };
  const tls = await tlsEnv();
  const [ready, workerIds] = await Promise.all([
    Promise.all(Array.from({ length: opts.gateways }, (_, i) => startGateway(i, target, tls))),
    Promise.all(Array.from({ length: opts.workers }, (_, i) => startWorker(i, target))),
  ]);
  for (const g of ready) {
    const direct = g.directTlsPort > 0 ? `, direct TLS (XEP-0368) 127.0.0.1:${g.directTlsPort}` : '';
    const health = g.healthPort > 0 ? `, health http://127.0.0.1:${g.healthPort}/readyz` : '';
    say(`gateway ${g.gatewayId}: c2s 127.0.0.1:${g.c2sPort}${tls.offered ? ' (STARTTLS offered)' : ''}${direct}, WebSocket ${tls.wss ? 'wss' : 'ws'}://127.0.0.1:${g.wsPort}/xmpp-websocket${health}`);
  }
  for (const w of workerIds) say(`room worker ${w.workerId}${w.healthPort > 0 ? `: health http://127.0.0.1:${w.healthPort}/readyz` : ''}`);
  if (opts.admin) {
    const admin = await startAdmin(target);
    say(`admin API ${admin.url} (docs ${admin.url}/docs) dev token: ${admin.token}`);
    say(`  e.g. curl -H 'Authorization: Bearer ${admin.token}' ${admin.url}/v1/cluster`);
  }
  const shards = opts.workers > 0 ? await shardsOwned(target, 30_000) : 0;
  if (opts.workers === 0) say('WARNING: no room workers (--workers 0): multi-user chat rooms get no answer until one starts');
  if (opts.openAuth) say('WARNING: open authentication is on: any user logs in with any password. Test use only.');
  say(
    `READY ${redisCluster ? `redis-cluster=${redisCluster.nodes.map((n) => `${n.host}:${n.port}`).join(',')}` : `redis=${redisUrl}`} gateways=${ready.length} workers=${workerIds.length} shards=${shards} ` +
      `c2s=${ready.map((g) => g.c2sPort).join(',')} ws=${ready.map((g) => g.wsPort).join(',')}` +
      (ready.some((g) => g.directTlsPort > 0) ? ` directtls=${ready.map((g) => g.directTlsPort).join(',')}` : ''),
  );
} catch (err) {
  say(`failed to start: ${(err as Error).message}`);
  await stopAll(1);
}
