// RFC 5802 §7: the grammar of the SCRAM messages a server reads and writes.
//   client-first-message = gs2-header client-first-message-bare
//   gs2-header = gs2-cbind-flag "," [ authzid ] ","
//   gs2-cbind-flag = ("p=" cb-name) / "n" / "y"
//   client-first-message-bare = [reserved-mext ","] username "," nonce ["," extensions]
//   client-final-message = channel-binding "," nonce ["," extensions] "," proof
//   server-first-message = [reserved-mext ","] nonce "," salt "," iteration-count ["," extensions]
//   server-final-message = (server-error / verifier) ["," extensions]
// "extensions ... All extensions are optional, i.e., unrecognized attributes not defined in
// this document MUST be ignored" — so unknown attributes in the extension slots pass, but
// an attribute SCRAM defines must appear in its own place only. "m: ... its presence in a
// client or a server message MUST cause authentication failure".

import { decodeBase64 } from './credentials.js';
import { ExchangeFailure, malformed } from './errors.js';
import { decodeSaslname } from './saslname.js';

/** c-nonce and s-nonce: printable ASCII except ','. */
export const NONCE = /^[\x21-\x2B\x2D-\x7E]+$/;
const EXTENSION = /^[A-Za-z]=[^\0]+$/;
/** Attribute names RFC 5802 §5.1 defines; they are not extensions. */
const DEFINED = new Set(['a', 'c', 'e', 'i', 'm', 'n', 'p', 'r', 's', 'v']);

export interface ClientFirst {
  /** `n,,`, `y,a=…,` etc., exactly as received: the channel binding input. */
  gs2Header: string;
  /** The gs2-cbind-flag: `n` (no channel binding), `y` (client could, thinks the server cannot), `p` (binding `cbName`). */
  cbindFlag: 'n' | 'y' | 'p';
  /** The channel binding type of a `p=` flag (not checked against any list here). */
  cbName: string | undefined;
  authzid: string | undefined;
  username: string;
  clientNonce: string;
  /** client-first-message-bare, part of AuthMessage. */
  bare: string;
}

export interface ClientFinal {
  /** The base64 text of `c=`. */
  channelBinding: string;
  nonce: string;
  proof: Buffer;
  /** client-final-message-without-proof, part of AuthMessage. */
  withoutProof: string;
}

function checkExtensions(attrs: readonly string[]): void {
  for (const attr of attrs) {
    if (attr.startsWith('m=')) throw new ExchangeFailure('malformed-request', 'mandatory extensions are not supported');
    if (!EXTENSION.test(attr)) malformed('malformed attribute');
    if (DEFINED.has(attr[0]!)) malformed(`unexpected attribute ${attr[0]!}`);
  }
}

function attribute(attr: string | undefined, name: string): string {
  if (attr === undefined || !attr.startsWith(`${name}=`)) return malformed(`attribute ${name} expected`);
  return attr.slice(2);
}

/** cb-name = 1*(ALPHA / DIGIT / "." / "-") (RFC 5802 §7), at most 64 characters here. */
const CB_NAME = /^[A-Za-z0-9.-]{1,64}$/;

/**
 * Parses client-first-message.
 * @throws ExchangeFailure `malformed-request` for any deviation from the grammar (a `p=`
 *   flag with an invalid cb-name included) and for mandatory extensions (`m=`).
 */
export function parseClientFirst(text: string): ClientFirst {
  const flagEnd = text.indexOf(',');
  const authzEnd = flagEnd === -1 ? -1 : text.indexOf(',', flagEnd + 1);
  if (authzEnd === -1) malformed('GS2 header expected');
  const flag = text.slice(0, flagEnd);
  let cbName: string | undefined;
  if (flag.startsWith('p=')) {
    cbName = flag.slice(2);
    if (!CB_NAME.test(cbName)) malformed('invalid channel binding type');
  } else if (flag !== 'n' && flag !== 'y') malformed('invalid channel binding flag');
  const cbindFlag = cbName === undefined ? (flag as 'n' | 'y') : 'p';
  const authzField = text.slice(flagEnd + 1, authzEnd);
  let authzid: string | undefined;
  if (authzField !== '') {
    authzid = decodeSaslname(attribute(authzField, 'a'));
    if (authzid === undefined) malformed('invalid authzid encoding');
  }
  const bare = text.slice(authzEnd + 1);
  const attrs = bare.split(',');
  if (attrs[0]?.startsWith('m=')) throw new ExchangeFailure('malformed-request', 'mandatory extensions are not supported');
  const username = decodeSaslname(attribute(attrs[0], 'n'));
  if (username === undefined) malformed('invalid username encoding');
  const clientNonce = attribute(attrs[1], 'r');
  if (!NONCE.test(clientNonce)) malformed('invalid nonce');
  checkExtensions(attrs.slice(2));
  return { gs2Header: text.slice(0, authzEnd + 1), cbindFlag, cbName, authzid, username, clientNonce, bare };
}

/**
 * Parses client-final-message.
 * @throws ExchangeFailure `malformed-request` for any deviation from the grammar.
 */
export function parseClientFinal(text: string): ClientFinal {
  const attrs = text.split(',');
  if (attrs.length < 3) malformed('channel binding, nonce and proof expected');
  const channelBinding = attribute(attrs[0], 'c');
  if (channelBinding === '' || decodeBase64(channelBinding) === undefined) malformed('invalid channel binding encoding');
  const nonce = attribute(attrs[1], 'r');
  if (!NONCE.test(nonce)) malformed('invalid nonce');
  const last = attrs[attrs.length - 1]!;
  checkExtensions(attrs.slice(2, -1));
  const proof = decodeBase64(attribute(last, 'p'));
  if (proof === undefined || proof.length === 0) return malformed('invalid proof encoding');
  return { channelBinding, nonce, proof, withoutProof: text.slice(0, text.length - last.length - 1) };
}
