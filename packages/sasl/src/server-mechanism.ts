// RFC 4422 §3 / RFC 6120 §6.4: the server side of a SASL exchange as a state machine.
// The gateway turns each step into `<challenge/>`, `<success/>` or `<failure/>`.

import type { SaslFailureCondition } from './errors.js';

/** What the server answers to one client message. */
export type SaslStep =
  /** Send `<challenge/>` with `data` (possibly empty) and wait for a `<response/>`. */
  | { kind: 'challenge'; data: Buffer }
  /**
   * Send `<success/>` with `data` as additional data, if any. `username` is the
   * authentication identity exactly as the client sent it (decoded, not normalised);
   * `authzid` the requested authorisation identity, if one was given.
   */
  | { kind: 'success'; data?: Buffer; username: string; authzid?: string }
  /** Send `<failure/>` with `condition` and optional `<text/>`. */
  | { kind: 'failure'; condition: SaslFailureCondition; text?: string };

/**
 * One SASL exchange on the server. Call `start` once, then `step` for each `<response/>`
 * while the last step was a challenge; await each call before making the next. After a
 * success or failure the exchange is over and any further call yields a failure.
 * Rejects only when the backend rejects (the exchange is then over too; answer with
 * `temporary-auth-failure`).
 */
export interface ServerMechanism {
  /** The IANA mechanism name, e.g. `SCRAM-SHA-256`. */
  readonly name: string;
  /**
   * The authentication identity the client sent (RFC 4422 §2 authcid: PLAIN's authcid, RFC
   * 4616 §2; SCRAM's `n=` username with `=2C`/`=3D` decoded, RFC 5802 §5.1), exactly as sent
   * (not normalised, possibly empty), once the message carrying it was parsed; undefined
   * before that or when that message was malformed before the name. For logging failed
   * logins; it never holds a password or proof. Reading it changes nothing in the exchange.
   */
  readonly authcid: string | undefined;
  /**
   * Begins the exchange (`<auth/>`).
   * @param initial - the initial response: undefined when the client sent none, an empty
   *   buffer when it sent `=` (RFC 6120 §6.4.2).
   */
  start(initial: Buffer | undefined): Promise<SaslStep>;
  /** Handles a `<response/>` (decoded from base64). */
  step(response: Buffer): Promise<SaslStep>;
  /** Ends the exchange because the client sent `<abort/>`; returns the `aborted` failure. */
  abort(): SaslStep;
}
