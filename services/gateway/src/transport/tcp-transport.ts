import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { Element } from 'ltx';
import { tlsChannelBinding, type ChannelBinding } from '@parley/sasl';
import { NS, StreamParser, serialize, streamHeader, streamFooter } from '@parley/xml';
import { hopNowUs, hopTracing, type HopTrace } from '@parley/bus';
import { deliveryTrace, markIngress, traceWritten } from '../metrics/hop-trace.js';
import type { SharedStanza } from '../routing/shared-stanza.js';
import { SendBufferGuard, type Transport, type TransportEvents, type StreamAttrs } from './transport.js';
import type { TlsCertificates } from './tls-certificates.js';

/**
 * The parser is fed at most this many bytes at a time, and reading can pause between two
 * slices: one socket read (up to 64 KiB) thus yields at most FEED_SLICE_BYTES / 4 elements
 * (`<a/>`) before a pause takes effect, which bounds a session's queue of parsed elements.
 */
export const FEED_SLICE_BYTES = 2048;

/** TCP transports with text queued for a flush (see {@link flushQueuedWrites}). */
const queuedWrites = new Set<TcpTransport>();

/**
 * Writes the text every TCP transport has queued, now, instead of at its `setImmediate`.
 * The delivery consumer calls it after each batch of delivery entries it has handled: what
 * a batch queued for one session still goes out in one socket write, without waiting for the
 * event loop's check phase (issue #15 item 1: on an idle gateway that wait was the largest
 * share of the delivery hop, see bench/README.md "Where a message's time goes").
 */
export function flushQueuedWrites(): void {
  for (const t of queuedWrites) t.flushQueued();
}

export interface TcpTransportOptions {
  maxElementBytes: number;
  maxDepth: number;
  idleTimeoutMs: number;
  /**
   * The certificates (chosen by SNI) for STARTTLS (RFC 6120 §5); STARTTLS is offered only
   * when present. Read at the moment of the upgrade, so a reload applies to later upgrades.
   */
  tls?: TlsCertificates;
  /**
   * The socket is already a server-side TLS socket (XEP-0368 direct TLS): the session counts
   * as encrypted from the start and STARTTLS is not offered.
   */
  directTls?: boolean;
  /** Bytes written but not taken by the client before {@link TransportEvents.onSendOverflow} (`limits.maxSendBufferBytes`). */
  maxSendBufferBytes: number;
}

/**
 * c2s over TCP (RFC 6120 §4): one long-lived XML stream each way. The incoming bytes go
 * through the strict, bounded {@link StreamParser}; outgoing stanzas are written without
 * the redundant `xmlns='jabber:client'`, which the stream header declares.
 *
 * Writes are coalesced: what is sent during one turn of the event loop (e.g. a batch of
 * room deliveries) is queued and written to the socket once, from `setImmediate`; a
 * socket write per 100-byte stanza costs several times more CPU than the stanza. Closing
 * the stream and STARTTLS flush the queue first, so the byte order never changes.
 */
export class TcpTransport implements Transport {
  readonly kind = 'tcp' as const;
  readonly remote: string;
  private socket: Socket;
  private parser: StreamParser;
  private events: TransportEvents | undefined;
  private readonly sendGuard: SendBufferGuard;
  private secured = false;
  /**
   * Set when `<starttls/>` arrives on the plaintext stream: everything the client sends after
   * it, until the TLS handshake is done, is discarded unparsed (RFC 6120 §5.4.3.3: nothing
   * from before TLS may be acted on; prevents STARTTLS command injection).
   */
  private awaitingTls = false;
  private closing = false;
  private closed = false;

  constructor(socket: Socket, private readonly opts: TcpTransportOptions) {
    this.socket = socket;
    this.sendGuard = new SendBufferGuard(opts.maxSendBufferBytes);
    this.remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    this.parser = this.newParser(opts.maxElementBytes);
    this.secured = opts.directTls === true;
    this.wire(socket);
  }

  get secure(): boolean {
    return this.secured;
  }

  get canStartTls(): boolean {
    return !this.secured && this.opts.tls !== undefined;
  }

  /** Computed once per TLS socket, after the handshake. */
  private binding: ChannelBinding | undefined;

  channelBinding(): ChannelBinding | undefined {
    if (!this.secured || !(this.socket instanceof TLSSocket)) return undefined;
    this.binding ??= tlsChannelBinding(this.socket, 'server');
    return this.binding;
  }

  attach(events: TransportEvents): void {
    this.events = events;
  }

  openStream(attrs: StreamAttrs): void {
    this.write(streamHeader(attrs));
  }

  send(el: Element): void {
    this.write(serialize(el, { omitXmlnsOf: NS.CLIENT }), el.attrs.to);
  }

  sendShared(stanza: SharedStanza, to: string): void {
    this.write(stanza.text(to, true), to);
  }

  closeStream(): void {
    if (this.closing || this.closed) return;
    this.closing = true;
    this.write(streamFooter());
    this.flush();
    this.socket.end();
    // RFC 6120 §4.4: wait for the peer's closing tag, but not forever.
    setTimeout(() => this.socket.destroy(), 2000).unref();
  }

  restart(): void {
    this.parser = this.newParser(this.currentMax);
  }

  private currentMax = 0;

  setMaxElementBytes(bytes: number): void {
    this.currentMax = bytes;
    this.parser.setMaxStanzaBytes(bytes);
  }

  async startTls(): Promise<void> {
    const certs = this.opts.tls;
    if (!certs) throw new Error('STARTTLS without a certificate');
    this.flush(); // <proceed/> goes out in the clear, before the handshake
    const plain = this.socket;
    plain.removeAllListeners('data');
    plain.removeAllListeners('close');
    plain.removeAllListeners('error');
    plain.removeAllListeners('timeout');
    const secure = new TLSSocket(plain, certs.socketOptions());
    this.socket = secure;
    this.parser = this.newParser(this.currentMax);
    this.awaitingTls = false;
    this.wire(secure);
    await new Promise<void>((resolve, reject) => {
      secure.once('secure', () => resolve());
      secure.once('error', reject);
    });
    this.secured = true;
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** True while the session has asked not to read (see {@link pauseReading}). */
  private readPaused = false;
  /** The unparsed rest of a read chunk, held while reading is paused (at most one chunk). */
  private backlog: Buffer | undefined;

  pauseReading(): void {
    this.readPaused = true;
    this.socket.pause();
  }

  resumeReading(): void {
    if (!this.readPaused) return;
    this.readPaused = false;
    const rest = this.backlog;
    this.backlog = undefined;
    if (rest && !this.closed && !this.awaitingTls) this.feed(rest);
    if (!this.readPaused && !this.closed) this.socket.resume();
  }

  /** Hands a read chunk to the parser in slices, stopping (and keeping the rest) when reading is paused. */
  private feed(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.closed || this.awaitingTls) return;
      if (this.readPaused) {
        this.backlog = chunk.subarray(offset);
        return;
      }
      const slice = chunk.subarray(offset, offset + FEED_SLICE_BYTES);
      offset += slice.length;
      this.events?.onBytes?.(slice.length);
      this.parser.write(slice);
    }
  }

  private newParser(maxElementBytes: number): StreamParser {
    this.currentMax = maxElementBytes;
    return new StreamParser(
      {
        onStreamStart: (header) => {
          if (!this.awaitingTls) this.events?.onStreamStart(header.attrs, header.defaultNs);
        },
        onElement: (el) => {
          if (this.awaitingTls) return;
          // debug.hopTrace (issue #15): a message's first stamps, `gw.read` and `gw.parsed`.
          if (hopTracing.on && el.name === 'message') markIngress(el, this.readAtUs);
          if (el.name === 'starttls' && el.attrs.xmlns === NS.TLS && this.canStartTls) this.awaitingTls = true;
          this.events?.onElement(el);
        },
        onStreamEnd: () => {
          if (!this.awaitingTls) this.events?.onStreamEnd();
        },
        onError: (err) => {
          if (!this.awaitingTls) this.events?.onXmlError(err);
        },
      },
      { maxStanzaBytes: maxElementBytes, maxDepth: this.opts.maxDepth },
    );
  }

  private wire(socket: Socket): void {
    // Bytes held back from before STARTTLS must never reach the new stream (RFC 6120 §5.4.3.3).
    this.backlog = undefined;
    socket.setNoDelay(true);
    socket.setTimeout(this.opts.idleTimeoutMs);
    socket.on('data', (chunk: Buffer) => {
      if (hopTracing.on) this.readAtUs = hopNowUs();
      if (!this.closed && !this.awaitingTls) this.feed(chunk);
    });
    socket.on('timeout', () => {
      this.events?.onIdle();
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      if (this.closed) return;
      this.closed = true;
      this.events?.onClosed();
    });
  }

  /** Text queued for the next {@link flush}. */
  private pending = '';
  /** The scheduled flush, while text waits in {@link pending} (cancelled when written earlier). */
  private flushTimer: NodeJS.Immediate | undefined;
  /** debug.hopTrace: when the last `data` event came (µs since the epoch). */
  private readAtUs = 0;
  /** debug.hopTrace: traced deliveries in {@link pending}, logged at the flush that writes them. */
  private traced: Array<{ trace: HopTrace; to: string | undefined; queued: number }> | undefined;

  private write(data: string, to?: string): void {
    if (this.closed || this.socket.destroyed) return;
    this.pending += data;
    if (deliveryTrace.current !== undefined) (this.traced ??= []).push({ trace: deliveryTrace.current, to, queued: hopNowUs() });
    if (this.flushTimer === undefined) {
      queuedWrites.add(this);
      this.flushTimer = setImmediate(() => this.flush());
    }
  }

  /** Writes what is queued now, when a flush is scheduled (see {@link flushQueuedWrites}). */
  flushQueued(): void {
    if (this.flushTimer !== undefined) this.flush();
  }

  /** Writes what is queued, in one socket write. */
  private flush(): void {
    if (this.flushTimer !== undefined) clearImmediate(this.flushTimer);
    this.flushTimer = undefined;
    queuedWrites.delete(this);
    const data = this.pending;
    if (data === '') return;
    this.pending = '';
    if (this.closed || this.socket.destroyed) return;
    this.socket.write(data);
    if (this.traced !== undefined) {
      const at = hopNowUs();
      for (const { trace, to, queued } of this.traced) traceWritten(trace, to, queued, at);
      this.traced = undefined;
    }
    this.sendGuard.check(this.socket.writableLength, this.events, () => this.socket.destroy());
  }
}
