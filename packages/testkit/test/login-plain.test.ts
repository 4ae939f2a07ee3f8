import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { RawClient, elementRe, loginPlain, TestkitError } from '../src/index.js';

/** A scripted server speaking just enough RFC 6120 for loginPlain; `password` is the only valid one. */
async function fakeServer(password: string, sessionRequired: boolean): Promise<{ server: Server; port: number; got: string[] }> {
  const got: string[] = [];
  const server = createServer((s) => {
    let authed = false;
    let buf = '';
    s.on('data', (d) => {
      buf += d.toString();
      got.push(d.toString());
      for (;;) {
        const header = /^<\?xml[^>]*\?><stream:stream[^>]*>/.exec(buf);
        const element = /^<(auth|iq)\b[\s\S]*?<\/\1>/.exec(buf);
        const m = header ?? element;
        if (!m) return;
        buf = buf.slice(m[0].length);
        if (header) {
          s.write("<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' from='localhost' id='s1' version='1.0'>");
          s.write(
            authed
              ? `<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>${sessionRequired ? "<session xmlns='urn:ietf:params:xml:ns:xmpp-session'/>" : ''}</stream:features>`
              : "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-1</mechanism><mechanism>PLAIN</mechanism></mechanisms></stream:features>",
          );
        } else if (m[1] === 'auth') {
          const creds = Buffer.from(/>([^<]*)</.exec(m[0])?.[1] ?? '', 'base64').toString();
          authed = creds === `\0alice\0${password}`;
          s.write(authed ? "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>" : "<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/></failure>");
        } else if (m[0].includes('xmpp-bind')) {
          const res = /<resource>([^<]*)<\/resource>/.exec(m[0])?.[1] ?? 'generated';
          s.write(`<iq id="raw-bind" type="result"><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>alice@localhost/${res}</jid></bind></iq>`);
        } else {
          s.write("<iq type='result' id='raw-session'/>");
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  assert.ok(addr !== null && typeof addr === 'object');
  return { server, port: addr.port, got };
}

test('loginPlain authenticates, restarts, binds the requested resource and opens a required session', async () => {
  const { server, port, got } = await fakeServer('pw', true);
  const raw = await RawClient.connect(port);
  try {
    const session = await loginPlain(raw, { domain: 'localhost', user: 'alice', password: 'pw', resource: 'r&1' });
    assert.equal(session.jid, 'alice@localhost/r&1');
    assert.match(got.join(''), /<resource>r&amp;1<\/resource>/);
    assert.match(got.join(''), /xmpp-session/);
  } finally {
    raw.destroy();
    server.close();
  }
});

test('loginPlain reports the SASL failure', async () => {
  const { server, port } = await fakeServer('pw', false);
  const raw = await RawClient.connect(port);
  try {
    await assert.rejects(loginPlain(raw, { domain: 'localhost', user: 'alice', password: 'wrong' }), (err: unknown) => {
      assert.ok(err instanceof TestkitError);
      assert.equal(err.code, 'LOGIN_FAILED');
      assert.match(err.message, /not-authorized/);
      return true;
    });
  } finally {
    raw.destroy();
    server.close();
  }
});

test('elementRe matches by attribute with either quote style', () => {
  const re = elementRe('iq', { id: 'a1', type: 'result' });
  assert.ok(re.test(`<iq type="result" id='a1'/>`));
  assert.ok(re.test(`<iq from='x' id="a1" type='result'><query/></iq>`));
  assert.equal(re.test(`<iq id='a12' type='result'/>`), false);
  assert.equal(re.test(`<iq id='a1' type='error'/>`), false);
});
