/**
 * The two client transports: XMPP over TCP (RFC 6120 §4: `<stream:stream>` framing, split
 * into top-level elements by {@link StreamScanner}) and XMPP over WebSocket (RFC 7395:
 * subprotocol `xmpp`, `<open/>` / `<close/>` framing, one element per text message, §3.3.3).
 * Both deliver top-level elements as the server wrote them (strings, unparsed: the load
 * generator's receive path stays a few `indexOf` per stanza).
 */
import { connect as tcpConnect, type Socket } from 'node:net';
import WebSocket from 'ws';
import { DEFAULT_MAX_ELEMENT_CHARS, StreamScanner } from './stream-scanner.js';
import { streamHeader, WS_CLOSE, wsOpen } from './xml.js';

/** What a transport reports to its owner. */
export interface TransportHandlers {
  /** One top-level element, e.g. `<message …>…</message>`, `<stream:features>…`, `<success …/>`. */
  onElement(xml: string): void;
  /** The connection closed (or the server closed the stream); `reason` says how. Called once. */
  onClose(reason: string): void;
}

/** A connected transport. */
export interface Transport {
  /** Opens (or, after SASL success, restarts: RFC 6120 §6.4.6, RFC 7395 §3.3.3) the stream to `domain`. */
  openStream(domain: string): void;
  /** Writes raw XML. Ignored once closed. */
  send(xml: string): void;
  /** Closes the stream and the connection politely (`</stream:stream>` or `<close/>`); drops it 2 s later if the server does not. */
  close(): void;
  /** Drops the connection at once. */
  destroy(): void;
  readonly closed: boolean;
  /** Bytes written but not yet taken by the kernel (TCP) or sent (WebSocket `bufferedAmount`). */
  readonly pendingBytes: number;
}

/** Where and how to connect. */
export interface TransportSpec {
  kind: 'tcp' | 'websocket';
  host: string;
  port: number;
  /** WebSocket path (default `/xmpp-websocket`). */
  path?: string;
  /** Give up connecting after this, ms (default 10 000). */
  timeoutMs?: number;
  /** Bound of one received element, UTF-16 code units (TCP; WebSocket: `maxPayload` in bytes). Default 1 Mi. */
  maxElementChars?: number;
}

const POLITE_CLOSE_MS = 2000;

/** Splits `host:port` / `[v6]:port`. */
export function splitTarget(target: string): { host: string; port: number } {
  const colon = target.lastIndexOf(':');
  let host = target.slice(0, colon);
  if (host.startsWith('[')) host = host.slice(1, -1);
  return { host, port: Number(target.slice(colon + 1)) };
}

/**
 * Opens a TCP connection (Nagle off); resolves once connected.
 * @throws Error on connection failure (with its `code`, e.g. ECONNREFUSED) or after `timeoutMs` (default 10 000)
 */
export function connectSocket(opts: { host: string; port: number; timeoutMs?: number }): Promise<Socket> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  return new Promise((resolve, reject) => {
    const socket = tcpConnect({ host: opts.host, port: opts.port, noDelay: true });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`connect timeout after ${timeoutMs} ms`));
    }, timeoutMs);
    const fail = (err: Error) => {
      clearTimeout(timer);
      reject(err);
    };
    socket.once('error', fail);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', fail);
      resolve(socket);
    });
  });
}

/**
 * Connects; resolves once the TCP connection (or the WebSocket handshake, with the `xmpp`
 * subprotocol accepted) is up. Nothing is sent yet: call {@link Transport.openStream}.
 * @throws Error on connection failure or timeout
 */
export function connectTransport(spec: TransportSpec, handlers: TransportHandlers): Promise<Transport> {
  return spec.kind === 'tcp' ? connectTcp(spec, handlers) : connectWs(spec, handlers);
}

async function connectTcp(spec: TransportSpec, handlers: TransportHandlers): Promise<Transport> {
  const socket = await connectSocket(spec);
  let closed = false;
  const markClosed = (reason: string) => {
    if (closed) return;
    closed = true;
    handlers.onClose(reason);
  };
  const scanner = new StreamScanner(
    {
      onStreamOpen: () => {},
      onElement: (xml) => handlers.onElement(xml),
      onStreamClose: () => {
        markClosed('the server closed the stream');
        socket.end();
      },
      onError: (reason) => {
        markClosed(`refused input from the server: ${reason}`);
        socket.destroy();
      },
    },
    spec.maxElementChars ?? DEFAULT_MAX_ELEMENT_CHARS,
  );
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => scanner.push(chunk));
  socket.on('error', (err) => markClosed(`socket error: ${err.message}`));
  socket.on('close', () => markClosed('connection closed'));
  return {
    openStream(domain: string) {
      scanner.reset();
      if (!closed) socket.write(streamHeader(domain));
    },
    send(xml: string) {
      if (!closed) socket.write(xml);
    },
    get pendingBytes() {
      return socket.writableLength;
    },
    close() {
      if (closed) return;
      socket.end('</stream:stream>');
      setTimeout(() => socket.destroy(), POLITE_CLOSE_MS).unref();
    },
    destroy() {
      socket.destroy();
    },
    get closed() {
      return closed;
    },
  };
}

function connectWs(spec: TransportSpec, handlers: TransportHandlers): Promise<Transport> {
  const host = spec.host.includes(':') ? `[${spec.host}]` : spec.host;
  const url = `ws://${host}:${spec.port}${spec.path ?? '/xmpp-websocket'}`;
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, 'xmpp', {
      perMessageDeflate: false,
      handshakeTimeout: spec.timeoutMs ?? 10_000,
      maxPayload: spec.maxElementChars ?? DEFAULT_MAX_ELEMENT_CHARS,
    });
    let closed = false;
    let opened = false;
    const markClosed = (reason: string) => {
      if (closed) return;
      closed = true;
      handlers.onClose(reason);
    };
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) return;
      const xml = data.toString('utf8');
      if (xml.startsWith('<open')) return;
      if (xml.startsWith('<close')) {
        markClosed('the server closed the stream');
        ws.close();
        return;
      }
      handlers.onElement(xml);
    });
    ws.on('error', (err) => {
      if (!opened) reject(err);
      markClosed(`websocket error: ${err.message}`);
    });
    ws.on('close', () => markClosed('connection closed'));
    ws.once('open', () => {
      opened = true;
      if (ws.protocol !== 'xmpp') {
        ws.terminate();
        reject(new Error(`the server did not accept the "xmpp" subprotocol (got "${ws.protocol}")`));
        return;
      }
      resolve({
        openStream(domain: string) {
          if (!closed) ws.send(wsOpen(domain));
        },
        send(xml: string) {
          if (!closed) ws.send(xml);
        },
        get pendingBytes() {
          return ws.bufferedAmount;
        },
        close() {
          if (closed) return;
          ws.send(WS_CLOSE);
          setTimeout(() => ws.terminate(), POLITE_CLOSE_MS).unref();
        },
        destroy() {
          ws.terminate();
        },
        get closed() {
          return closed;
        },
      });
    });
  });
}
