// RFC 5802 §5.1: "The characters ',' or '=' in usernames are sent as '=2C' and '=3D'
// respectively. If the server receives a username that contains '=' not followed by
// either '2C' or '3D', then the server MUST fail the authentication."
//   saslname = 1*(value-safe-char / "=2C" / "=3D")   ; value-safe-char excludes NUL, '=', ','

const BAD_ESCAPE = /=(?!2C|3D)/;

/**
 * Decodes a `saslname` (the value of `n=` or `a=`).
 * @returns the decoded name, or undefined when it is empty, contains NUL or ',', or has an
 *   `=` that is not `=2C` or `=3D`.
 */
export function decodeSaslname(s: string): string | undefined {
  if (s.length === 0 || s.includes('\0') || s.includes(',') || BAD_ESCAPE.test(s)) return undefined;
  return s.replace(/=2C|=3D/g, (escape) => (escape === '=2C' ? ',' : '='));
}
