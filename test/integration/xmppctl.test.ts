/*
 * Account management with xmppctl (user add / list / passwd / delete) as seen by clients:
 * SCRAM-SHA-1 through @xmpp/client and SCRAM-SHA-256 through the raw client.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { loginScram, RawClient, repoRoot, type GatewayProcess } from '@parley/testkit';
import { startCluster, printGatewayLogsOnFailure, type TestCluster } from './support/cluster.js';
import { DOMAIN } from './support/names.js';
import { connectClient } from './support/test-client.js';

/** This environment without PARLEY_* / REDIS_URL (a developer's shell must not change the test), plus `vars`. */
function childEnv(vars: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PARLEY_') && k !== 'REDIS_URL') env[k] = v;
  return { ...env, ...vars };
}

let cluster: TestCluster | undefined;
let gw: GatewayProcess;

printGatewayLogsOnFailure(() => cluster);

before(async () => {
  cluster = await startCluster('xmppctl');
  gw = await cluster.startGateway();
});

after(async () => {
  await cluster?.close();
});

/** Logs in with @xmpp/client (SCRAM-SHA-1) and with SCRAM-SHA-256 on a raw socket; throws if either fails. */
async function assertLoginWorks(user: string, password: string): Promise<void> {
  const c = await connectClient({ service: `xmpp://127.0.0.1:${gw.c2sPort}`, username: user, password });
  try {
    assert.equal(c.mechanism, 'SCRAM-SHA-1');
    assert.match(c.jid, new RegExp(`^${user}@${DOMAIN}/.+`));
  } finally {
    await c.stop();
  }
  const raw = await RawClient.connect(gw.c2sPort);
  try {
    const { jid } = await loginScram(raw, { domain: DOMAIN, user, password, mechanism: 'SCRAM-SHA-256' });
    assert.match(jid, new RegExp(`^${user}@${DOMAIN}/.+`));
  } finally {
    raw.destroy();
  }
}

/** Both mechanisms are refused with not-authorized. */
async function assertLoginRefused(user: string, password: string): Promise<void> {
  await assert.rejects(
    connectClient({ service: `xmpp://127.0.0.1:${gw.c2sPort}`, username: user, password }),
    (err: Error & { condition?: string }) => {
      assert.equal(err.condition, 'not-authorized', String(err));
      return true;
    },
  );
  const raw = await RawClient.connect(gw.c2sPort);
  try {
    await assert.rejects(loginScram(raw, { domain: DOMAIN, user, password, mechanism: 'SCRAM-SHA-256' }), /<not-authorized\s*\/>/);
  } finally {
    raw.destroy();
  }
}

async function listed(): Promise<string[]> {
  assert.ok(cluster);
  const r = await cluster.ctl(['user', 'list']);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.split('\n').map((l) => l.trim()).filter(Boolean);
}

test('user add creates accounts that user list shows and that can log in', async () => {
  assert.ok(cluster);
  assert.deepEqual(await listed(), [], 'a fresh prefix has no accounts');
  for (const [jid, pw] of [['alice@localhost', 'first-pw'], ['bob@localhost', 'bob-pw']] as const) {
    const r = await cluster.ctl(['user', 'add', jid], `${pw}\n`);
    assert.equal(r.code, 0, `user add ${jid}: ${r.stderr}`);
  }
  assert.deepEqual((await listed()).sort(), ['alice@localhost', 'bob@localhost']);
  await assertLoginWorks('alice', 'first-pw');
  await assertLoginRefused('alice', 'not-the-password');
});

test('user passwd: the new password works and the old one does not', async () => {
  assert.ok(cluster);
  const r = await cluster.ctl(['user', 'passwd', 'alice@localhost'], 'second-pw\n');
  assert.equal(r.code, 0, `user passwd: ${r.stderr}`);
  await assertLoginWorks('alice', 'second-pw');
  await assertLoginRefused('alice', 'first-pw');
  await assertLoginWorks('bob', 'bob-pw');
});

test('user delete removes the account: not listed, cannot log in; others unaffected', async () => {
  assert.ok(cluster);
  const r = await cluster.ctl(['user', 'delete', 'alice@localhost']);
  assert.equal(r.code, 0, `user delete: ${r.stderr}`);
  assert.deepEqual(await listed(), ['bob@localhost']);
  await assertLoginRefused('alice', 'second-pw');
  await assertLoginWorks('bob', 'bob-pw');
});

test('user add without a password fails with a non-zero exit code', async () => {
  assert.ok(cluster);
  const r = await cluster.ctl(['user', 'add', 'carol@localhost']);
  assert.notEqual(r.code, 0);
  assert.ok(!(await listed()).includes('carol@localhost'));
});

test('a password on the command line is refused (exit 2) and creates nothing; stdin takes only its first line', async () => {
  assert.ok(cluster);
  for (const args of [['user', 'add', 'dave@localhost', '--password', 'argv-pw'], ['user', 'add', 'dave@localhost', '--password=argv-pw']]) {
    const r = await cluster.ctl(args, 'stdin-pw\n');
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /--password was removed/);
  }
  assert.ok(!(await listed()).includes('dave@localhost'));
  const r = await cluster.ctl(['user', 'add', 'dave@localhost'], 'dave-pw\nsecond line ignored\n');
  assert.equal(r.code, 0, r.stderr);
  await assertLoginWorks('dave', 'dave-pw');
  const tooLong = await cluster.ctl(['user', 'add', 'erin@localhost'], `${'x'.repeat(1025)}\n`);
  assert.equal(tooLong.code, 2, tooLong.stderr);
  assert.ok(!(await listed()).includes('erin@localhost'));
});

test('on a terminal, the password is prompted for twice and never echoed', async () => {
  assert.ok(cluster);
  // util-linux `script` gives xmppctl a pseudo-terminal as stdin/stdout.
  const cli = join(repoRoot(), 'services', 'gateway', 'dist', 'xmppctl.js');
  const child = spawn('script', ['-qec', `${process.execPath} ${cli} user add tty-user@localhost`, '/dev/null'], {
    env: childEnv({ REDIS_URL: cluster.redis.url, PARLEY_REDIS_KEY_PREFIX: cluster.prefix }),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
  child.stderr.on('data', (d: Buffer) => (out += d.toString('utf8')));
  const closed = new Promise<number | null>((resolve) => child.once('close', resolve));
  const waitFor = async (re: RegExp) => {
    const deadline = Date.now() + 15_000;
    while (!re.test(out)) {
      assert.ok(Date.now() < deadline, `timed out waiting for ${re}; got ${JSON.stringify(out)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  await waitFor(/Password for tty-user@localhost: /);
  child.stdin.write('tty-secret\r');
  await waitFor(/Again: /);
  child.stdin.write('tty-secret\r');
  await waitFor(/created tty-user@localhost/);
  child.stdin.end();
  assert.equal(await closed, 0, out);
  assert.ok(!out.includes('tty-secret'), `the password was echoed: ${JSON.stringify(out)}`);
  await assertLoginWorks('tty-user', 'tty-secret');
});
