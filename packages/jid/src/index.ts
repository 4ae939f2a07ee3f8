// @parley/jid: JIDs per RFC 7622, with the PRECIS profiles of RFC 8264/8265 implemented on
// Node's built-in Unicode support (see README.md for what is approximated).

export { normalizeDomainpart } from './domainpart.js';
export { JidError, type JidErrorCode, type JidPart } from './errors.js';
export { Jid } from './jid.js';
export { jid } from './jid-from-parts.js';
export { normalizeLocalpart } from './localpart.js';
export { MAX_PART_OCTETS } from './part-length.js';
export { enforceNickname, nicknameKey, tryNickname } from './nickname.js';
export { parseJid, tryParseJid } from './parse-jid.js';
export { normalizeResourcepart } from './resourcepart.js';
