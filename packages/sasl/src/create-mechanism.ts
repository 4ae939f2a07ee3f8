// RFC 6120 §6.3.3: the mechanisms the gateway offers, strongest first, and the factory
// that starts an exchange for the one the client picked.

import type { SaslBackend } from './backend.js';
import { PlainMechanism } from './plain-mechanism.js';
import { SCRAM_SHA_1, SCRAM_SHA_256 } from './scram-crypto.js';
import { ScramMechanism } from './scram-mechanism.js';
import type { ServerMechanism } from './server-mechanism.js';

/** Mechanism names `createMechanism` knows, in order of preference. */
export const SUPPORTED_MECHANISMS = ['SCRAM-SHA-256', 'SCRAM-SHA-1', 'PLAIN'] as const;

/** One of `SUPPORTED_MECHANISMS`. */
export type SupportedMechanism = (typeof SUPPORTED_MECHANISMS)[number];

/** Options for `createMechanism`; only SCRAM uses them. */
export interface MechanismOptions {
  /** Makes the server part of the SCRAM nonce (printable ASCII without `,`); for test vectors. Default: 18 random octets in base64. */
  nonce?: () => string;
  /** Key for the salts shown for unknown usernames; give all gateways the same one. Default: random per process. */
  decoySecret?: Buffer;
  /** Iteration count shown for unknown usernames; set it to the one accounts are created with. Default 4096. */
  decoyIterations?: number;
}

/**
 * Starts a server-side exchange for mechanism `name` (case-sensitive, RFC 4422 §3.1).
 * @returns the mechanism, or undefined when `name` is not one of `SUPPORTED_MECHANISMS`
 *   (answer `invalid-mechanism`).
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
    case 'PLAIN':
      return new PlainMechanism(backend);
    default:
      return undefined;
  }
}
