/*
 * The launcher's own Redis is locked down (issue #10 item 7): an ACL user with a password
 * generated at start and printed in the connection details (REDIS_URL for every child), the
 * `default` user unusable, `maxmemory` with `noeviction`, the data directory 0700 and its
 * files 0600 (also ones a previous run left world-readable), no password on a command line.
 * Run as `node deploy/local/dist/cli.js` with one gateway and no room workers.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, loginScram, RawClient, xmppctl } from '@parley/testkit';
import { rawRedis } from './support/raw-redis.js';
import { spawnLauncher } from './support/launcher.js';

const dataDir = join(mkdtempSync(join(tmpdir(), 'parley-launcher-redis-')), 'data');
let launcher: ChildProcess | undefined;

after(() => {
  if (launcher && launcher.exitCode === null && launcher.signalCode === null) launcher.kill('SIGKILL');
  rmSync(join(dataDir, '..'), { recursive: true, force: true });
});

/** Every path under `dir` with its permission bits. */
function modes(dir: string): Map<string, { dir: boolean; mode: number }> {
  const out = new Map<string, { dir: boolean; mode: number }>();
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      const st = lstatSync(path);
      out.set(path, { dir: st.isDirectory(), mode: st.mode & 0o777 });
      if (st.isDirectory()) walk(path);
    }
  };
  out.set(dir, { dir: true, mode: lstatSync(dir).mode & 0o777 });
  walk(dir);
  return out;
}


test('the launcher starts Redis with an ACL user, maxmemory/noeviction and private data files', async () => {
  // A data directory as an older launcher left it: world-readable directory and AOF.
  mkdirSync(join(dataDir, 'appendonlydir'), { recursive: true, mode: 0o755 });
  chmodSync(dataDir, 0o755);
  writeFileSync(join(dataDir, 'stale.aof'), '', { mode: 0o644 });
  chmodSync(join(dataDir, 'stale.aof'), 0o644);

  const c2s = await freePort();
  const started = spawnLauncher(['--gateways', '1', '--workers', '0', '--no-admin', '--c2s-port', String(c2s), '--ws-port', String(await freePort()),
    '--data-dir', dataDir, '--redis-maxmemory', '64mb', '--json']);
  launcher = started.child;
  const output = started.output;
  const ready = started.ready;
  const line = await ready;
  const url = /redis=(\S+)/.exec(line)?.[1];
  assert.ok(url, line);
  const parsed = new URL(url);
  assert.equal(parsed.username, 'parley');
  assert.ok(parsed.password.length >= 24, 'a generated password is in the printed URL');
  assert.ok(output.some((l) => l.includes('[cluster] redis-server on') && l.includes(url)), 'the connection details print the URL');

  // The default user is off: nothing works without the password, nor with a wrong one.
  const [ping, authDefault, authWrong, keys] = await rawRedis(Number(parsed.port), ['PING', 'AUTH default ""', 'AUTH parley wrong-password', 'KEYS *']);
  assert.match(ping!, /^-NOAUTH/);
  assert.match(authDefault!, /^-WRONGPASS/);
  assert.match(authWrong!, /^-WRONGPASS/);
  assert.match(keys!, /^-NOAUTH/);

  const db = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    assert.deepEqual(await db.config('GET', 'maxmemory'), ['maxmemory', String(64 * 1024 * 1024)]);
    assert.deepEqual(await db.config('GET', 'maxmemory-policy'), ['maxmemory-policy', 'noeviction']);
    assert.deepEqual(await db.config('GET', 'appendonly'), ['appendonly', 'yes']);
    // The password is on no command line (ps and /proc/<pid>/cmdline are world-readable).
    const pid = /process_id:(\d+)/.exec(await db.info('server'))?.[1];
    assert.ok(pid);
    assert.ok(!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(parsed.password), 'redis-server cmdline');
    assert.ok(!readFileSync(`/proc/${launcher.pid}/cmdline`, 'utf8').includes(parsed.password), 'launcher cmdline');
    assert.ok(!readFileSync(join(dataDir, 'redis.conf'), 'utf8').includes(parsed.password), 'redis.conf holds only the hash');

    // The children (gateway, xmppctl) work through the ACL user: an account created with
    // xmppctl and the printed URL logs in on the gateway, and lands in the AOF.
    const r = await xmppctl(['user', 'add', 'acl-user@localhost'], { redisUrl: url, keyPrefix: 'parley:', stdin: 'acl-pw\n' });
    assert.equal(r.code, 0, r.stderr);
    const raw = await RawClient.connect(c2s);
    try {
      const { jid } = await loginScram(raw, { domain: 'localhost', user: 'acl-user', password: 'acl-pw', mechanism: 'SCRAM-SHA-256', resource: 'r' });
      assert.equal(jid, 'acl-user@localhost/r');
    } finally {
      raw.destroy();
    }
    await db.bgrewriteaof();
    await new Promise((res) => setTimeout(res, 500));
  } finally {
    db.disconnect();
  }

  const all = modes(dataDir);
  assert.ok([...all.keys()].some((p) => p.includes('appendonlydir') && p.endsWith('.aof')), `AOF files exist: ${[...all.keys()].join(', ')}`);
  for (const [path, { dir, mode }] of all) {
    assert.equal(mode, dir ? 0o700 : 0o600, `${path} has mode ${mode.toString(8)}`);
  }

  const exited = new Promise<number | null>((resolve) => launcher!.once('exit', (code) => resolve(code)));
  launcher.kill('SIGTERM');
  assert.equal(await exited, 0, output.slice(-20).join('\n'));
});
