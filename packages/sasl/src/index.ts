// @parley/sasl: SASL for XMPP (RFC 6120 §6): the server mechanisms PLAIN (RFC 4616),
// SCRAM-SHA-1 (RFC 5802) and SCRAM-SHA-256 (RFC 7677) on node:crypto, the stored
// credentials they check against, and the client side of SCRAM (test kit, load generator).

export type { SaslBackend } from './backend.js';
export { createMechanism, SUPPORTED_MECHANISMS, type MechanismOptions, type SupportedMechanism } from './create-mechanism.js';
export type { ScramCredential, StoredCredentials } from './credentials.js';
export { DEFAULT_ITERATIONS, deriveCredentials } from './derive-credentials.js';
export { SaslError, type SaslErrorCode, type SaslFailureCondition } from './errors.js';
export type { SaslStep, ServerMechanism } from './server-mechanism.js';
export { verifyPassword } from './verify-password.js';
export { ScramClient, type ScramMechanism } from './scram-client.js';
