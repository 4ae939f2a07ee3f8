// RFC 7622 §3: builds a JID from separate parts, each prepared and enforced by its own
// profile (§3.2 domainpart, §3.3 localpart, §3.4 resourcepart).

import { normalizeDomainpart } from './domainpart.js';
import { fromNormalizedParts, type Jid } from './jid.js';
import { normalizeLocalpart } from './localpart.js';
import { normalizeResourcepart } from './resourcepart.js';

/**
 * Builds a JID from its parts, normalising each one. Unlike `parseJid`, no part is split
 * on separators: `jid('a', 'example.com', 'x/y@z')` has the resourcepart `x/y@z`, while
 * an `@` in `local` is rejected by the localpart profile.
 *
 * @param local - the localpart, or undefined for a JID without one (an empty string is
 *   an error, not "absent").
 * @param domain - the domainpart.
 * @param resource - the resourcepart, or undefined for a bare JID.
 * @throws JidError when a part is empty, too long or not allowed by its profile.
 */
export function jid(local: string | undefined, domain: string, resource?: string): Jid {
  return fromNormalizedParts(
    local === undefined ? undefined : normalizeLocalpart(local),
    normalizeDomainpart(domain),
    resource === undefined ? undefined : normalizeResourcepart(resource),
  );
}
