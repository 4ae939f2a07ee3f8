// RFC 5802 §5 (SCRAM-SHA-1) and RFC 7677 (SCRAM-SHA-256), server side, without channel
// binding (the -PLUS variants are not offered):
//   C: client-first-message     n,,n=user,r=<c-nonce>
//   S: server-first-message     r=<c-nonce><s-nonce>,s=<salt>,i=<iterations>
//   C: client-final-message     c=biws,r=<c-nonce><s-nonce>,p=<ClientProof>
//   S: server-final-message     v=<ServerSignature>          (as <success/> data)
// §6: a client that supports channel binding but thinks the server does not sends "y";
// we advertise no -PLUS mechanism, so the client is right and "y" is accepted. "p=" asks
// for channel binding, which we do not support: failure.
// §5.1 (c): the client sends back the base64 of the GS2 header and channel binding data;
// without channel binding that is the GS2 header alone, and it must match the one received.
// §5.1 (r): the client's final nonce must be the whole nonce the server sent, which starts
// with the client's own.

import { randomBytes, timingSafeEqual } from 'node:crypto';
import { isOwnBareJid } from './authzid.js';
import type { SaslBackend } from './backend.js';
import type { MechanismOptions } from './create-mechanism.js';
import { decodeCredential, type DecodedCredential } from './credentials.js';
import { decoyCredential } from './decoy-credential.js';
import { ExchangeFailure, malformed, SaslError } from './errors.js';
import { MechanismBase } from './mechanism-base.js';
import { h, hmac, xor, type ScramHash } from './scram-crypto.js';
import { NONCE, parseClientFinal, parseClientFirst } from './scram-messages.js';
import type { SaslStep } from './server-mechanism.js';
import { decodeUtf8 } from './utf8.js';

interface AwaitingFinal {
  gs2Header: string;
  username: string;
  authzid: string | undefined;
  nonce: string;
  /** client-first-message-bare "," server-first-message */
  authPrefix: string;
  credential: DecodedCredential;
  known: boolean;
}

function serverNonce(generate: (() => string) | undefined): string {
  const nonce = generate ? generate() : randomBytes(18).toString('base64');
  if (!NONCE.test(nonce)) throw new SaslError('invalid-options', 'server nonce must be printable ASCII without ","');
  return nonce;
}

/** A SCRAM exchange (RFC 5802 / RFC 7677) for one hash function. */
export class ScramMechanism extends MechanismBase {
  readonly name: string;
  readonly #hash: ScramHash;
  readonly #backend: SaslBackend;
  readonly #opts: MechanismOptions;
  #final: AwaitingFinal | undefined;

  constructor(hash: ScramHash, backend: SaslBackend, opts: MechanismOptions = {}) {
    super();
    this.name = hash.mechanism;
    this.#hash = hash;
    this.#backend = backend;
    this.#opts = opts;
  }

  protected async receive(data: Buffer): Promise<SaslStep> {
    if (data.length === 0) malformed('empty response');
    const text = decodeUtf8(data);
    return this.#final === undefined ? this.#clientFirst(text) : this.#clientFinal(text, this.#final);
  }

  async #clientFirst(text: string): Promise<SaslStep> {
    const first = parseClientFirst(text);
    if (first.authzid !== undefined && !isOwnBareJid(first.authzid, first.username)) {
      throw new ExchangeFailure('invalid-authzid', 'authzid must be your own bare JID');
    }
    const stored = (await this.#backend.getCredentials(first.username))?.[this.#hash.mechanism];
    const credential =
      stored === undefined
        ? decoyCredential(this.#hash, first.username, this.#opts.decoySecret, this.#opts.decoyIterations)
        : decodeCredential(stored, this.#hash);
    const nonce = first.clientNonce + serverNonce(this.#opts.nonce);
    const serverFirst = `r=${nonce},s=${credential.salt.toString('base64')},i=${credential.iterations}`;
    this.#final = {
      gs2Header: first.gs2Header,
      username: first.username,
      authzid: first.authzid,
      nonce,
      authPrefix: `${first.bare},${serverFirst}`,
      credential,
      known: stored !== undefined,
    };
    return { kind: 'challenge', data: Buffer.from(serverFirst, 'utf8') };
  }

  async #clientFinal(text: string, state: AwaitingFinal): Promise<SaslStep> {
    const final = parseClientFinal(text);
    if (final.channelBinding !== Buffer.from(state.gs2Header, 'utf8').toString('base64')) {
      throw new ExchangeFailure('not-authorized', 'channel binding data does not match');
    }
    if (final.nonce !== state.nonce) throw new ExchangeFailure('not-authorized', 'nonce does not match');
    if (final.proof.length !== this.#hash.length) malformed('proof has the wrong length');

    const authMessage = `${state.authPrefix},${final.withoutProof}`;
    const { storedKey, serverKey } = state.credential;
    const clientKey = xor(final.proof, hmac(this.#hash, storedKey, authMessage));
    // Constant time, and the decoy of an unknown user is checked like a real credential.
    const proofOk = timingSafeEqual(h(this.#hash, clientKey), storedKey);
    if (!proofOk || !state.known) throw new ExchangeFailure('not-authorized');

    const verifier = `v=${hmac(this.#hash, serverKey, authMessage).toString('base64')}`;
    return {
      kind: 'success',
      data: Buffer.from(verifier, 'utf8'),
      username: state.username,
      ...(state.authzid === undefined ? {} : { authzid: state.authzid }),
    };
  }
}
