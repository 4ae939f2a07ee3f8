// RFC 7622 §3.1: separators are matched before any part is prepared (preparation could
// turn other code points into '@' or '/'). §3.2: the domainpart is what remains after
//   "1.  Remove any portion from the first '/' character to the end of the
//        string (if there is a '/' character present).
//    2.  Remove any portion from the beginning of the string to the first
//        '@' character (if there is an '@' character present)."
// What step 1 removes (after the '/') is the resourcepart, what step 2 removes (before the
// '@') the localpart. So `a@b/c@d/e` has resourcepart
// `c@d/e`, and in `a@b@c` the domainpart `b@c` is invalid. A separator with nothing on
// its side (`@example.com`, `juliet@`, `example.com/`) leaves an empty part: an error.

import { normalizeDomainpart } from './domainpart.js';
import { JidError } from './errors.js';
import { fromNormalizedParts, type Jid } from './jid.js';
import { normalizeLocalpart } from './localpart.js';
import { normalizeResourcepart } from './resourcepart.js';

/**
 * Parses and normalises a JID string (RFC 7622 §3).
 *
 * @param input - e.g. `Juliet@Example.COM/Balcony`.
 * @returns the normalised JID (here `juliet@example.com/Balcony`).
 * @throws JidError (`condition: 'jid-malformed'`) when a part is empty, too long or not
 *   allowed by its profile.
 */
export function parseJid(input: string): Jid {
  const slash = input.indexOf('/');
  const head = slash === -1 ? input : input.slice(0, slash);
  const at = head.indexOf('@');
  const local = at === -1 ? undefined : normalizeLocalpart(head.slice(0, at));
  const domain = normalizeDomainpart(at === -1 ? head : head.slice(at + 1));
  const resource = slash === -1 ? undefined : normalizeResourcepart(input.slice(slash + 1));
  return fromNormalizedParts(local, domain, resource);
}

/**
 * Like `parseJid`, but returns undefined instead of throwing `JidError`.
 * @returns the normalised JID, or undefined when `input` is not a valid JID.
 */
export function tryParseJid(input: string): Jid | undefined {
  try {
    return parseJid(input);
  } catch (err) {
    if (err instanceof JidError) return undefined;
    throw err;
  }
}
