/*
 * The conformance cluster command (README): `pnpm cluster --gateways 2 --workers 2
 * --c2s-port P --open-auth` starts its own redis-server, two gateways on consecutive c2s
 * ports, two room workers and the admin API (URL and dev token printed), prints a READY line
 * once all of them serve, serves a room, and stops everything on SIGTERM. Run here as `node deploy/local/dist/cli.js` (what the
 * package script runs after building), with a temporary data directory.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts } from '@parley/testkit';
import { ScansionClient } from '../scansion/lib/client.js';
import { spawnLauncher } from './support/launcher.js';

const dataDir = mkdtempSync(join(tmpdir(), 'parley-cluster-'));
let launcher: ChildProcess | undefined;

after(() => {
  if (launcher && launcher.exitCode === null && launcher.signalCode === null) launcher.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

test('the cluster command prints READY, serves rooms across gateways, and stops on SIGTERM', async () => {
  const c2s = await freePorts(2);
  const ws = await freePorts(2);
  const started = spawnLauncher(['--gateways', '2', '--workers', '2', '--c2s-port', String(c2s), '--ws-port', String(ws), '--admin-port', '0', '--open-auth', '--data-dir', dataDir, '--json']);
  launcher = started.child;
  const output = started.output;
  const ready = started.ready;
  const line = await ready;
  assert.match(line, /gateways=2/);
  assert.match(line, /workers=2/);
  assert.match(line, new RegExp(`c2s=${c2s},${c2s + 1}`));

  // The admin API's URL and a development token are printed before READY, and they work.
  const adminLine = output.find((l) => l.includes('[cluster] admin API'));
  assert.ok(adminLine && output.indexOf(adminLine) < output.indexOf(line), output.join('\n'));
  const [, url, token] = /admin API (http:\/\/127\.0\.0\.1:\d+) .*dev token: (\S+)/.exec(adminLine) ?? [];
  assert.ok(url && token, adminLine);
  const cluster = await fetch(`${url}/v1/cluster`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(cluster.status, 200);
  const state = (await cluster.json()) as { gateways: unknown[]; workers: unknown[] };
  assert.equal(state.gateways.length, 2);
  assert.equal(state.workers.length, 2);
  assert.equal((await fetch(`${url}/v1/cluster`)).status, 401, 'no token, no access');

  // One client on each gateway meet in a room.
  const a = await ScansionClient.connect({ host: '127.0.0.1', port: c2s, jid: 'romeo@localhost', password: 'x' });
  const b = await ScansionClient.connect({ host: '127.0.0.1', port: c2s + 1, jid: 'juliet@localhost', password: 'x' });
  const room = 'launcher@conference.localhost';
  const until = (c: ScansionClient, pred: (el: import('ltx').Element) => boolean) => c.nextMatching(pred, 10_000);
  a.send(`<presence to='${room}/Romeo'><x xmlns='http://jabber.org/protocol/muc'/></presence>`);
  await until(a, (el) => el.name === 'message' && el.getChild('subject') !== undefined);
  a.send(`<iq type='set' to='${room}' id='c'><query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='submit'/></query></iq>`);
  await until(a, (el) => el.name === 'iq' && el.attrs.id === 'c');
  b.send(`<presence to='${room}/Juliet'><x xmlns='http://jabber.org/protocol/muc'/></presence>`);
  await until(b, (el) => el.name === 'message' && el.getChild('subject') !== undefined);
  a.send(`<message type='groupchat' to='${room}'><body>hello across gateways</body></message>`);
  const got = await until(b, (el) => el.name === 'message' && el.attrs.type === 'groupchat');
  assert.equal(got.attrs.from, `${room}/Romeo`);
  assert.equal(got.getChildText('body'), 'hello across gateways');
  await a.disconnect();
  await b.disconnect();

  const exited = new Promise<number | null>((resolve) => launcher!.once('exit', (code) => resolve(code)));
  launcher.kill('SIGTERM');
  assert.equal(await exited, 0, output.slice(-40).join('\n'));
  assert.ok(output.some((l) => l.includes('[cluster] stopped')), 'prints that it stopped');
});
