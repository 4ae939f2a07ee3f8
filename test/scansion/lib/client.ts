/*
 * One scansion client on a raw TCP socket: RFC 6120 stream header (§4.2), SASL PLAIN
 * (§6, RFC 4616), stream restart (§6.4.6), resource binding (§7), and the legacy session
 * when offered without <optional/> (RFC 3921 §3). No initial presence is sent: the script
 * sends one if it wants to. After login, every element the server sends is queued.
 */
import { connect as tcpConnect, type Socket } from 'node:net';
import { NS, StreamParser, type XmlError } from '@parley/xml';
import type { Element } from 'ltx';

/** A stanza received after login, with the step that was running when it arrived. */
export interface Received {
  el: Element;
  /** Value of {@link ScansionClient.step} on arrival. */
  step: number;
}

/** Where and as whom to connect. */
export interface ConnectOptions {
  host: string;
  port: number;
  /** Bare or full JID; a resource is requested at bind when given. */
  jid: string;
  password: string;
  /** Per negotiation step, ms (default 5000). */
  timeoutMs?: number;
}

const escapeAttr = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/'/g, '&apos;').replace(/"/g, '&quot;');

/** A logged-in XMPP client whose incoming stanzas are parsed into a queue. */
export class ScansionClient {
  /** The full JID the server bound. */
  jid = '';
  /** Set by the runner before each step; stamped on each received stanza. */
  step = 0;
  readonly #socket: Socket;
  readonly #parser: StreamParser;
  readonly #queue: Received[] = [];
  #waiter: (() => void) | undefined;
  #closed = false;
  #closeReason = '';
  readonly #closedPromise: Promise<void>;

  private constructor(socket: Socket) {
    this.#socket = socket;
    this.#parser = new StreamParser(
      {
        onStreamStart: () => {},
        onElement: (el) => {
          this.#queue.push({ el, step: this.step });
          this.#wake();
        },
        onStreamEnd: () => this.#markClosed('the server closed the stream'),
        onError: (err: XmlError) => {
          this.#markClosed(`unparsable input from the server (${err.condition}): ${err.message}`);
          socket.destroy();
        },
      },
      { maxStanzaBytes: 1024 * 1024, maxDepth: 64 },
    );
    socket.on('data', (chunk: Buffer) => this.#parser.write(chunk));
    socket.on('error', (err) => this.#markClosed(`socket error: ${err.message}`));
    this.#closedPromise = new Promise((resolve) =>
      socket.once('close', () => {
        this.#markClosed('the connection was closed');
        resolve();
      }),
    );
  }

  /**
   * Connects and logs in.
   * @throws Error naming the failed step (SASL failure, bind error, timeout, closed stream)
   */
  static async connect(opts: ConnectOptions): Promise<ScansionClient> {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = tcpConnect({ host: opts.host, port: opts.port });
      s.once('error', reject);
      s.once('connect', () => {
        s.off('error', reject);
        resolve(s);
      });
    });
    const client = new ScansionClient(socket);
    try {
      await client.#login(opts);
    } catch (err) {
      client.destroy();
      throw err;
    }
    return client;
  }

  async #login(opts: ConnectOptions): Promise<void> {
    const timeoutMs = opts.timeoutMs ?? 5000;
    const slash = opts.jid.indexOf('/');
    const bare = slash < 0 ? opts.jid : opts.jid.slice(0, slash);
    const resource = slash < 0 ? undefined : opts.jid.slice(slash + 1);
    const at = bare.indexOf('@');
    const user = at < 0 ? '' : bare.slice(0, at);
    const domain = bare.slice(at + 1);

    let features = await this.#openStream(domain, timeoutMs);
    const mechanisms = features.getChild('mechanisms', NS.SASL)?.getChildren('mechanism').map((m) => m.getText().trim()) ?? [];
    if (!mechanisms.includes('PLAIN')) throw new Error(`SASL PLAIN not offered: ${features.toString()}`);
    const token = Buffer.from(`\0${user}\0${opts.password}`, 'utf8').toString('base64');
    this.send(`<auth xmlns='${NS.SASL}' mechanism='PLAIN'>${token}</auth>`);
    const outcome = await this.#nextNegotiation(timeoutMs, 'SASL outcome');
    if (outcome.name !== 'success') throw new Error(`SASL PLAIN refused: ${outcome.toString()}`);

    this.#parser.restart();
    features = await this.#openStream(domain, timeoutMs);
    if (!features.getChild('bind', NS.BIND)) throw new Error(`no bind feature after SASL: ${features.toString()}`);
    const res = resource === undefined ? '' : `<resource>${escapeAttr(resource)}</resource>`;
    this.send(`<iq type='set' id='scansion-bind'><bind xmlns='${NS.BIND}'>${res}</bind></iq>`);
    const bound = await this.#nextNegotiation(timeoutMs, 'bind result');
    const jid = bound.getChild('bind', NS.BIND)?.getChildText('jid');
    if (bound.name !== 'iq' || bound.attrs.type !== 'result' || !jid) throw new Error(`bind failed: ${bound.toString()}`);
    this.jid = jid.trim();

    const session = features.getChild('session', NS.SESSION);
    if (session && !session.getChild('optional')) {
      this.send(`<iq type='set' id='scansion-session'><session xmlns='${NS.SESSION}'/></iq>`);
      const reply = await this.#nextNegotiation(timeoutMs, 'session result');
      if (reply.attrs.type !== 'result') throw new Error(`session failed: ${reply.toString()}`);
    }
  }

  async #openStream(domain: string, timeoutMs: number): Promise<Element> {
    this.send(
      `<?xml version='1.0'?><stream:stream xmlns='${NS.CLIENT}' xmlns:stream='${NS.STREAM}' to='${escapeAttr(domain)}' version='1.0'>`,
    );
    const features = await this.#nextNegotiation(timeoutMs, 'stream features');
    if (features.name !== 'features') throw new Error(`expected <stream:features>, got ${features.toString()}`);
    return features;
  }

  async #nextNegotiation(timeoutMs: number, what: string): Promise<Element> {
    const r = await this.next(timeoutMs);
    if (r === undefined) throw new Error(`no ${what} within ${timeoutMs} ms${this.#closed ? ` (${this.#closeReason})` : ''}`);
    if (r.el.name === 'error' && r.el.attrs.xmlns === NS.STREAM) throw new Error(`stream error while waiting for ${what}: ${r.el.toString()}`);
    return r.el;
  }

  /** Writes raw XML to the socket (ignored once closed). */
  send(xml: string): void {
    if (!this.#closed) this.#socket.write(xml);
  }

  /** Stanzas received and not yet taken. */
  get pending(): readonly Received[] {
    return this.#queue;
  }

  /** Whether the connection is closed; {@link closeReason} says why. */
  get closed(): boolean {
    return this.#closed;
  }

  get closeReason(): string {
    return this.#closeReason;
  }

  /**
   * Takes the next received stanza, waiting up to `timeoutMs`.
   * @returns undefined on timeout or when the connection closes with nothing queued
   */
  async next(timeoutMs: number): Promise<Received | undefined> {
    const deadline = Date.now() + timeoutMs;
    while (this.#queue.length === 0) {
      const left = deadline - Date.now();
      if (this.#closed || left <= 0) return undefined;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#waiter = undefined;
    }
    return this.#queue.shift();
  }

  /**
   * Takes received stanzas until one that `match` accepts (the others are dropped), waiting
   * up to `timeoutMs` in all.
   * @throws Error `timed out waiting for <what>` when none arrives in time or the connection closes
   */
  async nextMatching(match: (el: Element) => boolean, timeoutMs: number, what = 'a matching stanza'): Promise<Element> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const got = await this.next(Math.max(0, deadline - Date.now()));
      if (!got) throw new Error(`timed out waiting for ${what}`);
      if (match(got.el)) return got.el;
    }
  }

  /**
   * Puts stanzas taken with {@link next} back at the front of the queue, in the given order
   * (used when a step that is expected to fail on this server consumed them while waiting).
   */
  requeue(items: readonly Received[]): void {
    this.#queue.unshift(...items);
    if (items.length > 0) this.#wake();
  }

  /** Closes the stream (RFC 6120 §4.4) and waits up to `timeoutMs` for the server to close the connection. */
  async disconnect(timeoutMs = 2000): Promise<void> {
    if (!this.#closed) {
      this.#socket.write('</stream:stream>');
      this.#socket.end();
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.#closedPromise, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
    this.destroy();
  }

  /** Drops the connection at once. */
  destroy(): void {
    this.#markClosed('destroyed by the runner');
    this.#socket.destroy();
  }

  #markClosed(reason: string): void {
    if (!this.#closed) {
      this.#closed = true;
      this.#closeReason = reason;
    }
    this.#wake();
  }

  #wake(): void {
    this.#waiter?.();
  }
}
