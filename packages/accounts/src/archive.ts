// XEP-0313 (Message Archive Management) 1.1.3 account archives, the pure part shared by the
// gateways (messages clients send) and the admin API (`POST /v1/messages`): which messages an
// account archives, XEP-0359 stanza-ids, the preferences' verdict (XEP-0441) and the `with`
// filter. The queries and their results are the gateway's (services/gateway/src/mam).
import { clone, type Element } from 'ltx';
import type { Jid } from '@parley/jid';
import { keepPermanently } from '@parley/stanza';

/** XEP-0359 Unique and Stable Stanza IDs (§3, disco feature and element namespace). */
export const SID_NS = 'urn:xmpp:sid:0';

/**
 * Whether a message goes into the account archives (§6.1.1: "all of the messages a user
 * sends or receives of type 'normal' or 'chat' that contain a <body> element"): a one-to-one message
 * (`chat` or `normal`, or no type) with a `<body/>` or a XEP-0334 `<store/>` hint, and
 * neither `<no-store/>` nor `<no-permanent-store/>` (XEP-0334 §4.1, §4.2). `groupchat` is
 * archived by the room (§6.1.1 leaves it to us), `headline` and `error` are not kept (as Prosody 0.12).
 */
export function archivable(message: Element): boolean {
  if (message.name !== 'message') return false;
  const type = message.attrs.type ?? 'normal';
  if (type !== 'chat' && type !== 'normal') return false;
  return keepPermanently(message);
}

/**
 * A copy of `message` without the XEP-0359 `<stanza-id/>`s that claim to be by `by` (XEP-0359
 * §3 rule 2: the generating entity "MUST delete that element even if they are not adding
 * their own stanza ID"), and with `<stanza-id xmlns='urn:xmpp:sid:0' by=by id=id/>` added when
 * `id` is given (XEP-0313 §3.5: the archive id, `by` the archive's address). The original is returned unchanged when there
 * is nothing to remove or add.
 */
export function withStanzaId(message: Element, by: string, id?: string): Element {
  const forged = (c: Element | string) => typeof c !== 'string' && c.name === 'stanza-id' && c.getNS() === SID_NS && c.attrs.by === by;
  if (id === undefined && !message.children.some(forged)) return message;
  const copy = clone(message);
  copy.children = copy.children.filter((c) => !forged(c));
  if (id !== undefined) copy.c('stanza-id', { xmlns: SID_NS, by, id });
  return copy;
}

/**
 * Archiving preferences (`<prefs xmlns='urn:xmpp:mam:2'>`: older XEP-0313 versions, since
 * moved to XEP-0441 with the same element; Prosody 0.12 answers them on urn:xmpp:mam:2).
 */
export interface MamPrefs {
  /** With a JID on neither list: `always` archive, `never` archive, `roster`: only JIDs in the account's roster. */
  default: 'always' | 'never' | 'roster';
  /** JIDs (bare or full, normalised) whose messages are always archived. */
  always: string[];
  /** JIDs (bare or full, normalised) whose messages are never archived (wins over `always`). */
  never: string[];
}

/** Prosody 0.12's `default_archive_policy = true`: archive everything. */
export const DEFAULT_PREFS: MamPrefs = { default: 'always', always: [], never: [] };

/** The values of {@link MamPrefs.default}. */
export const PREFS_DEFAULTS: ReadonlySet<string> = new Set(['always', 'never', 'roster']);

/**
 * What the preferences say of messages exchanged with `other` (the other party's JID):
 * `true` archive, `false` do not, `roster` archive only when `other`'s bare JID is in the roster.
 * A list entry matches `other` when it equals `other` or `other`'s bare JID.
 */
export function prefsVerdict(prefs: MamPrefs, other: Jid | undefined): boolean | 'roster' {
  if (other !== undefined) {
    const full = other.toString();
    const bare = other.bare().toString();
    const on = (list: readonly string[]) => list.includes(full) || list.includes(bare);
    if (on(prefs.never)) return false;
    if (on(prefs.always)) return true;
  }
  return prefs.default === 'always' ? true : prefs.default === 'never' ? false : 'roster';
}

/** Parses stored preferences (JSON); the default ones when absent or unreadable. */
export function prefsFromJson(json: string | null): MamPrefs {
  if (json === null) return DEFAULT_PREFS;
  try {
    const v: unknown = JSON.parse(json);
    if (typeof v !== 'object' || v === null) return DEFAULT_PREFS;
    const p = v as Record<string, unknown>;
    const strings = (a: unknown) => (Array.isArray(a) ? a.filter((s): s is string => typeof s === 'string') : []);
    if (typeof p.default !== 'string' || !PREFS_DEFAULTS.has(p.default)) return DEFAULT_PREFS;
    return { default: p.default as MamPrefs['default'], always: strings(p.always), never: strings(p.never) };
  } catch {
    return DEFAULT_PREFS;
  }
}

/** One archived message as read back from the account's archive. */
export interface AccountArchiveEntry {
  /** The archive id (the XEP-0359 stanza-id). */
  id: string;
  /** Archive time, ms since epoch. */
  at: number;
  /** The other party's JID as addressed (`from` of an incoming message, `to` of an outgoing one). */
  with: string;
  /** The serialised message. */
  xml: string;
}

/**
 * §4.1.1 `with` filter: a bare JID matches messages with that bare JID and any of its
 * resources, a full JID only messages with that full JID ("to or from that specific full JID").
 * @param filter - the normalised `with` value
 */
export function matchesWithFilter(filter: string | undefined, entry: Pick<AccountArchiveEntry, 'with'>): boolean {
  if (filter === undefined) return true;
  if (entry.with === filter) return true;
  if (filter.includes('/')) return false;
  const slash = entry.with.indexOf('/');
  return slash >= 0 && entry.with.slice(0, slash) === filter;
}

/** One page of results, oldest first. */
export interface AccountArchivePage {
  entries: AccountArchiveEntry[];
  /** §4.3.2 `complete`: no further results in the paging direction. */
  complete: boolean;
  /** RSM `<count/>`, when known. */
  count?: number;
}
