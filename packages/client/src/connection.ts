/**
 * An XMPP client connection (TCP c2s or WebSocket) that negotiation can drive
 * ({@link StreamChannel}) and that afterwards hands every top-level element to its owner.
 */
import { ClientError } from './errors.js';
import type { StreamChannel, TopElement } from './negotiate.js';
import { connectTransport, type Transport, type TransportSpec } from './transport.js';
import { parseTopLevel } from './xml.js';

/** Where to connect; see {@link TransportSpec}. `kind` defaults to `tcp`. */
export type ConnectOptions = Omit<TransportSpec, 'kind'> & { kind?: TransportSpec['kind'] };

/** Bound of the elements queued while nobody takes them (before {@link XmppConnection.deliverTo}). */
const MAX_QUEUED = 10_000;

/**
 * One connection. Until {@link XmppConnection.deliverTo} is called, received elements are
 * queued for {@link XmppConnection.next} (at most 10 000: past that the connection is
 * dropped); afterwards each one's text goes straight to the handler, unparsed.
 */
export class XmppConnection implements StreamChannel {
  readonly #transport: Transport;
  #queue: string[] = [];
  #handler: ((xml: string) => void) | undefined;
  #waiter: (() => void) | undefined;
  #closed = false;
  #closeReason = '';
  readonly #closeListeners: Array<(reason: string) => void> = [];
  readonly #whenClosed: Promise<void>;
  #resolveClosed!: () => void;

  private constructor(transport: Transport) {
    this.#transport = transport;
    this.#whenClosed = new Promise((resolve) => (this.#resolveClosed = resolve));
  }

  /**
   * Connects (no stream yet: negotiate with {@link login} or {@link openStream}).
   * @throws ClientError `connect` (reason: the socket error code, e.g. `ECONNREFUSED`, or the message)
   */
  static async connect(opts: ConnectOptions): Promise<XmppConnection> {
    // The transport may report (e.g. a close) before this object exists: replay it then.
    let self: XmppConnection | undefined;
    const early: Array<() => void> = [];
    const handlers = {
      onElement: (xml: string) => (self ? self.#onElement(xml) : early.push(() => self!.#onElement(xml))),
      onClose: (reason: string) => (self ? self.#onClose(reason) : early.push(() => self!.#onClose(reason))),
    };
    let transport: Transport;
    try {
      transport = await connectTransport({ ...opts, kind: opts.kind ?? 'tcp' }, handlers);
    } catch (err) {
      throw new ClientError('connect', 'connect', (err as NodeJS.ErrnoException).code ?? (err as Error).message);
    }
    self = new XmppConnection(transport);
    for (const f of early) f();
    return self;
  }

  openStream(domain: string): void {
    this.#queue = [];
    this.#transport.openStream(domain);
  }

  send(xml: string): void {
    this.#transport.send(xml);
  }

  /**
   * Takes the next queued element, waiting up to `timeoutMs`.
   * @throws ClientError `timeout` (reason `timeout waiting for <what>`), `closed` (reason names why)
   * @throws Error when called after {@link deliverTo}
   */
  async next(timeoutMs: number, what: string): Promise<TopElement> {
    if (this.#handler) throw new Error('XmppConnection.next: elements are delivered to a handler');
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const xml = this.#queue.shift();
      if (xml !== undefined) {
        let el;
        try {
          el = parseTopLevel(xml);
        } catch (err) {
          this.destroy();
          throw new ClientError('closed', 'login', `unparsable element from the server (${(err as Error).message}) while waiting for ${what}`, xml);
        }
        return { xml, el };
      }
      if (this.#closed) throw new ClientError('closed', 'login', `connection closed while waiting for ${what} (${this.#closeReason})`);
      const left = deadline - Date.now();
      if (left <= 0) throw new ClientError('timeout', 'login', `timeout waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#waiter = undefined;
    }
  }

  /**
   * From now on hands each received element's text to `handler` (synchronously, in order),
   * starting with those still queued when `keepQueued` (default true) or dropping them.
   */
  deliverTo(handler: (xml: string) => void, keepQueued = true): void {
    const queued = keepQueued ? this.#queue : [];
    this.#queue = [];
    this.#handler = handler;
    for (const xml of queued) handler(xml);
  }

  /** Calls `listener` once when the connection closes (at once if it already has). */
  onClose(listener: (reason: string) => void): void {
    if (this.#closed) listener(this.#closeReason);
    else this.#closeListeners.push(listener);
  }

  /** Resolves when the connection has closed. */
  whenClosed(): Promise<void> {
    return this.#whenClosed;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Why the connection closed (`''` while open). */
  get closeReason(): string {
    return this.#closeReason;
  }

  /** Bytes written that the connection has not sent yet. */
  get pendingBytes(): number {
    return this.#transport.pendingBytes;
  }

  /** Closes the stream politely; the server is expected to close the connection (dropped after 2 s otherwise). */
  close(): void {
    this.#transport.close();
  }

  /** Drops the connection at once. */
  destroy(): void {
    this.#transport.destroy();
  }

  #onElement(xml: string): void {
    const handler = this.#handler;
    if (handler !== undefined) {
      handler(xml);
      return;
    }
    if (this.#queue.length >= MAX_QUEUED) {
      this.#onClose(`more than ${MAX_QUEUED} unread elements`);
      this.#transport.destroy();
      return;
    }
    this.#queue.push(xml);
    this.#waiter?.();
  }

  #onClose(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closeReason = reason;
    this.#waiter?.();
    for (const l of this.#closeListeners.splice(0)) l(reason);
    this.#resolveClosed();
  }
}
