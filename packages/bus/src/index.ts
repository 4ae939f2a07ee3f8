export { keySpace, DELIVERY_GROUP } from './keys.js';
export type { KeySpace } from './keys.js';
export { parseSessionRecord } from './session-record.js';
export type { SessionRecord } from './session-record.js';
export { encodeEnvelope, decodeEnvelope } from './envelope.js';
export type { Envelope } from './envelope.js';
