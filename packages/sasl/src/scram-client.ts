// The client side of SCRAM (RFC 5802 §3, §5; SCRAM-SHA-256: RFC 7677), for the load
// generator and the test kit: one implementation over the same functions the server uses.
// The -PLUS variants (RFC 5802 §6) take the channel binding data from the caller, who reads
// it from its TLS socket (`tlsChannelBinding(socket, 'client')`).
import { randomBytes, timingSafeEqual } from 'node:crypto';
import saslprep from '@mongodb-js/saslprep';
import { deriveKeys, hi, hmac, SCRAM_SHA_1, SCRAM_SHA_256, xor, type ScramHash } from './scram-crypto.js';

/** A SCRAM mechanism the client speaks without channel binding. */
export type ScramMechanism = 'SCRAM-SHA-1' | 'SCRAM-SHA-256';
/** The channel-binding variants (RFC 5802 §6). */
export type ScramPlusMechanism = 'SCRAM-SHA-1-PLUS' | 'SCRAM-SHA-256-PLUS';

const HASHES: ReadonlyMap<ScramMechanism | ScramPlusMechanism, ScramHash> = new Map([
  ['SCRAM-SHA-1', SCRAM_SHA_1],
  ['SCRAM-SHA-256', SCRAM_SHA_256],
  ['SCRAM-SHA-1-PLUS', SCRAM_SHA_1],
  ['SCRAM-SHA-256-PLUS', SCRAM_SHA_256],
]);

/** How a {@link ScramClient} fills the GS2 header (RFC 5802 §7) and `c=`. */
export interface ScramClientOptions {
  /**
   * Required for a -PLUS mechanism, refused for the others: the channel binding type
   * (e.g. `tls-exporter`, sent as `p=<type>`) and this connection's data for it, which
   * `c=` carries after the GS2 header.
   */
  channelBinding?: { type: string; data: Buffer };
  /**
   * The GS2 flag of a mechanism without channel binding: `n` (default: the client does not
   * bind) or `y` (it could, but the server offered no -PLUS; RFC 5802 §6).
   */
  flag?: 'n' | 'y';
}

/**
 * One client SCRAM exchange, step by step; each message is the SASL payload before base64.
 * Username and password go through SASLprep (RFC 4013 as query strings, i.e. unassigned code
 * points allowed: what a user typed, RFC 5802 §2.2); the username is escaped per §5.1 (`=` → `=3D`,
 * `,` → `=2C`). PBKDF2 runs on libuv's thread pool, so a burst of logins does not stall the
 * event loop (the load generator measures latency on it).
 */
export class ScramClient {
  readonly mechanism: ScramMechanism | ScramPlusMechanism;
  readonly #hash: ScramHash;
  /** gs2-header: "n,,", "y,," or "p=<type>,," (no authzid). */
  readonly #gs2Header: string;
  /** base64(gs2-header || channel binding data), the value of `c=`. */
  readonly #cbInput: string;
  readonly #password: string;
  readonly #clientNonce: string;
  readonly #clientFirstBare: string;
  #serverSignature: Buffer | undefined;

  /**
   * @param clientNonce - for test vectors only; 18 random bytes in base64 otherwise
   * @throws Error when the username or password is not valid under SASLprep, when a -PLUS
   *   mechanism comes without `opts.channelBinding` (or another with it), or the type is not
   *   a cb-name (RFC 5802 §7)
   */
  constructor(
    mechanism: ScramMechanism | ScramPlusMechanism,
    username: string,
    password: string,
    clientNonce = randomBytes(18).toString('base64'),
    opts: ScramClientOptions = {},
  ) {
    this.mechanism = mechanism;
    this.#hash = HASHES.get(mechanism)!;
    const plus = mechanism.endsWith('-PLUS');
    const cb = opts.channelBinding;
    if (plus !== (cb !== undefined)) throw new Error(`SCRAM: channel binding data is needed with, and only with, a -PLUS mechanism (${mechanism})`);
    if (cb !== undefined && !/^[A-Za-z0-9.-]+$/.test(cb.type)) throw new Error(`SCRAM: invalid channel binding type ${cb.type}`);
    this.#gs2Header = cb !== undefined ? `p=${cb.type},,` : `${opts.flag ?? 'n'},,`;
    const header = Buffer.from(this.#gs2Header, 'utf8');
    this.#cbInput = (cb !== undefined ? Buffer.concat([header, cb.data]) : header).toString('base64');
    this.#password = saslprep(password, { allowUnassigned: true });
    this.#clientNonce = clientNonce;
    const name = saslprep(username, { allowUnassigned: true }).replace(/=/g, '=3D').replace(/,/g, '=2C');
    this.#clientFirstBare = `n=${name},r=${clientNonce}`;
  }

  /** client-first-message (RFC 5802 §7). */
  first(): string {
    return this.#gs2Header + this.#clientFirstBare;
  }

  /**
   * client-final-message for a server-first-message (RFC 5802 §3).
   * @throws Error when the server nonce does not extend ours, or `s` / `i` are missing or invalid
   */
  async final(serverFirst: string): Promise<string> {
    const f = fields(serverFirst);
    const nonce = f.get('r');
    const salt = f.get('s');
    const iterations = Number(f.get('i'));
    if (nonce === undefined || !nonce.startsWith(this.#clientNonce) || nonce.length === this.#clientNonce.length) {
      throw new Error(`SCRAM: the server nonce does not extend the client nonce: ${serverFirst}`);
    }
    if (salt === undefined || !Number.isInteger(iterations) || iterations < 1) throw new Error(`SCRAM: bad server-first-message: ${serverFirst}`);
    const salted = await hi(this.#hash, this.#password, Buffer.from(salt, 'base64'), iterations);
    const clientKey = hmac(this.#hash, salted, 'Client Key');
    const { storedKey, serverKey } = deriveKeys(this.#hash, salted);
    const withoutProof = `c=${this.#cbInput},r=${nonce}`;
    const authMessage = `${this.#clientFirstBare},${serverFirst},${withoutProof}`;
    const proof = xor(clientKey, hmac(this.#hash, storedKey, authMessage));
    this.#serverSignature = hmac(this.#hash, serverKey, authMessage);
    return `${withoutProof},p=${proof.toString('base64')}`;
  }

  /** Whether a server-final-message (`v=…`) proves the server knew the password (RFC 5802 §3). */
  verify(serverFinal: string): boolean {
    const v = fields(serverFinal).get('v');
    if (v === undefined || this.#serverSignature === undefined) return false;
    const got = Buffer.from(v, 'base64');
    return got.length === this.#serverSignature.length && timingSafeEqual(got, this.#serverSignature);
  }
}

/** `a=value` attributes of a SCRAM message (RFC 5802 §5.1), by their one-letter name. */
function fields(message: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of message.split(',')) if (part.charAt(1) === '=') out.set(part.charAt(0), part.slice(2));
  return out;
}
