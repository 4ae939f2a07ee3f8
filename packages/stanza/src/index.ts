// @parley/stanza: typed stanza helpers and stanza/stream error builders (RFC 6120 §4.9, §8).
export {
  DEFAULT_ERROR_TYPE,
  type StanzaErrorCondition,
  type StanzaErrorType,
  type StreamErrorCondition,
} from './errors.js';
export { stanzaError, errorReply, type StanzaErrorOptions } from './stanza-error.js';
export { streamError, type StreamErrorOptions } from './stream-error.js';
export { stanzaKind, isErrorType, iqPayload, iqResult, type StanzaKind } from './stanza.js';
export { HINTS_NS, keepForOffline, keepPermanently, storageHints, type StorageHints } from './storage-hints.js';
