/**
 * Why a connection or a negotiation step failed. `code` is stable; `reason` is short and
 * meant for counting (the load generator groups failures by it): a defined condition such
 * as `not-authorized` where the server gave one. `received` is the server's element as it
 * was written, when there is one.
 */
export type ClientErrorCode =
  /** TCP connect / WebSocket handshake failed or timed out. */
  | 'connect'
  /** Nothing (or not the awaited element) arrived in time. */
  | 'timeout'
  /** The connection or the stream closed first. */
  | 'closed'
  /** The server sent a stream error (RFC 6120 §4.9); `reason` is its condition. */
  | 'stream-error'
  /** Something else than `<stream:features>` arrived after the stream header. */
  | 'no-features'
  /** The requested SASL mechanism is not among the offered ones (RFC 6120 §6.4.1). */
  | 'not-offered'
  /** SASL failed (RFC 6120 §6.5); `reason` is the failure's condition. */
  | 'sasl-failure'
  /** SCRAM: the server-first message is unusable or the server signature is wrong (RFC 5802 §5.1, §9). */
  | 'server-signature'
  /** No `<bind/>` feature after SASL (RFC 6120 §7.2). */
  | 'no-bind'
  /** The bind request was refused or answered without a JID (RFC 6120 §7.6.2); `reason` is the stanza error condition. */
  | 'bind-failed'
  /** The legacy session request was refused (RFC 3921 §3); `reason` is the stanza error condition. */
  | 'session-failed';

/** A failure of the client side; `phase` is `connect`, `login` (stream, SASL) or `bind` (bind, session). */
export class ClientError extends Error {
  readonly code: ClientErrorCode;
  readonly phase: 'connect' | 'login' | 'bind';
  readonly reason: string;
  readonly received: string | undefined;

  constructor(code: ClientErrorCode, phase: 'connect' | 'login' | 'bind', reason: string, received?: string) {
    super(`${phase}: ${reason}${received === undefined ? '' : `: ${received}`}`);
    this.name = 'ClientError';
    this.code = code;
    this.phase = phase;
    this.reason = reason;
    this.received = received;
  }
}
