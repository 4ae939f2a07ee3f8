/*
 * Hostile and broken clients (RFC 6120 §4.9 stream errors, §11 XML restrictions, §13.12
 * size limits, §6.4.5 SASL failure). Each bad client must get a <stream:error> whose
 * condition is in urn:ietf:params:xml:ns:xmpp-streams, and then be disconnected; after each
 * one, a fresh client still logs in and pings on the same gateway.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { authenticateScram, bindResource, openStream, RawClient, streamHeader, type GatewayProcess, loginPlain } from '@parley/testkit';
import { startCluster, printGatewayLogsOnFailure, type TestCluster } from './support/cluster.js';
import { DOMAIN, NS } from './support/names.js';
import { streamError } from './support/raw-stanzas.js';
import { rawLogin, rawPing } from './support/raw-session.js';

let cluster: TestCluster | undefined;
let gw: GatewayProcess;
const open: RawClient[] = [];
let checks = 0;

printGatewayLogsOnFailure(() => cluster);

before(async () => {
  cluster = await startCluster('bad-input');
  gw = await cluster.startGateway({ PARLEY_ALLOW_PLAIN_WITHOUT_TLS: 'true' });
  await cluster.addUser('alice@localhost', 'alice-pw');
  await cluster.addUser('bob@localhost', 'bob-pw');
});

after(async () => {
  for (const raw of open) raw.destroy();
  await cluster?.close();
});

async function connect(): Promise<RawClient> {
  const raw = await RawClient.connect(gw.c2sPort);
  open.push(raw);
  return raw;
}

/** The server sent a stream error with `condition` and closed the connection. */
async function assertStreamError(raw: RawClient, condition: string): Promise<void> {
  await raw.closed(10_000);
  const error = streamError(raw.text);
  assert.ok(error, `no <stream:error> before the close; received ${JSON.stringify(raw.text.slice(-2000))}`);
  assert.equal(error.condition, condition, error.element.toString());
  assert.ok(error.element.getChild(condition, NS.streams), `<${condition}/> must be in ${NS.streams}: ${error.element.toString()}`);
  // RFC 6120 §4.9.1.1: the error, then the closing stream tag, then the TCP close.
  assert.ok(raw.text.lastIndexOf('</stream:stream>') > raw.text.indexOf('<stream:error'), `no </stream:stream> after the error: ${JSON.stringify(raw.text.slice(-500))}`);
}

/** A fresh client logs in and pings on the same gateway, which is still running. */
async function assertGatewayServes(): Promise<void> {
  assert.equal(gw.child.exitCode, null, `the gateway exited:\n${gw.output()}`);
  const { raw } = await rawLogin(gw, 'bob', 'bob-pw', `check-${++checks}`);
  try {
    assert.match(await rawPing(raw), /\stype=(['"])result\1/);
  } finally {
    raw.destroy();
  }
}

test('garbage instead of a stream header: not-well-formed', async () => {
  const raw = await connect();
  await raw.send('hello <<< this is not XML &&& >>>\r\n\r\n');
  await assertStreamError(raw, 'not-well-formed');
  await assertGatewayServes();
});

test('garbage after the stream header: not-well-formed', async () => {
  const raw = await connect();
  await openStream(raw, DOMAIN);
  await raw.send('<<>>&&<<!');
  await assertStreamError(raw, 'not-well-formed');
  await assertGatewayServes();
});

test('mismatched tags after login: not-well-formed', async () => {
  const { raw } = await rawLogin(gw, 'alice', 'alice-pw', 'mismatch');
  open.push(raw);
  await raw.send(`<message to='bob@localhost' type='chat'><body>hi</bdy></message>`);
  await assertStreamError(raw, 'not-well-formed');
  await assertGatewayServes();
});

test('a billion-laughs DOCTYPE: restricted-xml', async () => {
  const raw = await connect();
  let entities = `<!ENTITY lol0 "lol">`;
  for (let i = 1; i < 10; i++) entities += `<!ENTITY lol${i} "${`&lol${i - 1};`.repeat(10)}">`;
  const header = streamHeader(DOMAIN).replace("<stream:stream", `<!DOCTYPE stream:stream [${entities}]><stream:stream`);
  await raw.send(`${header}<message to='bob@localhost'><body>&lol9;</body></message>`);
  await assertStreamError(raw, 'restricted-xml');
  await assertGatewayServes();
});

test('a processing instruction after the stream header: restricted-xml', async () => {
  const raw = await connect();
  await openStream(raw, DOMAIN);
  await raw.send(`<?evil instruction?>`);
  await assertStreamError(raw, 'restricted-xml');
  await assertGatewayServes();
});

test('a comment after the stream header: restricted-xml', async () => {
  const raw = await connect();
  await openStream(raw, DOMAIN);
  await raw.send(`<!-- a comment -->`);
  await assertStreamError(raw, 'restricted-xml');
  await assertGatewayServes();
});

test('a 10 MiB stanza after login: policy-violation before the stanza ends', async (t) => {
  const { raw } = await rawLogin(gw, 'alice', 'alice-pw', 'huge');
  open.push(raw);
  const total = 10 * 1024 * 1024;
  const chunk = Buffer.alloc(64 * 1024, 'A');
  function* stanza(): Generator<string | Buffer> {
    yield `<message to='bob@localhost' type='chat'><body>`;
    for (let sent = 0; sent < total; sent += chunk.length) yield chunk;
    // No closing tags, ever: a server that waited for the whole stanza before checking its
    // size would never answer, and the stream error below would not arrive.
  }
  const result = await raw.pump(stanza(), { stopWhen: /<stream:error/ });
  t.diagnostic(`${result.bytesSent} bytes handed to the socket before the server reacted (${result.stoppedBy})`);
  await assertStreamError(raw, 'policy-violation');
  await assertGatewayServes();
});

test('an oversized element before authentication: policy-violation', async () => {
  const raw = await connect();
  await openStream(raw, DOMAIN);
  const chunk = 'A'.repeat(4096);
  function* auth(): Generator<string> {
    yield `<auth xmlns='${NS.sasl}' mechanism='PLAIN'>`;
    for (let i = 0; i < 256; i++) yield chunk; // 1 MiB, far above PARLEY_MAX_PREAUTH_BYTES (8192)
    // No `</auth>`: the error must come while the element is still open. (Whether the pump
    // finished first depends on the kernel's socket buffers, which can hold 1 MiB.)
  }
  await raw.pump(auth(), { stopWhen: /<stream:error/ });
  await assertStreamError(raw, 'policy-violation');
  await assertGatewayServes();
});

test('a client that stops mid-tag and disconnects: its session goes, the gateway keeps serving', async () => {
  assert.ok(cluster);
  const { raw: bystander } = await rawLogin(gw, 'bob', 'bob-pw', 'bystander');
  open.push(bystander);

  const { raw } = await rawLogin(gw, 'alice', 'alice-pw', 'cut');
  open.push(raw);
  await cluster.waitForSessions('alice@localhost', (s) => s.has('cut'));
  await raw.send(`<message to='bob@localhost/bystander' type='chat'><bo`);
  raw.destroy();
  await cluster.waitForSessions('alice@localhost', (s) => !s.has('cut'), 5000);

  const half = await connect();
  await half.send(`${streamHeader(DOMAIN)}<iq type='get' id='x'><query xmlns='jabber:iq:ver`);
  half.end(); // TCP FIN mid-tag: the server must close its side too
  await half.closed(10_000);

  assert.match(await rawPing(bystander), /\stype=(['"])result\1/, 'an existing session still works');
  assert.doesNotMatch(bystander.text, /<bo/, 'nothing of the partial stanza was delivered');
  await assertGatewayServes();
});

test('a wrong PLAIN password: <failure><not-authorized/>, and a retry on the same stream succeeds', async () => {
  const raw = await connect();
  await openStream(raw, DOMAIN);
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  let from = raw.length;
  await raw.send(`<auth xmlns='${NS.sasl}' mechanism='PLAIN'>${b64('\0alice\0wrong')}</auth>`);
  const [failure] = await raw.waitFor(/<failure\b[^>]*?(?:\/>|>[\s\S]*?<\/failure>)/, { from });
  assert.match(failure, new RegExp(`^<failure[^>]*xmlns=(['"])${NS.sasl}\\1`), failure);
  assert.match(failure, /<not-authorized\s*\/>/, failure);
  assert.equal(raw.isClosed, false, 'RFC 6120 §6.4.5: the server SHOULD allow a retry');

  from = raw.length;
  await raw.send(`<auth xmlns='${NS.sasl}' mechanism='PLAIN'>${b64('\0alice\0alice-pw')}</auth>`);
  await raw.waitFor(/<success\b/, { from });
  const { jid } = await bindResource(raw, { domain: DOMAIN, resource: 'retry' });
  assert.equal(jid, 'alice@localhost/retry');
  assert.match(await rawPing(raw), /\stype=(['"])result\1/);
  raw.destroy();
  await assertGatewayServes();
});

test('a wrong SCRAM-SHA-256 password or an unknown user: not-authorized, then a retry succeeds', async () => {
  const raw = await connect();
  await openStream(raw, DOMAIN);
  await assert.rejects(authenticateScram(raw, { domain: DOMAIN, user: 'alice', password: 'wrong', mechanism: 'SCRAM-SHA-256' }), /<not-authorized\s*\/>/);
  assert.equal(raw.isClosed, false);
  await assert.rejects(authenticateScram(raw, { domain: DOMAIN, user: 'nobody', password: 'x', mechanism: 'SCRAM-SHA-256' }), /<not-authorized\s*\/>/);
  assert.equal(raw.isClosed, false);
  await authenticateScram(raw, { domain: DOMAIN, user: 'alice', password: 'alice-pw', mechanism: 'SCRAM-SHA-256' });
  const { jid } = await bindResource(raw, { domain: DOMAIN, resource: 'scram-retry' });
  assert.equal(jid, 'alice@localhost/scram-retry');
  raw.destroy();
  await assertGatewayServes();
});

test('PLAIN is offered when PARLEY_ALLOW_PLAIN_WITHOUT_TLS=true', async () => {
  const raw = await connect();
  const { jid } = await loginPlain(raw, { domain: DOMAIN, user: 'alice', password: 'alice-pw', resource: 'plain' });
  assert.equal(jid, 'alice@localhost/plain');
  raw.destroy();
});
