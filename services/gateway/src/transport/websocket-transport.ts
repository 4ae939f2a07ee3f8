import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { WebSocket, RawData } from 'ws';
import { Element } from 'ltx';
import { tlsChannelBinding, type ChannelBinding } from '@parley/sasl';
import { NS, XmlError, parseElement, serialize } from '@parley/xml';
import type { SharedStanza } from '../routing/shared-stanza.js';
import { SendBufferGuard, type Transport, type TransportEvents, type StreamAttrs } from './transport.js';

export interface WebSocketTransportOptions {
  maxElementBytes: number;
  maxDepth: number;
  idleTimeoutMs: number;
  /**
   * The connection's socket (the upgrade request's `req.socket`, which `ws` writes its frames
   * to): corked while a burst of sends is queued, so that the frames of one event-loop turn
   * leave in one write instead of one write per stanza. Frames stay one stanza each (RFC 7395 §3.3.3).
   */
  socket?: Socket;
  /** Bytes written but not taken by the client before {@link TransportEvents.onSendOverflow} (`limits.maxSendBufferBytes`). */
  maxSendBufferBytes: number;
  /** True when the listener is wss:// (TLS from the first byte, `tls.wss`); PLAIN is then offered. */
  secure?: boolean;
  /**
   * The wss:// connection's own TLS socket, for channel binding (RFC 5802 §6). Absent on ws://,
   * also behind a TLS-terminating proxy (`tls.behindTlsProxy`): that TLS is the proxy's.
   */
  tlsSocket?: TLSSocket;
}

/**
 * XMPP over WebSocket (RFC 7395): every message is one complete XML document: `<open/>`,
 * `<close/>` (namespace urn:ietf:params:xml:ns:xmpp-framing) or one stanza/nonza.
 * Stanzas without an xmlns are in jabber:client (RFC 7395 §3.3.3 says they carry it; we
 * accept both). The `ws` server enforces the stanza cap as `maxPayload` (total over all
 * fragments of a message); the pre-authentication cap is checked here per message.
 */
export class WebSocketTransport implements Transport {
  readonly kind = 'websocket' as const;
  readonly secure: boolean;
  readonly canStartTls = false;
  readonly remote: string;
  private events: TransportEvents | undefined;
  private readonly sendGuard: SendBufferGuard;
  private maxElementBytes: number;
  private closing = false;
  private closed = false;
  private failed = false;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(private readonly ws: WebSocket, remote: string, private readonly opts: WebSocketTransportOptions) {
    this.remote = remote;
    this.sendGuard = new SendBufferGuard(opts.maxSendBufferBytes);
    this.secure = opts.secure === true;
    this.maxElementBytes = opts.maxElementBytes;
    ws.on('message', (data: RawData, isBinary: boolean) => this.onMessage(data, isBinary));
    ws.on('close', () => this.onClose());
    ws.on('error', () => ws.terminate());
    this.touch();
  }

  attach(events: TransportEvents): void {
    this.events = events;
  }

  openStream(attrs: StreamAttrs): void {
    this.sendRaw(serialize(new Element('open', { xmlns: NS.FRAMING, ...attrs })));
  }

  send(el: Element): void {
    if (el.name.startsWith('stream:')) {
      // RFC 7395 §3.4: stream-level elements keep the stream prefix, declared in place.
      const copy = new Element(el.name, { 'xmlns:stream': NS.STREAM, ...el.attrs });
      copy.children = el.children;
      this.sendRaw(serialize(copy));
      return;
    }
    if (el.attrs.xmlns === undefined) {
      const copy = new Element(el.name, { xmlns: NS.CLIENT, ...el.attrs });
      copy.children = el.children;
      this.sendRaw(serialize(copy));
      return;
    }
    this.sendRaw(serialize(el));
  }

  sendShared(stanza: SharedStanza, to: string): void {
    this.sendRaw(stanza.text(to, false));
  }

  closeStream(): void {
    if (this.closing || this.closed) return;
    this.closing = true;
    this.sendRaw(serialize(new Element('close', { xmlns: NS.FRAMING })));
    // RFC 7395 §3.6: the server closes the WebSocket after sending <close/> ...
    this.ws.close(1000);
    setTimeout(() => this.ws.terminate(), 2000).unref();
  }

  restart(): void {
    // Nothing to reset: every WebSocket message is parsed on its own.
  }

  setMaxElementBytes(bytes: number): void {
    this.maxElementBytes = bytes;
  }

  private binding: ChannelBinding | undefined;

  channelBinding(): ChannelBinding | undefined {
    const tls = this.opts.tlsSocket;
    if (!(tls instanceof TLSSocket)) return undefined;
    this.binding ??= tlsChannelBinding(tls, 'server');
    return this.binding;
  }

  startTls(): Promise<void> {
    return Promise.reject(new Error('STARTTLS is not defined for WebSocket (RFC 7395 §3.8: use wss)'));
  }

  destroy(): void {
    this.ws.terminate();
  }

  /** True while the session has asked not to read (see {@link pauseReading}). */
  private readPaused = false;
  /**
   * Messages `ws` had already read when reading paused, kept unparsed until it resumes:
   * at most one socket read's worth (ws's `pause()` stops the socket, not its receiver).
   */
  private backlog: Array<{ data: RawData; isBinary: boolean }> = [];

  pauseReading(): void {
    this.readPaused = true;
    this.ws.pause();
  }

  resumeReading(): void {
    if (!this.readPaused) return;
    this.readPaused = false;
    while (this.backlog.length > 0 && !this.readPaused) {
      const next = this.backlog.shift()!;
      this.onMessage(next.data, next.isBinary);
    }
    if (!this.readPaused) this.ws.resume();
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    if (this.closed || this.failed) return;
    if (this.readPaused) {
      this.backlog.push({ data, isBinary });
      return;
    }
    this.touch();
    const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    this.events?.onBytes?.(buf.length);
    if (isBinary) return this.fail(new XmlError('bad-format', 'RFC 7395 §3.2: XMPP frames are text frames'));
    if (buf.length > this.maxElementBytes) {
      return this.fail(new XmlError('policy-violation', `element of ${buf.length} bytes exceeds ${this.maxElementBytes}`));
    }
    let el: Element;
    try {
      el = parseElement(buf.toString('utf8'), { defaultNs: NS.CLIENT, maxDepth: this.opts.maxDepth, maxBytes: this.maxElementBytes });
    } catch (err) {
      if (err instanceof XmlError) return this.fail(err);
      throw err;
    }
    if (el.attrs.xmlns === NS.FRAMING && el.name === 'open') {
      // Null prototype: the client's attribute names (`__proto__`, `constructor`) index it.
      const attrs: StreamAttrs = Object.create(null) as StreamAttrs;
      for (const [k, v] of Object.entries(el.attrs)) if (k !== 'xmlns' && typeof v === 'string') attrs[k] = v;
      this.events?.onStreamStart(attrs, NS.CLIENT);
      return;
    }
    if (el.attrs.xmlns === NS.FRAMING && el.name === 'close') {
      this.events?.onStreamEnd();
      return;
    }
    this.events?.onElement(el);
  }

  private fail(err: XmlError): void {
    this.failed = true;
    this.events?.onXmlError(err);
  }

  private touch(): void {
    if (this.idleTimer) this.idleTimer.refresh();
    else this.idleTimer = setTimeout(() => this.events?.onIdle(), this.opts.idleTimeoutMs).unref();
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.events?.onClosed();
  }

  private corked = false;

  private sendRaw(text: string): void {
    if (this.closed || this.ws.readyState !== this.ws.OPEN) return;
    const socket = this.opts.socket;
    if (socket && !this.corked && !socket.destroyed) {
      this.corked = true;
      socket.cork();
      setImmediate(() => {
        this.corked = false;
        socket.uncork();
      });
    }
    this.ws.send(text);
    this.sendGuard.check(this.ws.bufferedAmount, this.events, () => this.ws.terminate());
  }
}
