/*
 * Account management with xmppctl (user add / list / passwd / delete) as seen by clients:
 * SCRAM-SHA-1 through @xmpp/client and SCRAM-SHA-256 through the raw client.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { loginScram, RawClient, type GatewayProcess } from '@parley/testkit';
import { startCluster, printGatewayLogsOnFailure, type TestCluster } from './support/cluster.js';
import { DOMAIN } from './support/names.js';
import { connectClient } from './support/test-client.js';

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
    const r = await cluster.ctl(['user', 'add', jid, '--password', pw]);
    assert.equal(r.code, 0, `user add ${jid}: ${r.stderr}`);
  }
  assert.deepEqual((await listed()).sort(), ['alice@localhost', 'bob@localhost']);
  await assertLoginWorks('alice', 'first-pw');
  await assertLoginRefused('alice', 'not-the-password');
});

test('user passwd: the new password works and the old one does not', async () => {
  assert.ok(cluster);
  const r = await cluster.ctl(['user', 'passwd', 'alice@localhost', '--password', 'second-pw']);
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
