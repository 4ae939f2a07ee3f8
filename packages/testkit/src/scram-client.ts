import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';

/*
 * The client side of SCRAM (RFC 5802 §3, §5; SCRAM-SHA-256 in RFC 7677), without channel
 * binding (gs2 header "n,,"). Usernames are escaped per RFC 5802 §5.1 ("=" → "=3D",
 * "," → "=2C"); SASLprep is not applied, so use ASCII credentials.
 */

/** A SCRAM mechanism this client speaks. */
export type ScramMechanism = 'SCRAM-SHA-1' | 'SCRAM-SHA-256';

const HASH: Record<ScramMechanism, 'sha1' | 'sha256'> = { 'SCRAM-SHA-1': 'sha1', 'SCRAM-SHA-256': 'sha256' };
const GS2_HEADER = 'n,,';

/** One SCRAM exchange, step by step; each message is the SASL payload before base64. */
export class ScramClient {
  readonly mechanism: ScramMechanism;
  readonly #hash: 'sha1' | 'sha256';
  readonly #password: string;
  readonly #clientFirstBare: string;
  readonly #clientNonce: string;
  #expectedServerSignature: Buffer | undefined;

  /** @param clientNonce - for test vectors only; random (24 bytes, base64) otherwise */
  constructor(mechanism: ScramMechanism, username: string, password: string, clientNonce = randomBytes(24).toString('base64')) {
    this.mechanism = mechanism;
    this.#hash = HASH[mechanism];
    this.#password = password;
    this.#clientNonce = clientNonce;
    this.#clientFirstBare = `n=${username.replace(/=/g, '=3D').replace(/,/g, '=2C')},r=${clientNonce}`;
  }

  /** client-first-message */
  first(): string {
    return GS2_HEADER + this.#clientFirstBare;
  }

  /**
   * client-final-message for the server-first-message.
   * @throws Error when the server's nonce does not extend ours or a field is missing
   */
  final(serverFirst: string): string {
    const fields = parseFields(serverFirst);
    const nonce = fields.get('r');
    const salt = fields.get('s');
    const iterations = Number(fields.get('i'));
    if (nonce === undefined || !nonce.startsWith(this.#clientNonce) || nonce.length === this.#clientNonce.length) {
      throw new Error(`SCRAM: server nonce does not extend the client nonce: ${serverFirst}`);
    }
    if (salt === undefined || !Number.isInteger(iterations) || iterations < 1) throw new Error(`SCRAM: bad server-first-message: ${serverFirst}`);

    const hmac = (key: Buffer, text: string) => createHmac(this.#hash, key).update(text).digest();
    const keyLength = this.#hash === 'sha1' ? 20 : 32;
    const saltedPassword = pbkdf2Sync(this.#password, Buffer.from(salt, 'base64'), iterations, keyLength, this.#hash);
    const clientKey = hmac(saltedPassword, 'Client Key');
    const storedKey = createHash(this.#hash).update(clientKey).digest();
    const withoutProof = `c=${Buffer.from(GS2_HEADER).toString('base64')},r=${nonce}`;
    const authMessage = `${this.#clientFirstBare},${serverFirst},${withoutProof}`;
    const clientSignature = hmac(storedKey, authMessage);
    const proof = Buffer.alloc(clientKey.length);
    for (let i = 0; i < proof.length; i++) proof[i] = clientKey[i]! ^ clientSignature[i]!;
    this.#expectedServerSignature = hmac(hmac(saltedPassword, 'Server Key'), authMessage);
    return `${withoutProof},p=${proof.toString('base64')}`;
  }

  /** Whether the server-final-message proves the server knows the password (`v=`). */
  verify(serverFinal: string): boolean {
    const v = parseFields(serverFinal).get('v');
    if (v === undefined || this.#expectedServerSignature === undefined) return false;
    const got = Buffer.from(v, 'base64');
    return got.length === this.#expectedServerSignature.length && timingSafeEqual(got, this.#expectedServerSignature);
  }
}

function parseFields(message: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of message.split(',')) {
    const eq = part.indexOf('=');
    if (eq === 1) out.set(part.slice(0, 1), part.slice(2));
  }
  return out;
}
