/*
 * Issue #14 "Done when", the way an operator goes after `git clone` and `npm run setup`:
 * `npm run cluster -- --redis-cluster` (here `node deploy/local/dist/cli.js --redis-cluster`,
 * what the script runs) on a fresh data directory, with the default TLS (self-signed
 * certificates made on first start). The launcher starts a 6-node Redis Cluster (3 masters +
 * 3 replicas), each node locked down as its single Redis is, joins it with `redis-cli
 * --cluster create`, and runs 2 gateways, a room worker and the admin API on it
 * (`redis.cluster`). Real clients log in: go-sendxmpp and sendxmpp over STARTTLS, slixmpp over
 * STARTTLS, and a browser-style WebSocket client with PLAIN over ws:// behind the
 * `tls.behindTlsProxy` setting (as behind a TLS-terminating proxy), which receives
 * go-sendxmpp's message across gateways; sendxmpp's message to a user with no session is
 * stored offline in the cluster. Stopped with SIGTERM (services, then every node), the
 * launcher started again on the same data directory reuses the same cluster (same node IDs,
 * from nodes.conf; the stored message and the accounts are still there: AOF persistence).
 * The clients are installed by `npm test`'s bootstrap flags; a missing one fails the test.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { lstatSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster, Redis } from 'ioredis';
import { keySpace } from '@parley/bus';
import { freePort, freePorts, xmppctl } from '@parley/testkit';
import { spawnLauncher } from './support/launcher.js';
import { rawRedis } from './support/raw-redis.js';
import { wsOpen } from './support/tls.js';
import { assertInteropClientsInstalled, runClient, slixmppTlsLogin } from './support/cli-clients.js';

const root = mkdtempSync(join(tmpdir(), 'parley-launcher-rcluster-'));
const dataDir = join(root, 'data');
const configFile = join(root, 'parley.yaml');
const NODES = 6;
const USERS = [['gosend', 'gosend-pw'], ['perlsend', 'perlsend-pw'], ['slix', 'slix-pw'], ['web', 'web-pw'], ['inbox', 'inbox-pw']] as const;

let launcher: ChildProcess | undefined;
let basePort = 0;
/** The nodes' IDs (CLUSTER MYID) after the first start. */
let firstIds: string[] = [];

before(() => {
  assertInteropClientsInstalled();
  // A TLS-terminating proxy in front of the WebSocket port (tls.behindTlsProxy): PLAIN over ws:// counts as encrypted.
  writeFileSync(configFile, 'tls:\n  behindTlsProxy: true\n');
});

after(() => {
  if (launcher && launcher.exitCode === null && launcher.signalCode === null) launcher.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

interface Run {
  line: string;
  output: string[];
  c2s: number;
  ws: number;
}

async function launch(extra: string[]): Promise<Run> {
  const c2s = await freePorts(2);
  const ws = await freePorts(2);
  const started = spawnLauncher(['--redis-cluster', '--gateways', '2', '--workers', '1', '--c2s-port', String(c2s), '--ws-port', String(ws),
    '--direct-tls-port', String(await freePorts(2)), '--admin-port', String(await freePort()), '--config', configFile, '--data-dir', dataDir, '--json', ...extra]);
  launcher = started.child;
  return { line: await started.ready, output: started.output, c2s, ws };
}

/** SIGTERM to the launcher; resolves with its exit code. */
async function stop(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  return exited;
}

/** Whether something accepts TCP connections on 127.0.0.1:`port`. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = netConnect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

const password = () => (JSON.parse(readFileSync(join(dataDir, 'launcher.json'), 'utf8')) as { redisPassword: string }).redisPassword;
const nodePorts = () => Array.from({ length: NODES }, (_, i) => basePort + i);
const nodeClient = (port: number) => new Redis({ host: '127.0.0.1', port, username: 'parley', password: password(), maxRetriesPerRequest: 1 });
const clusterClient = () => new Cluster([{ host: '127.0.0.1', port: basePort }], { redisOptions: { username: 'parley', password: password(), maxRetriesPerRequest: 1 } });
const clusterEnv = () => ({
  PARLEY_REDIS_CLUSTER: nodePorts().map((p) => `127.0.0.1:${p}`).join(','),
  PARLEY_REDIS_CLUSTER_USERNAME: 'parley',
  PARLEY_REDIS_CLUSTER_PASSWORD: password(),
});

/** The messages stored offline for inbox@localhost whose body is `text`, after waiting up to 5 s for one. */
async function storedOffline(db: Cluster, text: string): Promise<string[]> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const hits = (await db.lrange(keySpace('parley:').offline('inbox@localhost'), 0, -1)).filter((x) => x.includes(`<body>${text}`));
    if (hits.length > 0 || Date.now() > deadline) return hits;
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function myIds(): Promise<string[]> {
  return Promise.all(nodePorts().map(async (p) => {
    const c = nodeClient(p);
    try {
      return String(await c.call('CLUSTER', 'MYID'));
    } finally {
      c.disconnect();
    }
  }));
}

test('fresh data dir: --redis-cluster makes a locked-down 3+3 Redis Cluster; real clients log in over TLS and a message goes through', async () => {
  basePort = await freePorts(2 * NODES);
  const run = await launch(['--redis-cluster-port', String(basePort)]);
  const seeds = nodePorts().map((p) => `127.0.0.1:${p}`).join(',');
  assert.match(run.line, new RegExp(`READY redis-cluster=${seeds} gateways=2 workers=1 shards=64 `), run.line);
  assert.ok(run.output.some((l) => l.includes('Redis Cluster (3 masters + 3 replicas)') && l.includes('created now')), run.output.join('\n'));
  assert.ok(run.output.some((l) => l.includes('made a new self-signed certificate for localhost')), 'default TLS: a certificate made');

  // Every node locked down as the single Redis: no command without AUTH, noeviction, private files.
  const [ping] = await rawRedis(basePort, ['PING']);
  assert.match(ping!, /^-NOAUTH/);
  const roles: string[] = [];
  for (const port of nodePorts()) {
    const c = nodeClient(port);
    try {
      assert.deepEqual(await c.config('GET', 'maxmemory-policy'), ['maxmemory-policy', 'noeviction']);
      assert.deepEqual(await c.config('GET', 'appendonly'), ['appendonly', 'yes']);
      assert.match(String(await c.call('CLUSTER', 'INFO')), /cluster_state:ok[\s\S]*cluster_known_nodes:6/);
      roles.push(String(((await c.call('ROLE')) as unknown[])[0]));
      const pid = /process_id:(\d+)/.exec(await c.info('server'))?.[1];
      assert.ok(!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(password()), 'no password on a redis-server command line');
    } finally {
      c.disconnect();
    }
  }
  assert.deepEqual(roles.sort(), ['master', 'master', 'master', 'slave', 'slave', 'slave']);
  assert.equal(lstatSync(join(dataDir, 'redis-cluster')).mode & 0o777, 0o700);
  for (let i = 0; i < NODES; i++) {
    assert.equal(lstatSync(join(dataDir, 'redis-cluster', `node-${i}`)).mode & 0o777, 0o700);
    assert.equal(lstatSync(join(dataDir, 'redis-cluster', `node-${i}`, 'nodes.conf')).mode & 0o777, 0o600);
    assert.equal(lstatSync(join(dataDir, 'redis-cluster', `node-${i}`, 'redis.conf')).mode & 0o777, 0o600);
  }

  // Accounts made with xmppctl through the printed PARLEY_REDIS_CLUSTER* settings.
  assert.ok(run.output.some((l) => l.includes(`PARLEY_REDIS_CLUSTER=${seeds} `)), 'the xmppctl settings are printed');
  for (const r of await Promise.all(USERS.map(([u, pw]) => xmppctl(['user', 'add', `${u}@localhost`], { redisUrl: '', keyPrefix: 'parley:', env: clusterEnv(), stdin: `${pw}\n` })))) {
    assert.equal(r.code, 0, r.stderr);
  }

  // A browser-style client on gateway 2: PLAIN over ws:// behind the proxy setting, available.
  const web = await wsOpen(`ws://127.0.0.1:${run.ws + 1}/xmpp-websocket`, 'localhost');
  try {
    assert.match(web.features, /<mechanism>PLAIN<\/mechanism>/, 'ws:// behind tls.behindTlsProxy counts as encrypted');
    web.ws.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from('\0web\0web-pw').toString('base64')}</auth>`);
    await web.next(/<success/);
    web.ws.send(web.open);
    await web.next(/<stream:features/);
    web.ws.send("<iq type='set' id='b' xmlns='jabber:client'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>browser</resource></bind></iq>");
    assert.match(await web.next(/<iq/), /<jid>web@localhost\/browser<\/jid>/);
    web.ws.send("<presence xmlns='jabber:client'/>");
    await web.next(/<presence/);

    // go-sendxmpp over STARTTLS on gateway 1 to the browser-style client on gateway 2.
    const go = await runClient('go-sendxmpp', ['-u', 'gosend@localhost', '-p', 'gosend-pw', '-j', `127.0.0.1:${run.c2s}`, '-n', 'web@localhost'], 'across the Redis Cluster\n', root);
    assert.equal(go.status, 0, go.out);
    const got = await web.next(/<message[\s\S]*across the Redis Cluster/);
    assert.match(got, /from=["']gosend@localhost\/[^"']+["']/);
  } finally {
    web.ws.close();
  }

  // sendxmpp (Net::XMPP) over STARTTLS to a user with no session: stored offline in the cluster.
  const perl = await runClient('sendxmpp', ['-u', 'perlsend', '-p', 'perlsend-pw', '-j', `localhost:${run.c2s + 1}`, '-t', '--no-tls-verify', 'inbox@localhost'], 'kept in the Redis Cluster\n', root);
  assert.equal(perl.status, 0, perl.out);
  const db = clusterClient();
  try {
    const hits = await storedOffline(db, 'kept in the Redis Cluster');
    assert.equal(hits.length, 1, perl.out);
    assert.match(hits[0]!, /from="perlsend@localhost\/[^"]+"/);
  } finally {
    db.disconnect();
  }

  // slixmpp over STARTTLS (SCRAM, no -PLUS offered by default).
  const slix = await slixmppTlsLogin({ jid: 'slix@localhost/one', password: 'slix-pw', port: run.c2s });
  assert.equal(slix.ok, true, JSON.stringify(slix));
  assert.match(String(slix.mechanism), /^SCRAM-SHA-(1|256)$/);

  firstIds = await myIds();
  assert.equal(new Set(firstIds).size, NODES);
  assert.equal(await stop(launcher!), 0, run.output.slice(-20).join('\n'));
  assert.ok(run.output.some((l) => l.includes('[cluster] stopped')));
  // Every node stopped with the launcher.
  for (const p of nodePorts()) assert.equal(await listening(p), false, `node on ${p} still listening`);
});

test('second start on the same data dir reuses the cluster (nodes.conf), its data and its password', async () => {
  assert.ok(basePort > 0, 'the first test ran');
  // No --redis-cluster-port: the base port of the previous start (launcher.json).
  const run = await launch([]);
  assert.match(run.line, new RegExp(`READY redis-cluster=${nodePorts().map((p) => `127.0.0.1:${p}`).join(',')} `), run.line);
  assert.ok(run.output.some((l) => l.includes('the cluster of the previous start') && l.includes('the password of the previous start')), run.output.join('\n'));
  assert.ok(!run.output.some((l) => l.includes('created now')), 'no second redis-cli --cluster create');
  assert.deepEqual(await myIds(), firstIds, 'the same nodes');
  const db = clusterClient();
  try {
    assert.equal((await storedOffline(db, 'kept in the Redis Cluster')).length, 1, 'the offline message survived the restart');
  } finally {
    db.disconnect();
  }
  const slix = await slixmppTlsLogin({ jid: 'slix@localhost/two', password: 'slix-pw', port: run.c2s + 1 });
  assert.equal(slix.ok, true, `the account survived the restart: ${JSON.stringify(slix)}`);
  // xmppctl status and backup on the cluster (SCAN over every master; backup/restore format).
  const status = await xmppctl(['status'], { redisUrl: '', keyPrefix: 'parley:', env: clusterEnv() });
  assert.match(status.stdout, /^status\thealthy$/m, status.stdout + status.stderr);
  const backup = await xmppctl(['backup'], { redisUrl: '', keyPrefix: 'parley:', env: clusterEnv() });
  assert.equal(backup.code, 0, backup.stderr);
  const records = backup.stdout.trim().split('\n').map((l) => JSON.parse(l) as { kind: string; jid?: string });
  for (const [u] of USERS) assert.ok(records.some((r) => r.kind === 'account' && r.jid === `${u}@localhost`), `${u} in the backup`);
  assert.equal(await stop(launcher!), 0, run.output.slice(-20).join('\n'));
  for (const p of nodePorts()) assert.equal(await listening(p), false, `node on ${p} still listening`);
});
