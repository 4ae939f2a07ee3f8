// RFC 6120 §6.3.3: the mechanisms the gateway offers, strongest first, and the factory
// that starts an exchange for the one the client picked.

import type { SaslBackend } from './backend.js';
import type { ChannelBinding } from './channel-binding.js';
import { PlainMechanism } from './plain-mechanism.js';
import { SCRAM_SHA_1, SCRAM_SHA_256 } from './scram-crypto.js';
import { ScramMechanism } from './scram-mechanism.js';
import type { ServerMechanism } from './server-mechanism.js';

/** Mechanism names `createMechanism` knows, in order of preference. */
export const SUPPORTED_MECHANISMS = ['SCRAM-SHA-256', 'SCRAM-SHA-1', 'PLAIN'] as const;

/** One of `SUPPORTED_MECHANISMS`. */
export type SupportedMechanism = (typeof SUPPORTED_MECHANISMS)[number];

/**
 * The channel-binding variants (RFC 5802 §6, RFC 7677), strongest first; offer them before
 * `SUPPORTED_MECHANISMS`, and only on a connection with channel binding data (TLS that ends
 * at this server), passing that as `MechanismOptions.channelBinding`.
 */
export const PLUS_MECHANISMS = ['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-1-PLUS'] as const;

/** Options for `createMechanism`; only SCRAM uses them. */
export interface MechanismOptions {
  /** Makes the server part of the SCRAM nonce (printable ASCII without `,`); for test vectors. Default: 18 random octets in base64. */
  nonce?: () => string;
  /** Key for the salts shown for unknown usernames; give all gateways the same one. Default: random per process. */
  decoySecret?: Buffer;
  /** Iteration count shown for unknown usernames; set it to the one accounts are created with. Default 4096. */
  decoyIterations?: number;
  /**
   * This connection's channel bindings (TLS ending at this server). Needed for the -PLUS
   * mechanisms; for the plain SCRAM mechanisms its presence with a type makes the GS2 flag
   * `y` fail (RFC 5802 §6: the client was shown no -PLUS, a downgrade). Leave it out when
   * -PLUS is not offered.
   */
  channelBinding?: ChannelBinding;
}

/**
 * Starts a server-side exchange for mechanism `name` (case-sensitive, RFC 4422 §3.1).
 * @returns the mechanism, or undefined when `name` is not one of `SUPPORTED_MECHANISMS`,
 *   or is one of `PLUS_MECHANISMS` without `opts.channelBinding` listing a type (answer
 *   `invalid-mechanism`).
 */
export function createMechanism(
  name: string,
  backend: SaslBackend,
  opts: MechanismOptions = {},
): ServerMechanism | undefined {
  switch (name) {
    case 'SCRAM-SHA-256':
      return new ScramMechanism(SCRAM_SHA_256, backend, opts);
    case 'SCRAM-SHA-1':
      return new ScramMechanism(SCRAM_SHA_1, backend, opts);
    case 'SCRAM-SHA-256-PLUS':
    case 'SCRAM-SHA-1-PLUS':
      if (!opts.channelBinding || opts.channelBinding.types.length === 0) return undefined;
      return new ScramMechanism(name === 'SCRAM-SHA-1-PLUS' ? SCRAM_SHA_1 : SCRAM_SHA_256, backend, opts, true);
    case 'PLAIN':
      return new PlainMechanism(backend);
    default:
      return undefined;
  }
}
