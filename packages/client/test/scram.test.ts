// SCRAM through @parley/client against a scripted server that runs @parley/sasl's server
// mechanism on a real socket: the server-final message in a last <challenge> (RFC 6120
// §6.4.3, answered with an empty <response/>), and a wrong server signature (RFC 5802 §9).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { createMechanism, deriveCredentials, verifyPassword, type ServerMechanism, type StoredCredentials } from '@parley/sasl';
import { ClientError, login, XmppConnection } from '@parley/client';

const HEADER = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='s' from='localhost' version='1.0'>";
const SASL = 'urn:ietf:params:xml:ns:xmpp-sasl';

/** How the scripted server ends a successful exchange. */
type Ending = 'challenge' | 'tampered';

async function scramServer(creds: StoredCredentials, ending: Ending): Promise<{ server: Server; port: number; received: string[] }> {
  const received: string[] = [];
  const backend = {
    getCredentials: async (u: string) => (u === 'dave' ? creds : undefined),
    checkPlain: async (_u: string, p: string) => verifyPassword(creds, p),
  };
  const server = createServer((s) => {
    let buf = '';
    let mech: ServerMechanism | undefined;
    let authed = false;
    let awaitingEmpty = false;
    s.on('data', async (d) => {
      buf += d.toString();
      for (;;) {
        const m = /^<\?xml[^>]*\?><stream:stream[^>]*>|^<(auth|response|iq)\b[^>]*?(?:\/>|>[\s\S]*?<\/\1>)/.exec(buf);
        if (!m) return;
        buf = buf.slice(m[0].length);
        received.push(m[0]);
        const payload = () => Buffer.from(/>([^<]*)</.exec(m[0])?.[1] ?? '', 'base64');
        if (m[1] === undefined) {
          s.write(HEADER);
          s.write(
            authed
              ? "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>"
              : `<stream:features><mechanisms xmlns='${SASL}'><mechanism>SCRAM-SHA-256</mechanism></mechanisms></stream:features>`,
          );
        } else if (m[1] === 'auth') {
          mech = createMechanism('SCRAM-SHA-256', backend)!;
          const step = await mech.start(payload());
          assert.equal(step.kind, 'challenge');
          s.write(`<challenge xmlns='${SASL}'>${step.kind === 'challenge' ? step.data.toString('base64') : ''}</challenge>`);
        } else if (m[1] === 'response' && awaitingEmpty) {
          authed = true;
          s.write(`<success xmlns='${SASL}'/>`);
        } else if (m[1] === 'response') {
          const step = await mech!.step(payload());
          if (step.kind !== 'success') {
            s.write(`<failure xmlns='${SASL}'><not-authorized/></failure>`);
            continue;
          }
          let final = step.data!.toString('utf8');
          if (ending === 'tampered') final = `v=${Buffer.alloc(32, 7).toString('base64')}`;
          if (ending === 'challenge') {
            awaitingEmpty = true;
            s.write(`<challenge xmlns='${SASL}'>${Buffer.from(final).toString('base64')}</challenge>`);
          } else {
            authed = true;
            s.write(`<success xmlns='${SASL}'>${Buffer.from(final).toString('base64')}</success>`);
          }
        } else {
          s.write(`<iq type='result' id='bind-1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>dave@localhost/x</jid></bind></iq>`);
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port, received };
}

test('SCRAM: the server-final message in a last <challenge> is verified, answered with an empty <response/>, and login completes', async () => {
  const creds = await deriveCredentials('dave-pw');
  const { server, port, received } = await scramServer(creds, 'challenge');
  const c = await XmppConnection.connect({ host: '127.0.0.1', port });
  try {
    const { jid } = await login(c, { domain: 'localhost', user: 'dave', password: 'dave-pw', mechanism: 'SCRAM-SHA-256' });
    assert.equal(jid, 'dave@localhost/x');
    assert.ok(received.some((r) => /^<response xmlns='[^']+'\/>$/.test(r)), `no empty response in ${received.join('\n')}`);
  } finally {
    c.destroy();
    server.close();
  }
});

test('SCRAM: a wrong server signature fails the login although the server said <success>', async () => {
  const creds = await deriveCredentials('dave-pw');
  const { server, port, received } = await scramServer(creds, 'tampered');
  const c = await XmppConnection.connect({ host: '127.0.0.1', port });
  try {
    await assert.rejects(login(c, { domain: 'localhost', user: 'dave', password: 'dave-pw', mechanism: 'SCRAM-SHA-256' }), (err: unknown) => {
      assert.ok(err instanceof ClientError);
      assert.equal(err.code, 'server-signature');
      return true;
    });
    assert.ok(!received.some((r) => r.startsWith('<iq')), 'no bind after a bad signature');
  } finally {
    c.destroy();
    server.close();
  }
});
