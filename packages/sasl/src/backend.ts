// What the mechanisms need from the account store.

import type { StoredCredentials } from './credentials.js';

/** Account lookups for the mechanisms. Usernames are passed exactly as the client sent them. */
export interface SaslBackend {
  /**
   * SCRAM: the stored credentials of `username`, or undefined when there is no such
   * account. The mechanism then runs a decoy exchange that fails with `not-authorized` at
   * the last step, so a client cannot tell a missing account from a wrong password.
   */
  getCredentials(username: string): Promise<StoredCredentials | undefined>;
  /**
   * PLAIN: whether `password` is right for `username` (normally `verifyPassword` against
   * the stored credentials; a test-only open backend may create the account instead).
   */
  checkPlain(username: string, password: string): Promise<boolean>;
}
