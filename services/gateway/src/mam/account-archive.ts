// XEP-0313 (Message Archive Management) 1.1.3 for accounts, the pure part of the queries:
// preferences as elements (XEP-0441) and how results look. Which messages an account archives,
// XEP-0359 stanza-ids, the preferences' verdict and the `with` filter are @parley/accounts'
// (archive.ts; shared with the admin API). The query form and its parsing
// are shared with room archives (@parley/muc features/mam.ts); the archive itself is
// @parley/accounts' MamStore, the wiring mam.ts.
import { Element } from 'ltx';
import { tryParseJid } from '@parley/jid';
import { archiveFin, FORWARD_NS, MAM_NS } from '@parley/muc';
import { NS, parseOwnElement } from '@parley/xml';
import { PREFS_DEFAULTS, type AccountArchivePage, type MamPrefs } from '@parley/accounts';

export { MAM_NS };
/** Most JIDs one account's `<always/>` and `<never/>` lists hold together (ours; Prosody has no bound). */
export const MAX_PREFS_JIDS = 1000;
/** Longest JID (RFC 7622 §3.1: three parts of at most 1023 bytes, and two separators). */
const MAX_JID_CHARS = 3071;

/** The `<prefs/>` element (XEP-0441: an iq get result, and the answer to a set). */
export function prefsElement(prefs: MamPrefs): Element {
  const el = new Element('prefs', { xmlns: MAM_NS, default: prefs.default });
  const always = el.c('always');
  for (const jid of prefs.always) always.c('jid').t(jid);
  const never = el.c('never');
  for (const jid of prefs.never) never.c('jid').t(jid);
  return el;
}

/**
 * Reads a `<prefs/>` (XEP-0441, iq set). Errors: `bad-request` (modify) for a `default` other
 * than always/never/roster or missing; `jid-malformed` (modify) for a `<jid/>` that is not
 * a JID; `not-acceptable` (modify) for more than {@link MAX_PREFS_JIDS} JIDs.
 */
export function parsePrefs(el: Element): MamPrefs | { error: 'bad-request' | 'jid-malformed' | 'not-acceptable'; text: string } {
  const def = el.attrs.default;
  if (typeof def !== 'string' || !PREFS_DEFAULTS.has(def)) return { error: 'bad-request', text: "'default' must be always, never or roster" };
  const lists: { always: string[]; never: string[] } = { always: [], never: [] };
  let total = 0;
  for (const name of ['always', 'never'] as const) {
    const seen = new Set<string>();
    for (const list of el.getChildren(name)) {
      for (const j of list.getChildren('jid')) {
        if (++total > MAX_PREFS_JIDS) return { error: 'not-acceptable', text: `at most ${MAX_PREFS_JIDS} JIDs` };
        const text = j.getText().trim();
        const jid = text.length > MAX_JID_CHARS ? undefined : tryParseJid(text);
        if (jid === undefined) return { error: 'jid-malformed', text: 'not a JID' };
        const norm = jid.toString();
        if (!seen.has(norm)) lists[name].push(norm);
        seen.add(norm);
      }
    }
  }
  return { default: def as MamPrefs['default'], ...lists };
}

/**
 * §4.2 results of a query on an account's archive: one `<message to=requester>` per entry
 * holding `<result xmlns='urn:xmpp:mam:2' queryid? id><forwarded xmlns='urn:xmpp:forward:0'>
 * <delay stamp/>` and the archived message, then the `<fin/>` payload of the iq result with
 * the RSM `<set/>` (`first`/`last` when there are results, `count` when known) and
 * `complete='true'` at the end (§4.3.2).
 */
export function accountArchiveResults(queryId: string | undefined, requester: string, page: AccountArchivePage): { messages: Element[]; fin: Element } {
  const messages: Element[] = [];
  for (const entry of page.entries) {
    let stored: Element;
    try {
      stored = parseOwnElement(entry.xml, NS.CLIENT);
    } catch {
      continue; // written by us; an unreadable entry is left out
    }
    stored.attrs.xmlns = NS.CLIENT;
    const message = new Element('message', { xmlns: NS.CLIENT, to: requester });
    const result = message.c('result', queryId === undefined ? { xmlns: MAM_NS, id: entry.id } : { xmlns: MAM_NS, queryid: queryId, id: entry.id });
    const forwarded = result.c('forwarded', { xmlns: FORWARD_NS });
    forwarded.c('delay', { xmlns: NS.DELAY, stamp: new Date(entry.at).toISOString() });
    forwarded.cnode(stored);
    messages.push(message);
  }
  return { messages, fin: archiveFin(page) };
}
