// XEP-0334 (Message Processing Hints, urn:xmpp:hints) as far as storage goes, shared by the
// room core (discussion history, XEP-0045 §7.2.13) and the gateway's offline storage
// (RFC 6121 §8.5.2.1.1, XEP-0160):
// - §4.1 <no-permanent-store/>: not to be kept in a permanent store (an archive, a room's
//   history), though a temporary store such as offline delivery is still allowed;
// - §4.2 <no-store/>: not to be stored at all, offline delivery included;
// - §4.4 <store/>: to be stored even when the message would not be otherwise (no body).
// A message with a <body/> is stored by default; one without (chat states, receipts,
// markers: nothing for the user to read later) only with <store/> (XEP-0334 §4.4: the hint
// asks for a message to be stored that would otherwise not be).
// Prosody 0.12 keeps its room history this way, but stores every message offline.
import type { Element } from 'ltx';

/** The namespace of XEP-0334 hints. */
export const HINTS_NS = 'urn:xmpp:hints';

/** The storage hints a message carries. */
export interface StorageHints {
  store: boolean;
  noStore: boolean;
  noPermanentStore: boolean;
}

/** Which XEP-0334 storage hints `message` carries (direct children in urn:xmpp:hints). */
export function storageHints(message: Element): StorageHints {
  const hints: StorageHints = { store: false, noStore: false, noPermanentStore: false };
  for (const child of message.children) {
    if (typeof child === 'string' || child.getNS() !== HINTS_NS) continue;
    if (child.name === 'store') hints.store = true;
    else if (child.name === 'no-store') hints.noStore = true;
    else if (child.name === 'no-permanent-store') hints.noPermanentStore = true;
  }
  return hints;
}

function hasBody(message: Element): boolean {
  return message.getChild('body') !== undefined;
}

/**
 * Whether a message belongs in a permanent store (a room's discussion history): it has a
 * body or `<store/>`, and neither `<no-store/>` nor `<no-permanent-store/>`.
 */
export function keepPermanently(message: Element): boolean {
  const h = storageHints(message);
  if (h.noStore || h.noPermanentStore) return false;
  return h.store || hasBody(message);
}

/**
 * Whether a message may be kept for offline delivery: it has a body or `<store/>`, and no
 * `<no-store/>` (`<no-permanent-store/>` allows this temporary store, XEP-0334 §4.1).
 */
export function keepForOffline(message: Element): boolean {
  const h = storageHints(message);
  if (h.noStore) return false;
  return h.store || hasBody(message);
}
