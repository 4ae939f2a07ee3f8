/*
 * Command-line clients nobody here wrote (issue #14 "Done when"): Debian's go-sendxmpp and
 * sendxmpp (Perl, Net::XMPP), installed by `scripts/bootstrap.mjs --with-sendxmpp` (which
 * `npm test` runs), log in to a gateway with a self-signed certificate, as in the issue's
 * report where neither could: go-sendxmpp refused to authenticate over unencrypted TCP and
 * sendxmpp found no SASL mechanism, because no STARTTLS was offered without a configured
 * certificate. Here each sends a message over STARTTLS (go-sendxmpp also over XEP-0368 direct
 * TLS) to a user with no session, and the message is in that user's offline storage, from the
 * sender's full JID (the routing after login is the other tests'); a wrong password makes
 * each exit non-zero and stores nothing. Certificate checks are
 * off in the clients (`-n`, `--no-tls-verify`): the certificate is self-signed.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { keySpace } from '@parley/bus';
import { startGateway, startRedis, xmppctl, type GatewayProcess, type RedisServer } from '@parley/testkit';
import { writeSelfSignedCert } from './support/tls.js';
import { runClient } from './support/cli-clients.js';

const prefix = `t${process.pid}sendxmpp:`;

let redis: RedisServer;
let gw: GatewayProcess;
let dir: string;
let directTlsPort = 0;
let db: Redis;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'parley-sendxmpp-'));
  writeSelfSignedCert('localhost', join(dir, 'localhost.crt'), join(dir, 'localhost.key'));
  redis = await startRedis();
  gw = await startGateway({
    redisUrl: redis.url,
    keyPrefix: prefix,
    env: { PARLEY_TLS_CERT: join(dir, 'localhost.crt'), PARLEY_TLS_KEY: join(dir, 'localhost.key'), PARLEY_DIRECT_TLS_PORT: '0' },
  });
  const ready = JSON.parse(gw.logs.find((l) => l.includes('"gateway ready"'))!) as Record<string, unknown>;
  directTlsPort = Number(ready.directTlsPort);
  for (const [jid, pw] of [['gosend@localhost', 'gosend-pw'], ['perlsend@localhost', 'perlsend-pw'], ['inbox@localhost', 'inbox-pw']] as const) {
    const r = await xmppctl(['user', 'add', jid], { redisUrl: redis.url, keyPrefix: prefix, stdin: `${pw}\n` });
    assert.equal(r.code, 0, r.stderr);
  }
  db = redis.client();
});

after(async () => {
  db?.disconnect();
  await gw?.stop();
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs a client with `input` on stdin and HOME in the test's directory; its exit status and output. */
function run(bin: string, args: string[], input: string): Promise<{ status: number | null; out: string }> {
  return runClient(bin, args, input, dir);
}

/** The messages stored offline for inbox@localhost whose body is `text` (serialised), after waiting up to 5 s for one. */
async function stored(text: string): Promise<string[]> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const hits = (await db.lrange(keySpace(prefix).offline('inbox@localhost'), 0, -1)).filter((x) => x.includes(`<body>${text}`));
    if (hits.length > 0 || Date.now() > deadline) return hits;
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('go-sendxmpp over STARTTLS and over direct TLS: logs in, its message is stored for the offline recipient; a wrong password fails', async () => {
  for (const [how, port, extra] of [
    ['STARTTLS', gw.c2sPort, []],
    ['direct TLS', directTlsPort, ['-t']],
  ] as const) {
    const text = `go-sendxmpp over ${how}`;
    const r = await run('go-sendxmpp', ['-u', 'gosend@localhost', '-p', 'gosend-pw', '-j', `127.0.0.1:${port}`, '-n', ...extra, 'inbox@localhost'], `${text}\n`);
    assert.equal(r.status, 0, r.out);
    const hits = await stored(text);
    assert.equal(hits.length, 1, `the message sent over ${how}: ${r.out}`);
    assert.match(hits[0]!, /from="gosend@localhost\/[^"]+"/);
  }
  const bad = await run('go-sendxmpp', ['-u', 'gosend@localhost', '-p', 'wrong', '-j', `127.0.0.1:${gw.c2sPort}`, '-n', 'inbox@localhost'], 'go never\n');
  assert.notEqual(bad.status, 0, bad.out);
  assert.deepEqual(await stored('go never'), []);
});

test('sendxmpp (Net::XMPP) over STARTTLS: logs in, its message is stored for the offline recipient; a wrong password fails', async () => {
  const text = 'sendxmpp over STARTTLS';
  const args = (pw: string) => ['-u', 'perlsend', '-p', pw, '-j', `localhost:${gw.c2sPort}`, '-t', '--no-tls-verify', 'inbox@localhost'];
  const r = await run('sendxmpp', args('perlsend-pw'), `${text}\n`);
  assert.equal(r.status, 0, r.out);
  const hits = await stored(text);
  assert.equal(hits.length, 1, r.out);
  assert.match(hits[0]!, /from="perlsend@localhost\/[^"]+"/);
  const bad = await run('sendxmpp', args('wrong'), 'perl never\n');
  assert.notEqual(bad.status, 0, bad.out);
  assert.deepEqual(await stored('perl never'), []);
});
