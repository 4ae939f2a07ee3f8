// Error codes of @parley/sasl: the SASL failure conditions sent to clients (RFC 6120 §6.5),
// the errors thrown to callers (`SaslError`), and the package-internal `ExchangeFailure`
// that ends an exchange with a failure step.

/** The `<failure/>` conditions of RFC 6120 §6.5. */
export type SaslFailureCondition =
  | 'aborted'
  | 'account-disabled'
  | 'credentials-expired'
  | 'encryption-required'
  | 'incorrect-encoding'
  | 'invalid-authzid'
  | 'invalid-mechanism'
  | 'malformed-request'
  | 'mechanism-too-weak'
  | 'not-authorized'
  | 'temporary-auth-failure';

/**
 * Why a call was refused (a bug or bad data on the server side, never a client's mistake):
 * - `password-unusable`: SASLprep (RFC 4013) rejects the password (prohibited or unassigned
 *   code points, bidi violations) or leaves it empty;
 * - `invalid-credential`: a stored `ScramCredential` is not well formed (base64, key
 *   length, iteration count);
 * - `invalid-options`: an option is out of range (iteration count, empty salt, nonce).
 */
export type SaslErrorCode = 'password-unusable' | 'invalid-credential' | 'invalid-options';

/** Thrown (or rejected with) by `deriveCredentials`, `verifyPassword` and mechanisms. */
export class SaslError extends Error {
  readonly code: SaslErrorCode;

  constructor(code: SaslErrorCode, message: string) {
    super(message);
    this.name = 'SaslError';
    this.code = code;
  }
}

/** Package-internal: thrown inside a mechanism to end the exchange with a failure step. */
export class ExchangeFailure extends Error {
  readonly condition: SaslFailureCondition;
  /** Sent to the client as `<text/>`; absent when nothing should be revealed. */
  readonly text: string | undefined;

  constructor(condition: SaslFailureCondition, text?: string) {
    super(text ?? condition);
    this.name = 'ExchangeFailure';
    this.condition = condition;
    this.text = text;
  }
}

/** Shorthand for the commonest failure: the message does not follow the grammar. */
export function malformed(text: string): never {
  throw new ExchangeFailure('malformed-request', text);
}
