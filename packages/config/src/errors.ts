/** A configuration that cannot be used; the message lists every problem, for the operator. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}
