// RFC 7622: every JID that comes from outside (path, query, body) is parsed and normalised
// here before it reaches Redis or a room, so that `Alice@Example.COM` and `alice@example.com`
// are one account. An invalid JID is a 400 `invalid-jid`, never a 500.
import { JidError, parseJid, type Jid } from '@parley/jid';
import { ApiError } from './errors.js';

/** What kind of JID a field must hold. */
export type JidKind = 'any' | 'bare' | 'full' | 'user' | 'room';

/**
 * Parses and normalises a JID from a request.
 * @param what - the field's name, for the message (e.g. `path parameter jid`)
 * @param kind - `bare`: no resource; `full`: localpart and resource; `user`: a bare JID
 *   with a localpart; `room`: like `user`, on `mucDomain` when given
 * @throws ApiError `invalid-jid` with `details: { field, value, reason }`
 */
export function parseJidInput(value: string, what: string, kind: JidKind = 'any', mucDomain?: string): Jid {
  let jid: Jid;
  try {
    jid = parseJid(value);
  } catch (err) {
    if (err instanceof JidError) throw invalid(value, what, err.message);
    throw err;
  }
  if ((kind === 'bare' || kind === 'user' || kind === 'room') && !jid.isBare()) throw invalid(value, what, 'expected a bare JID (no resource)');
  if ((kind === 'user' || kind === 'room' || kind === 'full') && jid.local === undefined) throw invalid(value, what, 'expected a JID with a localpart (name@domain)');
  if (kind === 'full' && jid.isBare()) throw invalid(value, what, 'expected a full JID (name@domain/resource)');
  if (kind === 'room' && mucDomain !== undefined && jid.domain !== mucDomain) throw invalid(value, what, `rooms live on ${mucDomain}`);
  return jid;
}

function invalid(value: string, field: string, reason: string): ApiError {
  return new ApiError('invalid-jid', `${field}: ${reason}`, { field, value, reason });
}
