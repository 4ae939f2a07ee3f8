// @parley/sasl: SASL for XMPP (RFC 6120 §6): the server mechanisms PLAIN (RFC 4616),
// SCRAM-SHA-1 (RFC 5802) and SCRAM-SHA-256 (RFC 7677), with their -PLUS channel-binding
// variants (tls-exporter, tls-server-end-point), on node:crypto, the stored
// credentials they check against, and the client side of SCRAM (test kit, load generator).

export type { SaslBackend } from './backend.js';
export {
  CHANNEL_BINDING_TYPES,
  fixedChannelBinding,
  serverEndPointHash,
  tlsChannelBinding,
  tlsExporter,
  tlsServerEndPoint,
  type ChannelBinding,
  type ChannelBindingType,
} from './channel-binding.js';
export { createMechanism, PLUS_MECHANISMS, SUPPORTED_MECHANISMS, type MechanismOptions, type SupportedMechanism } from './create-mechanism.js';
export type { ScramCredential, StoredCredentials } from './credentials.js';
export { DEFAULT_ITERATIONS, deriveCredentials } from './derive-credentials.js';
export { SaslError, type SaslErrorCode, type SaslFailureCondition } from './errors.js';
export type { SaslStep, ServerMechanism } from './server-mechanism.js';
export { verifyPassword } from './verify-password.js';
export { ScramClient, type ScramClientOptions, type ScramMechanism, type ScramPlusMechanism } from './scram-client.js';
export { DOWNGRADE_CONDITION } from './scram-mechanism.js';
