import { client, xml, type XmppClient } from '@xmpp/client';
import type { Element } from 'ltx';
import { DOMAIN, NS } from './names.js';

/** Where and as whom a {@link TestClient} logs in. */
export interface TestClientOptions {
  /** `xmpp://127.0.0.1:<c2sPort>` or `ws://127.0.0.1:<wsPort>/xmpp-websocket` */
  service: string;
  username: string;
  password: string;
  resource?: string;
  /** Default `localhost`. */
  domain?: string;
}

/**
 * An @xmpp/client session that keeps every stanza it receives, so that tests can wait for
 * one after the fact. Automatic reconnection is off: a dropped session stays dropped.
 */
export interface TestClient {
  readonly xmpp: XmppClient;
  /** The bound full JID. */
  readonly jid: string;
  /** `jid` without the resource. */
  readonly bare: string;
  /** The SASL mechanism the client authenticated with (from its `<auth mechanism=...>`). */
  readonly mechanism: string | undefined;
  /** Time from start() to the bound session, ms. */
  readonly loginMs: number;
  /** Every stanza received, in order. */
  readonly received: Element[];
  /** Every non-stanza element received (stream errors, SASL, ...), in order. */
  readonly nonzas: Element[];
  /** Errors the client emitted (stream errors arrive here too, with `condition`). */
  readonly errors: Array<Error & { condition?: string }>;
  /**
   * The first received stanza not yet returned by an earlier call that satisfies `match`,
   * already received or arriving within `timeoutMs` (default 5000).
   */
  waitForStanza(match: (el: Element) => boolean, timeoutMs?: number): Promise<Element>;
  /** Resolves when the connection is gone (the client saw `disconnect`), within `timeoutMs` (default 10 000). */
  disconnected(timeoutMs?: number): Promise<void>;
  /** Sends an iq with a fresh id and waits for the reply (result or error), without throwing on `type='error'`. */
  iq(type: 'get' | 'set', to: string | undefined, payload: Element, timeoutMs?: number): Promise<Element>;
  /** Sends raw stanzas. */
  send(...els: Element[]): Promise<void>;
  /** Ends the session (closes the stream); never throws, never hangs more than a few seconds. */
  stop(): Promise<void>;
}

let iqCounter = 0;

async function ensureWebSocket(): Promise<void> {
  // @xmpp/websocket calls the global WebSocket (browsers, Node >= 22); Node 20 has none.
  if (typeof (globalThis as { WebSocket?: unknown }).WebSocket === 'undefined') {
    const { WebSocket } = await import('ws');
    (globalThis as { WebSocket?: unknown }).WebSocket = WebSocket;
  }
}

/** Logs in with @xmpp/client and resolves once a resource is bound. */
export async function connectClient(opts: TestClientOptions): Promise<TestClient> {
  if (opts.service.startsWith('ws')) await ensureWebSocket();
  const xmpp = client({
    service: opts.service,
    domain: opts.domain ?? DOMAIN,
    username: opts.username,
    password: opts.password,
    ...(opts.resource !== undefined ? { resource: opts.resource } : {}),
  });
  xmpp.reconnect.stop();

  const received: Element[] = [];
  const nonzas: Element[] = [];
  const errors: Array<Error & { condition?: string }> = [];
  const consumed = new Set<Element>();
  const listeners = new Set<() => void>();
  let mechanism: string | undefined;
  let isDisconnected = false;

  xmpp.on('send', (el) => {
    if (el.name === 'auth' && el.attrs['xmlns'] === NS.sasl) mechanism = el.attrs['mechanism'] as string;
  });
  xmpp.on('stanza', (el) => {
    received.push(el);
    for (const l of [...listeners]) l();
  });
  xmpp.on('nonza', (el) => nonzas.push(el));
  xmpp.on('error', (err) => errors.push(err));
  xmpp.on('disconnect', () => {
    isDisconnected = true;
    for (const l of [...listeners]) l();
  });

  const started = Date.now();
  let jid: string;
  try {
    jid = (await xmpp.start()).toString();
  } catch (err) {
    await Promise.race([xmpp.stop().catch(() => {}), new Promise((r) => setTimeout(r, 2000))]);
    xmpp.socket?.destroy?.();
    throw err;
  }
  const loginMs = Date.now() - started;

  const waitForStanza = (match: (el: Element) => boolean, timeoutMs = 5000): Promise<Element> =>
    new Promise((resolve, reject) => {
      const look = () => received.find((el) => !consumed.has(el) && match(el));
      const finish = (fn: () => void) => {
        clearTimeout(timer);
        listeners.delete(listener);
        fn();
      };
      const listener = () => {
        const hit = look();
        if (hit) {
          consumed.add(hit);
          finish(() => resolve(hit));
        }
      };
      const timer = setTimeout(
        () =>
          finish(() =>
            reject(new Error(`${jid}: no matching stanza within ${timeoutMs} ms; unconsumed: ${received.filter((e) => !consumed.has(e)).map(String).join('\n') || '(none)'}`)),
          ),
        timeoutMs,
      );
      listeners.add(listener);
      listener();
    });

  const disconnected = (timeoutMs = 10_000): Promise<void> =>
    new Promise((resolve, reject) => {
      const finish = (fn: () => void) => {
        clearTimeout(timer);
        listeners.delete(listener);
        fn();
      };
      const listener = () => {
        if (isDisconnected) finish(resolve);
      };
      const timer = setTimeout(() => finish(() => reject(new Error(`${jid}: still connected after ${timeoutMs} ms`))), timeoutMs);
      listeners.add(listener);
      listener();
    });

  return {
    xmpp,
    jid,
    bare: jid.split('/')[0]!,
    mechanism,
    loginMs,
    received,
    nonzas,
    errors,
    waitForStanza,
    disconnected,
    async iq(type, to, payload, timeoutMs = 5000) {
      const id = `t-${++iqCounter}`;
      const reply = waitForStanza((el) => el.name === 'iq' && el.attrs['id'] === id && ['result', 'error'].includes(el.attrs['type'] as string), timeoutMs);
      await xmpp.send(xml('iq', { type, id, ...(to !== undefined ? { to } : {}) }, payload));
      return reply;
    },
    send: (...els) => xmpp.send(...els),
    async stop() {
      if (isDisconnected) return;
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([xmpp.stop(), new Promise((r) => (timer = setTimeout(r, 3000)))]);
      } catch {
        // already gone
      } finally {
        clearTimeout(timer);
      }
      if (!isDisconnected) xmpp.socket?.destroy?.();
    },
  };
}

/** A `<message type='chat'>` with a body (and an id, so echoes can be told apart). */
export function chat(to: string, body: string, type: 'chat' | 'normal' | 'headline' = 'chat'): Element {
  return xml('message', { to, type, id: `m-${++iqCounter}` }, xml('body', {}, body));
}

/** Whether `el` is a message whose body is `body`. */
export function isMessageWithBody(body: string): (el: Element) => boolean {
  return (el) => el.name === 'message' && el.getChildText('body') === body;
}
