import { Element } from 'ltx';
import { receivesPresenceFrom, sendsPresenceTo } from './state.js';
import type { RosterItem } from './item.js';

/** What an account held when it was removed, read from its roster and its session registry entry. */
export interface DepartureSnapshot {
  /** Its roster items (RFC 6121 §2). */
  items: readonly RosterItem[];
  /** Bare JIDs whose subscription request it never answered ("Pending In", RFC 6121 §3.1.3). */
  pendingFrom: readonly string[];
  /** Resources of it that had sent available presence (RFC 6121 §4.2), still bound. */
  availableResources: readonly string[];
}

/**
 * The stanzas that cancel every presence subscription of an account being removed
 * (XEP-0077 §3.2 "SHOULD also cancel all existing presence subscriptions", for the admin
 * API's deletion as well), as if the account removed each roster item (RFC 6121 §2.5.2),
 * per contact in this order: unavailable presence from each available resource when the
 * contact receives its presence (`from`/`both`, RFC 6121 §4.5.2), `unsubscribed` when the
 * contact was subscribed or asked (§3.2.2), `unsubscribe` when the account was subscribed
 * or asked (§3.3.2). Contacts that only sent an unanswered request get `unsubscribed`.
 * Each contact's server applies them to the contact's roster (Appendix A.3) and pushes the
 * change to the contact's interested resources. Unavailable comes first so that clients
 * still show the contact when they learn it went offline. Pure; the stanzas have no `xmlns`
 * (jabber:client when serialised by the router).
 * @param owner - the removed account's bare JID, normalised
 */
export function departureStanzas(owner: string, s: DepartureSnapshot): Element[] {
  const out: Element[] = [];
  const contacts = new Map<string, RosterItem | undefined>();
  for (const item of s.items) contacts.set(item.jid, item);
  for (const jid of s.pendingFrom) if (!contacts.has(jid)) contacts.set(jid, undefined);
  const pending = new Set(s.pendingFrom);
  for (const [jid, item] of contacts) {
    if (jid === owner) continue;
    const sub = item?.subscription ?? 'none';
    if (sendsPresenceTo(sub)) {
      for (const r of s.availableResources) out.push(new Element('presence', { from: `${owner}/${r}`, to: jid, type: 'unavailable' }));
    }
    if (sendsPresenceTo(sub) || pending.has(jid)) out.push(new Element('presence', { from: owner, to: jid, type: 'unsubscribed' }));
    if (receivesPresenceFrom(sub) || item?.ask) out.push(new Element('presence', { from: owner, to: jid, type: 'unsubscribe' }));
  }
  return out;
}
