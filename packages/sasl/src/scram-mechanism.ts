// RFC 5802 §5 (SCRAM-SHA-1) and RFC 7677 (SCRAM-SHA-256), server side, with and without
// channel binding (the -PLUS variants, RFC 5802 §6):
//   C: client-first-message     n,,n=user,r=<c-nonce>        (-PLUS: p=<cb-name>,,n=user,…)
//   S: server-first-message     r=<c-nonce><s-nonce>,s=<salt>,i=<iterations>
//   C: client-final-message     c=<base64(gs2-header [cb-data])>,r=<c-nonce><s-nonce>,p=<ClientProof>
//   S: server-final-message     v=<ServerSignature>          (as <success/> data)
// §6, the GS2 channel binding flag:
//   - a -PLUS mechanism needs "p=<type>" with a type this connection supports
//     (`MechanismOptions.channelBinding`); "n" or "y" there, or another type, is malformed;
//   - a plain mechanism refuses "p=" (binding is negotiated by picking -PLUS);
//   - "y" on a plain mechanism means "I could bind, but you do not offer it": accepted when the
//     server offers no -PLUS on this connection, failed when it does (a downgrade: someone
//     removed -PLUS from the features the client saw).
// §5.1 (c): the client sends back the base64 of the GS2 header followed by the channel
// binding data (none without binding), and it must match ours: else not-authorized (a
// different TLS channel, e.g. a man in the middle, or the wrong type's data).
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

/**
 * The condition for "y" on a plain SCRAM mechanism when -PLUS is offered (RFC 5802 §6:
 * "the server MUST fail authentication"; RFC 6120 §6.5 names no condition for it).
 * `malformed-request`, as Prosody 0.12 answers (observed on TLS 1.2, where it offers
 * SCRAM-SHA-1-PLUS): no credential was checked, and unlike `not-authorized` it does not count
 * towards the failed-login lockout (an honest client whose only binding type we lack, e.g.
 * slixmpp's tls-unique, is not a password guesser).
 */
export const DOWNGRADE_CONDITION = 'malformed-request' as const;

interface AwaitingFinal {
  /** base64 of gs2-header followed by the channel binding data: what `c=` must be. */
  expectedCb: string;
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
  readonly #plus: boolean;
  #final: AwaitingFinal | undefined;

  /** @param plus - the -PLUS variant: channel binding required (RFC 5802 §6) */
  constructor(hash: ScramHash, backend: SaslBackend, opts: MechanismOptions = {}, plus = false) {
    super();
    this.name = plus ? `${hash.mechanism}-PLUS` : hash.mechanism;
    this.#plus = plus;
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
    this.recordAuthcid(first.username);
    const expectedCb = this.#channelBindingInput(first.gs2Header, first.cbindFlag, first.cbName);
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
      expectedCb,
      username: first.username,
      authzid: first.authzid,
      nonce,
      authPrefix: `${first.bare},${serverFirst}`,
      credential,
      known: stored !== undefined,
    };
    return { kind: 'challenge', data: Buffer.from(serverFirst, 'utf8') };
  }

  /**
   * Checks the GS2 flag against the mechanism and this connection (RFC 5802 §6) and returns
   * what `c=` must carry: base64(gs2-header || channel binding data).
   * @throws ExchangeFailure `malformed-request` for a flag that does not fit the mechanism or
   *   a type this connection does not support; {@link DOWNGRADE_CONDITION} for "y" while
   *   -PLUS is offered
   */
  #channelBindingInput(gs2Header: string, flag: 'n' | 'y' | 'p', cbName: string | undefined): string {
    const header = Buffer.from(gs2Header, 'utf8');
    const binding = this.#opts.channelBinding;
    if (!this.#plus) {
      if (flag === 'p') throw new ExchangeFailure('malformed-request', 'channel binding needs a -PLUS mechanism');
      if (flag === 'y' && binding !== undefined && binding.types.length > 0) {
        throw new ExchangeFailure(DOWNGRADE_CONDITION, 'channel binding is offered: use a -PLUS mechanism (RFC 5802 §6)');
      }
      return header.toString('base64');
    }
    if (flag !== 'p') throw new ExchangeFailure('malformed-request', `${this.name} needs channel binding (p=<type>)`);
    const data = binding !== undefined && (binding.types as readonly string[]).includes(cbName!) ? binding.data(cbName!) : undefined;
    if (data === undefined) throw new ExchangeFailure('malformed-request', `channel binding type ${cbName!} is not supported here`);
    return Buffer.concat([header, data]).toString('base64');
  }

  async #clientFinal(text: string, state: AwaitingFinal): Promise<SaslStep> {
    const final = parseClientFinal(text);
    if (final.channelBinding !== state.expectedCb) {
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
