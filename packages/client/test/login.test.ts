// @parley/client against a real gateway process (its own redis-server), over TCP and
// WebSocket, with each SASL mechanism; and against tiny scripted servers for what a
// gateway does not do on demand (stream errors at the header, oversized elements).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { startGateway, startRedis, xmppctl, type GatewayProcess, type RedisServer } from '@parley/testkit';
import { ClientError, login, openStream, XmppConnection, type LoginMechanism } from '@parley/client';

const DOMAIN = 'localhost';

describe('against a gateway', () => {
  let redis: RedisServer;
  let gw: GatewayProcess;
  const opened: XmppConnection[] = [];

  before(async () => {
    redis = await startRedis();
    const opts = { redisUrl: redis.url, keyPrefix: 'client-test:' };
    gw = await startGateway({ ...opts, env: { PARLEY_ALLOW_PLAIN_WITHOUT_TLS: 'true' } });
    const r = await xmppctl(['user', 'add', `carol@${DOMAIN}`], { ...opts, stdin: 'carol-pw\n' });
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => {
    for (const c of opened) c.destroy();
    await gw?.stop();
    await redis?.stop();
  });

  async function connect(kind: 'tcp' | 'websocket'): Promise<XmppConnection> {
    const c = await XmppConnection.connect({ kind, host: '127.0.0.1', port: kind === 'tcp' ? gw.c2sPort : gw.wsPort });
    opened.push(c);
    return c;
  }

  for (const kind of ['tcp', 'websocket'] as const) {
    for (const mechanism of ['PLAIN', 'SCRAM-SHA-1', 'SCRAM-SHA-256'] as LoginMechanism[]) {
      test(`${kind}: ${mechanism} login binds the requested resource, and stanzas flow after it`, async () => {
        const c = await connect(kind);
        const resource = `${kind}-${mechanism}&<x>`;
        const { jid, features } = await login(c, { domain: DOMAIN, user: 'carol', password: 'carol-pw', mechanism, resource });
        assert.equal(jid, `carol@${DOMAIN}/${resource}`);
        assert.equal(features.el.name, 'features');
        assert.ok(features.el.getChild('bind', 'urn:ietf:params:xml:ns:xmpp-bind'), features.xml);
        const got: string[] = [];
        c.deliverTo((xml) => got.push(xml));
        c.send(`<iq type='get' id='p1' to='${DOMAIN}'><ping xmlns='urn:xmpp:ping'/></iq>`);
        const deadline = Date.now() + 5000;
        while (!got.some((x) => x.startsWith('<iq') && x.includes("p1")) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        const reply = got.find((x) => x.startsWith('<iq'));
        assert.ok(reply && /type=["']result["']/.test(reply), `ping reply: ${got.join('\n')}`);
        c.close();
        await c.whenClosed();
        assert.equal(c.closed, true);
      });
    }
  }

  test('a wrong password fails with the SASL condition, for PLAIN and SCRAM', async () => {
    for (const mechanism of ['PLAIN', 'SCRAM-SHA-256'] as LoginMechanism[]) {
      const c = await connect('tcp');
      await assert.rejects(login(c, { domain: DOMAIN, user: 'carol', password: 'wrong', mechanism }), (err: unknown) => {
        assert.ok(err instanceof ClientError, String(err));
        assert.equal(err.code, 'sasl-failure');
        assert.equal(err.reason, 'not-authorized');
        assert.match(err.message, /<not-authorized\/>/);
        return true;
      });
      c.destroy();
    }
  });
});

/** A server that runs `onConnect` for each connection. */
async function scripted(onConnect: (s: Socket) => void): Promise<{ server: Server; port: number }> {
  const server = createServer(onConnect);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  assert.ok(addr !== null && typeof addr === 'object');
  return { server, port: addr.port };
}

const HEADER = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='s' from='localhost' version='1.0'>";

test('a stream error instead of features rejects with its condition', async () => {
  const { server, port } = await scripted((s) =>
    s.once('data', () => s.end(`${HEADER}<stream:error><host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>`)),
  );
  const c = await XmppConnection.connect({ host: '127.0.0.1', port });
  try {
    await assert.rejects(openStream(c, 'nowhere.example'), (err: unknown) => {
      assert.ok(err instanceof ClientError);
      assert.equal(err.code, 'stream-error');
      assert.match(err.reason, /host-unknown/);
      return true;
    });
  } finally {
    c.destroy();
    server.close();
  }
});

test('an element over maxElementChars closes the connection, with the reason', async () => {
  const { server, port } = await scripted((s) => s.once('data', () => s.write(`${HEADER}<stream:features><x>${'y'.repeat(5000)}</x></stream:features>`)));
  const c = await XmppConnection.connect({ host: '127.0.0.1', port, maxElementChars: 1000 });
  try {
    await assert.rejects(openStream(c, DOMAIN), (err: unknown) => {
      assert.ok(err instanceof ClientError);
      assert.equal(err.code, 'closed');
      assert.match(err.reason, /over 1000 characters/);
      return true;
    });
  } finally {
    c.destroy();
    server.close();
  }
});

test('nothing arriving is a timeout; a refused connection is a connect error', async () => {
  const { server, port } = await scripted((s) => s.resume());
  const c = await XmppConnection.connect({ host: '127.0.0.1', port });
  try {
    await assert.rejects(openStream(c, DOMAIN, { timeoutMs: 200 }), (err: unknown) => err instanceof ClientError && err.code === 'timeout' && /stream features/.test(err.reason));
  } finally {
    c.destroy();
    await new Promise((r) => server.close(r));
  }
  await assert.rejects(XmppConnection.connect({ host: '127.0.0.1', port }), (err: unknown) => err instanceof ClientError && err.code === 'connect' && err.reason === 'ECONNREFUSED');
});
