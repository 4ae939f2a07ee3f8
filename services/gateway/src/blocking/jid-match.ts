import type { Element } from 'ltx';
import { tryParseJid, type Jid } from '@parley/jid';
import type { StanzaErrorCondition } from '@parley/stanza';

/** The blocking command's namespace (XEP-0191 §3.1) and its error namespace (§3.3). */
export const NS_BLOCKING = 'urn:xmpp:blocking';
export const NS_BLOCKING_ERRORS = 'urn:xmpp:blocking:errors';

/**
 * The blocklist entries that would match `jid`, most specific first (XEP-0191 §6, as in
 * XEP-0016 §2.1): for `local@domain/resource` that JID, `local@domain` and `domain`; for
 * `domain/resource` that JID and `domain`. A full JID entry matches only that resource, a
 * bare JID entry every resource of that account, a `domain/resource` entry only that JID
 * ("only that resource"), a domain entry the domain, its users and their resources.
 * Returns 1 to 3 distinct normalised JID strings.
 */
export function blockKeys(jid: Jid): string[] {
  const keys: string[] = [];
  const { local, domain, resource } = jid;
  if (local !== undefined && resource !== undefined) keys.push(`${local}@${domain}/${resource}`);
  if (local !== undefined) keys.push(`${local}@${domain}`);
  if (local === undefined && resource !== undefined) keys.push(`${domain}/${resource}`);
  keys.push(domain);
  return keys;
}

/** True when one of `entries` (normalised JID strings) matches `jid` under XEP-0191 §6. */
export function isBlockedBy(entries: Iterable<string>, jid: Jid): boolean {
  const set = entries instanceof Set ? (entries as Set<string>) : new Set(entries);
  return blockKeys(jid).some((k) => set.has(k));
}

/**
 * Reads the `<item jid='...'/>` children of a `<block/>` or `<unblock/>` (XEP-0191 §3.3, §3.4).
 * Returns the normalised JIDs (duplicates removed, in document order), or the error to answer:
 * `jid-malformed` for an item without a valid `jid` (RFC 6120 §8.3.3.8, as Prosody 0.12 does),
 * `policy-violation` when more than `maxItems` items are named (the request is bounded before
 * anything is parsed further).
 */
export function readItems(command: Element, maxItems: number): { jids: string[] } | { error: StanzaErrorCondition; text?: string } {
  const items = command.getChildElements().filter((c) => c.name === 'item');
  if (items.length > maxItems) return { error: 'policy-violation', text: `at most ${maxItems} items per request` };
  const seen = new Set<string>();
  for (const item of items) {
    const raw = item.attrs.jid;
    const jid = typeof raw === 'string' ? tryParseJid(raw) : undefined;
    if (!jid) return { error: 'jid-malformed' };
    seen.add(jid.toString());
  }
  return { jids: [...seen] };
}
