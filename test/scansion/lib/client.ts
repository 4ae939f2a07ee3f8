/*
 * One scansion client: @parley/client's TCP connection and login (RFC 6120 stream header
 * §4.2, SASL PLAIN §6 / RFC 4616, stream restart §6.4.6, resource binding §7, the legacy
 * session when offered without <optional/>, RFC 3921 §3). No initial presence is sent: the
 * script sends one if it wants to. After login, every element the server sends is parsed
 * (ltx) and queued.
 */
import { ClientError, login, parseTopLevel, XmppConnection } from '@parley/client';
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

/** Bound of one received element, UTF-16 code units. */
const MAX_ELEMENT_CHARS = 1024 * 1024;

/** A logged-in XMPP client whose incoming stanzas are parsed into a queue. */
export class ScansionClient {
  /** The full JID the server bound. */
  jid = '';
  /** Set by the runner before each step; stamped on each received stanza. */
  step = 0;
  readonly #conn: XmppConnection;
  readonly #queue: Received[] = [];
  #waiter: (() => void) | undefined;
  #closed = false;
  #closeReason = '';

  private constructor(conn: XmppConnection) {
    this.#conn = conn;
    conn.onClose((reason) => this.#markClosed(reason));
  }

  /**
   * Connects and logs in.
   * @throws Error naming the failed step (SASL failure, bind error, timeout, closed stream)
   */
  static async connect(opts: ConnectOptions): Promise<ScansionClient> {
    const timeoutMs = opts.timeoutMs ?? 5000;
    const slash = opts.jid.indexOf('/');
    const bare = slash < 0 ? opts.jid : opts.jid.slice(0, slash);
    const resource = slash < 0 ? undefined : opts.jid.slice(slash + 1);
    const at = bare.indexOf('@');
    const user = at < 0 ? '' : bare.slice(0, at);
    const domain = bare.slice(at + 1);
    let conn: XmppConnection;
    try {
      conn = await XmppConnection.connect({ host: opts.host, port: opts.port, timeoutMs, maxElementChars: MAX_ELEMENT_CHARS });
    } catch (err) {
      throw new Error(`cannot connect to ${opts.host}:${opts.port}: ${(err as Error).message}`);
    }
    const client = new ScansionClient(conn);
    try {
      const bound = await login(conn, {
        domain,
        user,
        password: opts.password,
        mechanism: 'PLAIN',
        ...(resource === undefined ? {} : { resource }),
        timeoutMs,
        ids: { bind: 'scansion-bind', session: 'scansion-session' },
      });
      client.jid = bound.jid;
    } catch (err) {
      client.destroy();
      throw err instanceof ClientError ? new Error(err.message) : err;
    }
    conn.deliverTo((xml) => client.#onElement(xml));
    return client;
  }

  #onElement(xml: string): void {
    if (this.#closed) return;
    let el: Element;
    try {
      el = parseTopLevel(xml);
    } catch (err) {
      this.#markClosed(`unparsable input from the server: ${(err as Error).message}`);
      this.#conn.destroy();
      return;
    }
    this.#queue.push({ el, step: this.step });
    this.#wake();
  }

  /** Writes raw XML to the socket (ignored once closed). */
  send(xml: string): void {
    if (!this.#closed) this.#conn.send(xml);
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
    if (!this.#closed) this.#conn.close();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.#conn.whenClosed(), new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
    this.destroy();
  }

  /** Drops the connection at once. */
  destroy(): void {
    this.#markClosed('destroyed by the runner');
    this.#conn.destroy();
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
