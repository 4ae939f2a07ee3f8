// RFC 4616 §2: PLAIN.
//   message = [authzid] UTF8NUL authcid UTF8NUL passwd
//   authcid = 1*SAFE ; MUST accept up to 255 octets
//   passwd  = 1*SAFE ; MUST accept up to 255 octets
// The server verifies the authcid and password, then whether the authcid may act as the
// authzid, if one is given. Here the backend checks the password (SASLprep is applied
// there, by `verifyPassword`) and a non-empty authzid must be the user's own bare JID.

import { isOwnBareJid } from './authzid.js';
import type { SaslBackend } from './backend.js';
import { ExchangeFailure, malformed } from './errors.js';
import { MechanismBase } from './mechanism-base.js';
import type { SaslStep } from './server-mechanism.js';
import { decodeUtf8 } from './utf8.js';

/** A PLAIN exchange (RFC 4616): one message, then success or failure. */
export class PlainMechanism extends MechanismBase {
  readonly name = 'PLAIN';
  readonly #backend: SaslBackend;

  constructor(backend: SaslBackend) {
    super();
    this.#backend = backend;
  }

  protected async receive(data: Buffer): Promise<SaslStep> {
    if (data.length === 0) malformed('empty response');
    const fields = decodeUtf8(data).split('\0');
    if (fields.length !== 3) malformed('expected authzid NUL authcid NUL passwd');
    const [authzid, username, password] = fields as [string, string, string];
    this.recordAuthcid(username);
    if (username === '') malformed('empty authentication identity');
    // An empty password fits no account; no need to ask the backend.
    if (password === '') throw new ExchangeFailure('not-authorized');
    if (authzid !== '' && !isOwnBareJid(authzid, username)) {
      throw new ExchangeFailure('invalid-authzid', 'authzid must be your own bare JID');
    }
    if (!(await this.#backend.checkPlain(username, password))) throw new ExchangeFailure('not-authorized');
    return { kind: 'success', username, ...(authzid === '' ? {} : { authzid }) };
  }
}
