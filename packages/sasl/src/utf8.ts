// SASL messages are UTF-8 (RFC 4616 §2, RFC 5802 §7); anything else is malformed.

import { malformed } from './errors.js';

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Decodes a client message as strict UTF-8 (a BOM is kept, so the text re-encodes to the
 * same octets).
 * @throws ExchangeFailure `malformed-request` when the octets are not UTF-8.
 */
export function decodeUtf8(data: Buffer): string {
  try {
    return decoder.decode(data);
  } catch {
    return malformed('message is not valid UTF-8');
  }
}
