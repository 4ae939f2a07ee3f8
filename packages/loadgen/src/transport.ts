/**
 * The two client transports: XMPP over TCP (RFC 6120 §4: `<stream:stream>` framing,
 * elements split by {@link StreamScanner}) and XMPP over WebSocket (RFC 7395: subprotocol
 * `xmpp`, `<open/>` / `<close/>` framing, one element per text message). Both deliver
 * top-level elements as strings.
 */
import { connect as tcpConnect, type Socket } from 'node:net';
import WebSocket from 'ws';
import { StreamScanner } from './stream-scanner.js';

/** Namespace of RFC 7395 framing. */
const FRAMING = 'urn:ietf:params:xml:ns:xmpp-framing';

/** What a transport reports to its client. */
export interface TransportHandlers {
  /** One top-level element, e.g. `<message …>…</message>`, `<stream:features>…`, `<success …/>`. */
  onElement(xml: string): void;
  /** The connection closed (or the server closed the stream); `reason` says how. */
  onClose(reason: string): void;
}

/** A connected transport. */
export interface Transport {
  /** Opens (or, after SASL success, restarts) the stream to `domain`. */
  openStream(domain: string): void;
  /** Writes raw XML. Ignored once closed. */
  send(xml: string): void;
  /** Closes the stream and the connection politely. */
  close(): void;
  /** Drops the connection at once. */
  destroy(): void;
  readonly closed: boolean;
  /** Bytes written but not yet taken by the kernel (TCP) or sent (WebSocket `bufferedAmount`). */
  readonly pendingBytes: number;
}

/** Where and how to connect. */
export interface ConnectSpec {
  kind: 'tcp' | 'websocket';
  /** `host:port` */
  target: string;
  /** WebSocket path, e.g. `/xmpp-websocket`. */
  path: string;
  /** Give up connecting after this, ms. */
  timeoutMs: number;
}

/** Splits `host:port` / `[v6]:port`. */
export function splitTarget(target: string): { host: string; port: number } {
  const colon = target.lastIndexOf(':');
  let host = target.slice(0, colon);
  if (host.startsWith('[')) host = host.slice(1, -1);
  return { host, port: Number(target.slice(colon + 1)) };
}

/**
 * Connects; resolves once the TCP connection (or the WebSocket handshake) is up.
 * @throws Error on connection failure or timeout
 */
export function connectTransport(spec: ConnectSpec, handlers: TransportHandlers): Promise<Transport> {
  return spec.kind === 'tcp' ? connectTcp(spec, handlers) : connectWs(spec, handlers);
}

function connectTcp(spec: ConnectSpec, handlers: TransportHandlers): Promise<Transport> {
  const { host, port } = splitTarget(spec.target);
  return new Promise((resolve, reject) => {
    const socket: Socket = tcpConnect({ host, port, noDelay: true });
    let closed = false;
    let settled = false;
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      socket.destroy();
      reject(new Error(`connect timeout after ${spec.timeoutMs} ms`));
    }, spec.timeoutMs);
    const markClosed = (reason: string) => {
      if (closed) return;
      closed = true;
      handlers.onClose(reason);
    };
    const scanner = new StreamScanner({
      onStreamOpen: () => {},
      onElement: (xml) => handlers.onElement(xml),
      onStreamClose: () => {
        markClosed('the server closed the stream');
        socket.end();
      },
    });
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => scanner.push(chunk));
    socket.on('error', (err) => {
      if (!settled) {
        settled = true;
        clearTimeout(timer);
        reject(err);
      }
      markClosed(`socket error: ${err.message}`);
    });
    socket.on('close', () => markClosed('connection closed'));
    socket.once('connect', () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({
        openStream(domain: string) {
          scanner.reset();
          socket.write(`<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='${domain}' version='1.0'>`);
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
          setTimeout(() => socket.destroy(), 2000).unref();
        },
        destroy() {
          socket.destroy();
        },
        get closed() {
          return closed;
        },
      });
    });
  });
}

function connectWs(spec: ConnectSpec, handlers: TransportHandlers): Promise<Transport> {
  const { host, port } = splitTarget(spec.target);
  const url = `ws://${host.includes(':') ? `[${host}]` : host}:${port}${spec.path}`;
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, 'xmpp', { perMessageDeflate: false, handshakeTimeout: spec.timeoutMs });
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
          ws.send(`<open xmlns='${FRAMING}' to='${domain}' version='1.0'/>`);
        },
        send(xml: string) {
          if (!closed) ws.send(xml);
        },
        get pendingBytes() {
          return ws.bufferedAmount;
        },
        close() {
          if (closed) return;
          ws.send(`<close xmlns='${FRAMING}'/>`);
          setTimeout(() => ws.terminate(), 2000).unref();
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
