import type { Element } from 'ltx';
import type { ChannelBinding } from '@parley/sasl';
import type { XmlError } from '@parley/xml';
import type { SharedStanza } from '../routing/shared-stanza.js';

/** Attributes of an opening stream header (RFC 6120 §4.7) or RFC 7395 `<open/>`. */
export type StreamAttrs = Record<string, string>;

/**
 * What a transport reports to the session that owns it. One session state machine
 * serves both transports, so TCP's `<stream:stream>` and WebSocket's `<open/>` both
 * arrive as `onStreamStart`, and `</stream:stream>` and `<close/>` both as `onStreamEnd`.
 */
export interface TransportEvents {
  /** A stream header (or RFC 7395 `<open/>`) arrived; `defaultNs` is the content namespace. */
  onStreamStart(attrs: StreamAttrs, defaultNs: string | undefined): void;
  /** One complete top-level element (stanza, SASL, bind, ...), namespaces normalised. */
  onElement(el: Element): void;
  /** The peer closed its stream cleanly. */
  onStreamEnd(): void;
  /** The peer sent XML we refuse; the session answers with this stream error. */
  onXmlError(err: XmlError): void;
  /** Nothing arrived for the configured idle time (RFC 6120 §4.9.3.4 connection-timeout). */
  onIdle(): void;
  /** The connection is gone (after a close from either side, or a network error). */
  onClosed(): void;
  /** `n` bytes were read from the client and are about to be parsed (input rate limits, issue #10). */
  onBytes?(n: number): void;
  /**
   * The client is not taking what we send: more than `limits.maxSendBufferBytes` wait in
   * the socket. The session ends the stream (`resource-constraint`); without this handler
   * the transport drops the connection.
   */
  onSendOverflow?(): void;
}

/**
 * A client connection as the session sees it: framing and serialisation differ between
 * TCP (RFC 6120) and WebSocket (RFC 7395); everything else is the session's business.
 */
export interface Transport {
  readonly kind: 'tcp' | 'websocket';
  /** Remote address, for logs. */
  readonly remote: string;
  /** True once the connection is encrypted (TLS or wss behind a proxy is not detected). */
  readonly secure: boolean;
  /** True when STARTTLS can be offered (TCP with a certificate configured, not yet secure). */
  readonly canStartTls: boolean;
  /**
   * The TLS channel bindings of this connection (RFC 5802 §6 -PLUS mechanisms) when its TLS
   * ends at this gateway (after STARTTLS, direct TLS, wss://); undefined otherwise (no TLS,
   * or ws:// behind a TLS-terminating proxy, whose TLS data we cannot see).
   */
  channelBinding(): ChannelBinding | undefined;
  /** Installs the session's event handlers; call once, before data flows. */
  attach(events: TransportEvents): void;
  /** Sends our stream header (TCP) or `<open/>` (WebSocket). */
  openStream(attrs: StreamAttrs): void;
  /** Sends one top-level element (stanza, features, SASL, stream error). */
  send(el: Element): void;
  /** Sends a stanza serialised once for many recipients, with this recipient's `to`. */
  sendShared(stanza: SharedStanza, to: string): void;
  /** Closes our stream (`</stream:stream>` or `<close/>`) and then the connection. */
  closeStream(): void;
  /** Expect a new stream header from the peer (RFC 6120 §4.3.3 restart after SASL/TLS). */
  restart(): void;
  /** Largest element accepted from now on, in bytes. */
  setMaxElementBytes(bytes: number): void;
  /** Upgrades the connection with TLS (TCP only) after `<proceed/>` was sent, then restarts. */
  startTls(): Promise<void>;
  /** Drops the connection at once, without closing the stream. */
  destroy(): void;
  /**
   * Stops reading the socket (TCP backpressure) until {@link resumeReading}. Elements of a
   * read already being parsed may still arrive, at most a bounded slice's worth.
   */
  pauseReading(): void;
  /** Reads the socket again after {@link pauseReading}. */
  resumeReading(): void;
}

/**
 * Ends a connection whose client does not take what it is sent (issue #10): once more than
 * `maxBytes` (`limits.maxSendBufferBytes`) wait unsent, the session's
 * {@link TransportEvents.onSendOverflow} ends the stream with `resource-constraint`; without
 * that handler the connection is dropped. Trips once.
 */
export class SendBufferGuard {
  private tripped = false;

  constructor(private readonly maxBytes: number) {}

  /** Called after each write with the bytes still unsent. */
  check(pendingBytes: number, events: TransportEvents | undefined, drop: () => void): void {
    if (pendingBytes <= this.maxBytes || this.tripped) return;
    this.tripped = true;
    if (events?.onSendOverflow) events.onSendOverflow();
    else drop();
  }
}
