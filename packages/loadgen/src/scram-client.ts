/**
 * The client side of SASL SCRAM-SHA-1 (RFC 5802 §3, §5) without channel binding (gs2
 * header `n,,`), on node:crypto. The password goes through SASLprep (RFC 4013, as a query
 * string: RFC 5802 §2.2), usernames are escaped per §5.1 (`=` → `=3D`, `,` → `=2C`).
 * PBKDF2 runs on libuv's thread pool (async) so a login burst does not stall the event
 * loop that measures message latency. `@parley/sasl` is server-side only, hence this file.
 */
import { createHash, createHmac, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';
import saslprep from '@mongodb-js/saslprep';

const GS2_HEADER = 'n,,';

/** One SCRAM-SHA-1 exchange; every message is the SASL payload before base64. */
export class ScramSha1Client {
  readonly #password: string;
  readonly #clientNonce: string;
  readonly #clientFirstBare: string;
  #serverSignature: Buffer | undefined;

  /** @param clientNonce - for test vectors only; 18 random bytes in base64 otherwise */
  constructor(username: string, password: string, clientNonce = randomBytes(18).toString('base64')) {
    this.#password = saslprep(password, { allowUnassigned: true });
    this.#clientNonce = clientNonce;
    this.#clientFirstBare = `n=${saslprep(username, { allowUnassigned: true }).replace(/=/g, '=3D').replace(/,/g, '=2C')},r=${clientNonce}`;
  }

  /** client-first-message */
  first(): string {
    return GS2_HEADER + this.#clientFirstBare;
  }

  /**
   * client-final-message for a server-first-message.
   * @throws Error when the server nonce does not extend ours, or `s` / `i` are missing
   */
  async final(serverFirst: string): Promise<string> {
    const f = fields(serverFirst);
    const nonce = f.get('r');
    const salt = f.get('s');
    const iterations = Number(f.get('i'));
    if (nonce === undefined || !nonce.startsWith(this.#clientNonce) || nonce.length === this.#clientNonce.length) throw new Error(`SCRAM: bad server nonce in ${serverFirst}`);
    if (salt === undefined || !Number.isInteger(iterations) || iterations < 1) throw new Error(`SCRAM: bad server-first-message ${serverFirst}`);
    const salted = await new Promise<Buffer>((resolve, reject) =>
      pbkdf2(this.#password, Buffer.from(salt, 'base64'), iterations, 20, 'sha1', (err, key) => (err ? reject(err) : resolve(key))),
    );
    const hmac = (key: Buffer, text: string) => createHmac('sha1', key).update(text).digest();
    const clientKey = hmac(salted, 'Client Key');
    const storedKey = createHash('sha1').update(clientKey).digest();
    const withoutProof = `c=${Buffer.from(GS2_HEADER).toString('base64')},r=${nonce}`;
    const authMessage = `${this.#clientFirstBare},${serverFirst},${withoutProof}`;
    const signature = hmac(storedKey, authMessage);
    const proof = Buffer.alloc(clientKey.length);
    for (let i = 0; i < proof.length; i++) proof[i] = clientKey[i]! ^ signature[i]!;
    this.#serverSignature = hmac(hmac(salted, 'Server Key'), authMessage);
    return `${withoutProof},p=${proof.toString('base64')}`;
  }

  /** Whether a server-final-message (`v=…`) proves the server knew the password. */
  verify(serverFinal: string): boolean {
    const v = fields(serverFinal).get('v');
    if (v === undefined || this.#serverSignature === undefined) return false;
    const got = Buffer.from(v, 'base64');
    return got.length === this.#serverSignature.length && timingSafeEqual(got, this.#serverSignature);
  }
}

function fields(message: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of message.split(',')) if (part.charAt(1) === '=') out.set(part.charAt(0), part.slice(2));
  return out;
}
