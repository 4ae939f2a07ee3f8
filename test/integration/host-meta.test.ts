/*
 * XEP-0156 §3 host-meta on a real gateway's WebSocket listener: `/.well-known/host-meta`
 * (XRD) and `/.well-known/host-meta.json` advertise the RFC 7395 endpoint derived from the
 * listener (its port and path, the requested served domain), with CORS; a client logs in at
 * the advertised port and path; a configured `gateway.wsPublicUrl` (PARLEY_WS_PUBLIC_URL) is
 * advertised as is; other methods get 405, a preflight 204, other paths still 426.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { GatewayProcess } from '@parley/testkit';
import { startCluster, printGatewayLogsOnFailure, type TestCluster } from './support/cluster.js';
import { connectClient, type TestClient } from './support/test-client.js';
import { DOMAIN } from './support/names.js';

const REL = 'urn:xmpp:alt-connections:websocket';
const PUBLIC = 'wss://xmpp.example.org/socket';
let cluster: TestCluster | undefined;
let plain: GatewayProcess;
let configured: GatewayProcess;
const clients: TestClient[] = [];

printGatewayLogsOnFailure(() => cluster);

before(async () => {
  cluster = await startCluster('host-meta');
  [plain, configured] = await Promise.all([cluster.startGateway(), cluster.startGateway({ PARLEY_WS_PUBLIC_URL: PUBLIC })]);
  await cluster.addUser(`hm@${DOMAIN}`, 'hm-secret');
});

after(async () => {
  await Promise.all(clients.map((c) => c.stop()));
  await cluster?.close();
});

const base = (gw: GatewayProcess) => `http://127.0.0.1:${gw.wsPort}`;
const xrdHref = (body: string) => /<Link rel="urn:xmpp:alt-connections:websocket" href="([^"]*)"\/>/.exec(body)?.[1];

test('derived from the listener: XRD and JSON name the WebSocket endpoint; a client logs in there', async () => {
  const xrd = await fetch(`${base(plain)}/.well-known/host-meta`, { headers: { host: `${DOMAIN}:${plain.wsPort}` } });
  assert.equal(xrd.status, 200);
  assert.match(String(xrd.headers.get('content-type')), /^application\/xrd\+xml/);
  assert.equal(xrd.headers.get('access-control-allow-origin'), '*');
  const body = await xrd.text();
  assert.match(body, /<XRD xmlns="http:\/\/docs\.oasis-open\.org\/ns\/xri\/xrd-1\.0">/);
  const href = xrdHref(body);
  assert.equal(href, `ws://${DOMAIN}:${plain.wsPort}/xmpp-websocket`, body);

  const json = await fetch(`${base(plain)}/.well-known/host-meta.json?x=1`);
  assert.equal(json.status, 200);
  assert.equal(json.headers.get('content-type'), 'application/json');
  assert.equal(json.headers.get('access-control-allow-origin'), '*');
  // Requested as 127.0.0.1 (not a served domain): the first served domain, not the Host header.
  assert.deepEqual(await json.json(), { links: [{ rel: REL, href: `ws://${DOMAIN}:${plain.wsPort}/xmpp-websocket` }] });

  // The advertised port and path work (the name is resolved to the loopback the gateway binds).
  const url = new URL(href!);
  const c = await connectClient({ service: `ws://127.0.0.1:${url.port}${url.pathname}`, username: 'hm', password: 'hm-secret', resource: 'web' });
  clients.push(c);
  assert.equal(c.jid, `hm@${DOMAIN}/web`);
});

test('a configured public URL is advertised as is', async () => {
  const xrd = await (await fetch(`${base(configured)}/.well-known/host-meta`)).text();
  assert.equal(xrdHref(xrd), PUBLIC, xrd);
  assert.deepEqual(await (await fetch(`${base(configured)}/.well-known/host-meta.json`)).json(), { links: [{ rel: REL, href: PUBLIC }] });
});

test('methods and paths: HEAD without a body, OPTIONS 204, POST 405, anything else 426', async () => {
  const head = await fetch(`${base(plain)}/.well-known/host-meta.json`, { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(await head.text(), '');
  assert.ok(Number(head.headers.get('content-length')) > 0);
  const pre = await fetch(`${base(plain)}/.well-known/host-meta`, { method: 'OPTIONS' });
  assert.equal(pre.status, 204);
  assert.equal(pre.headers.get('access-control-allow-origin'), '*');
  const post = await fetch(`${base(plain)}/.well-known/host-meta`, { method: 'POST', body: 'x' });
  assert.equal(post.status, 405);
  assert.equal(post.headers.get('allow'), 'GET, HEAD, OPTIONS');
  assert.equal((await fetch(`${base(plain)}/.well-known/host-meta.xml`)).status, 426);
  assert.equal((await fetch(`${base(plain)}/`)).status, 426);
});
