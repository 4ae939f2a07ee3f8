// What the `authentication failed` log line of a session carries (issue #14 item 4), so that
// operators and fail2ban-style tools can act on failed logins.

/** Longest `username` written to a log line, in Unicode code points. */
export const MAX_LOGGED_USERNAME_CHARS = 256;

/**
 * The fields of one `authentication failed` line (RFC 6120 §6.5 failure), besides the
 * session logger's own bindings (`sessionId`, `transport`, `remote`: none of these is
 * repeated here, so the JSON line has no duplicate key).
 *
 * @param condition - the SASL failure condition sent to the client, e.g. `not-authorized`
 * @param authcid - the authentication identity the client gave (SASL authcid / SCRAM
 *   username, as sent), undefined when the exchange never got that far; written as the JSON
 *   string `username`, cut to {@link MAX_LOGGED_USERNAME_CHARS} code points (the logger
 *   escapes control characters, so it stays one line). Never the password or proof: the
 *   mechanisms do not expose them.
 * @param address - the client's IP address (IPv4-mapped IPv6 as IPv4), `?` or undefined when
 *   unknown (then left out); a TLS-terminating proxy's address on a proxied WebSocket
 * @returns `{ condition, username?, address? }`
 */
export function failedLoginFields(condition: string, authcid: string | undefined, address: string | undefined): Record<string, string> {
  const fields: Record<string, string> = { condition };
  if (authcid !== undefined) fields.username = boundUsername(authcid);
  if (address !== undefined && address !== '' && address !== '?') fields.address = address;
  return fields;
}

/** `name` cut to {@link MAX_LOGGED_USERNAME_CHARS} code points (never inside a surrogate pair). */
function boundUsername(name: string): string {
  // Each code point is at most 2 UTF-16 units: a shorter string needs no counting.
  if (name.length <= MAX_LOGGED_USERNAME_CHARS) return name;
  let out = '';
  let count = 0;
  for (const ch of name) {
    if (count === MAX_LOGGED_USERNAME_CHARS) break;
    out += ch;
    count += 1;
  }
  return out;
}
