// A minimal raw-TCP XMPP client for the harness's own chores, not for measuring: checking
// that a freshly started server logs a user in over PLAIN and serves a room (groupchat
// echo), and creating accounts by in-band registration (XEP-0077 §3.1). It reads replies
// by pattern over the accumulated stream text, which is enough for these few exchanges.
import { connect, type Socket } from 'node:net';

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

function reEscape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** One connection: write text, wait for a pattern in what arrived since the last wait. */
class Conn {
  private buf = '';
  private waiter: (() => void) | undefined;
  private closed: Error | undefined;

  private constructor(private readonly sock: Socket) {
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      this.buf += d;
      this.waiter?.();
    });
    const end = (err?: Error) => {
      this.closed ??= err ?? new Error('connection closed');
      this.waiter?.();
    };
    sock.on('error', end);
    sock.on('close', () => end());
  }

  static open(target: string, timeoutMs: number): Promise<Conn> {
    const i = target.lastIndexOf(':');
    const host = target.slice(0, i).replace(/^\[|\]$/g, '');
    const port = Number(target.slice(i + 1));
    return new Promise((resolve, reject) => {
      const sock = connect({ host, port });
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new Error(`connect to ${target} timed out`));
      }, timeoutMs);
      sock.once('connect', () => {
        clearTimeout(timer);
        resolve(new Conn(sock));
      });
      sock.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  }

  send(text: string): void {
    this.sock.write(text);
  }

  /** Waits until `re` matches the text received since the last successful wait; consumes it up to the match's end. */
  async expect(re: RegExp, what: string, timeoutMs = 10_000): Promise<RegExpExecArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = re.exec(this.buf);
      if (m) {
        this.buf = this.buf.slice(m.index + m[0].length);
        return m;
      }
      if (/<stream:error|<failure/.test(this.buf)) throw new Error(`${what}: server said ${this.buf.slice(0, 400)}`);
      if (this.closed) throw new Error(`${what}: ${this.closed.message}; received ${this.buf.slice(0, 400)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${what}: timed out; received ${this.buf.slice(0, 400)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.waiter = undefined;
    }
  }

  async openStream(domain: string): Promise<string> {
    this.send(`<?xml version='1.0'?><stream:stream to='${domain}' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>`);
    const m = await this.expect(/<stream:features[\s\S]*?<\/stream:features>|<stream:features\/>/, 'stream features');
    return m[0];
  }

  close(): void {
    try {
      this.sock.end('</stream:stream>');
    } catch {
      // closed already
    }
    setTimeout(() => this.sock.destroy(), 200).unref();
  }
}

/** Logs `user` in over SASL PLAIN and binds a resource; resolves with the open connection. */
async function login(target: string, domain: string, user: string, password: string): Promise<Conn> {
  const c = await Conn.open(target, 10_000);
  const features = await c.openStream(domain);
  if (!/PLAIN/.test(features)) throw new Error(`${target} does not offer SASL PLAIN: ${features}`);
  const authz = Buffer.from(`\0${user}\0${password}`).toString('base64');
  c.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${authz}</auth>`);
  await c.expect(/<success[\s\S]*?(\/>|<\/success>)/, 'PLAIN login');
  await c.openStream(domain);
  c.send(`<iq type='set' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>probe</resource></bind></iq>`);
  await c.expect(/<iq[^>]*id=['"]bind['"][^>]*type=['"]result['"]|<iq[^>]*type=['"]result['"][^>]*id=['"]bind['"]/, 'resource binding');
  // Some servers (ejabberd) want the legacy session establishment; harmless elsewhere.
  c.send(`<iq type='set' id='sess'><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>`);
  await c.expect(/<iq[^>]*id=['"]sess['"]/, 'session');
  return c;
}

/**
 * Checks that the server at `target` serves what the benchmark needs: a PLAIN login of an
 * arbitrary user (open test authentication), a room join on `mucDomain` (submitting the
 * instant-room form when the room is new and locked), and a groupchat message echoed back.
 * @returns milliseconds the whole check took
 * @throws Error saying which step failed and what the server sent
 */
export async function probe(target: string, domain: string, mucDomain: string, user = 'probe', password = 'probe-password'): Promise<number> {
  const t0 = performance.now();
  const c = await login(target, domain, user, password);
  try {
    c.send(`<presence/>`);
    const room = `probe-${Date.now().toString(36)}@${mucDomain}`;
    c.send(`<presence to='${room}/probe'><x xmlns='http://jabber.org/protocol/muc'><history maxstanzas='0'/></x></presence>`);
    const self = await c.expect(new RegExp(`<presence[^>]*from=['"]${reEscape(room)}/probe['"][\\s\\S]*?</presence>`), 'room join');
    if (/code=['"]201['"]/.test(self[0])) {
      c.send(`<iq type='set' id='cfg' to='${room}'><query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='submit'/></query></iq>`);
      await c.expect(/<iq[^>]*id=['"]cfg['"][^>]*>|<iq[^>]*type=['"]result['"][^>]*id=['"]cfg['"]/, 'instant room');
    }
    const body = `probe ${Math.random()}`;
    c.send(`<message to='${room}' type='groupchat' id='m1'><body>${escapeXml(body)}</body></message>`);
    await c.expect(new RegExp(`<body>${reEscape(escapeXml(body))}</body>`), 'groupchat echo');
  } finally {
    c.close();
  }
  return performance.now() - t0;
}

/**
 * Creates accounts by in-band registration (XEP-0077 §3.1: `jabber:iq:register` set with
 * username and password before authentication), one connection per account,
 * `concurrency` at a time. An account that exists already (`conflict`) counts as created.
 */
export async function registerInBand(target: string, domain: string, usernames: readonly string[], password: string, concurrency = 16): Promise<void> {
  let next = 0;
  const one = async (user: string) => {
    const c = await Conn.open(target, 10_000);
    try {
      const features = await c.openStream(domain);
      if (!/iq-register|jabber:iq:register/.test(features)) throw new Error(`${target} does not offer in-band registration: ${features}`);
      c.send(`<iq type='set' id='reg'><query xmlns='jabber:iq:register'><username>${escapeXml(user)}</username><password>${escapeXml(password)}</password></query></iq>`);
      const m = await c.expect(/<iq[^>]*id=['"]reg['"][^>]*?(?:\/>|>[\s\S]*?<\/iq>)/, `registering ${user}`);
      if (/type=['"]error['"]/.test(m[0]) && !/conflict/.test(m[0])) throw new Error(`registering ${user}: ${m[0]}`);
    } finally {
      c.close();
    }
  };
  await Promise.all(
    Array.from({ length: Math.min(concurrency, usernames.length) }, async () => {
      while (next < usernames.length) await one(usernames[next++]!);
    }),
  );
}
