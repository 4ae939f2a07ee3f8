import { Element } from 'ltx';
import { tryParseJid } from '@parley/jid';
import type { StanzaErrorCondition } from '@parley/stanza';
import type { SubState, Subscription } from './state.js';

/** `jabber:iq:roster` (RFC 6121 §2.1). */
export const NS_ROSTER = 'jabber:iq:roster';
/** Roster versioning stream feature (RFC 6121 §2.6.1). */
export const NS_ROSTER_VER_FEATURE = 'urn:xmpp:features:rosterver';
/** Subscription pre-approval stream feature (RFC 6121 §3.4.1). */
export const NS_PRE_APPROVAL_FEATURE = 'urn:xmpp:features:pre-approval';

/**
 * One roster item as stored (RFC 6121 §2.1.2): the contact's bare JID, an optional name,
 * its groups (distinct, in the order given), the subscription state and the pre-approval
 * flag. Pending In is not part of the item (see `SubState`).
 */
export interface RosterItem {
  jid: string;
  name?: string;
  groups: string[];
  subscription: Subscription;
  /** `ask='subscribe'`: Pending Out (RFC 6121 §2.1.2.2). */
  ask: boolean;
  /** `approved='true'`: pre-approved (RFC 6121 §2.1.2.1, §3.4). */
  approved: boolean;
}

/** Bounds on what a roster set may carry. */
export interface RosterBounds {
  /** Longest item name, in UTF-8 bytes (default 1023). */
  maxNameBytes: number;
  /** Longest group name, in UTF-8 bytes (default 1023; RFC 6121 §2.1.2.4 lets servers bound it). */
  maxGroupBytes: number;
  /** Most groups on one item (default 100). */
  maxGroups: number;
}

export const DEFAULT_BOUNDS: Readonly<RosterBounds> = Object.freeze({ maxNameBytes: 1023, maxGroupBytes: 1023, maxGroups: 100 });

/** A validated roster set (RFC 6121 §2.3, §2.5): update/add an item, or remove one. */
export type RosterSet =
  | { kind: 'update'; jid: string; name?: string; groups: string[] }
  | { kind: 'remove'; jid: string };

/** A refusal of a roster set: the stanza error condition and a human-readable text. */
export interface RosterSetError {
  error: StanzaErrorCondition;
  text: string;
}

const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

/**
 * Validates the `<query xmlns='jabber:iq:roster'>` of a roster set (RFC 6121 §2.3.3, §2.5):
 * - exactly one `<item/>` child, else `bad-request` (§2.3.3);
 * - a `jid` that is a valid JID, else `bad-request`; stored as its bare form (a full JID's
 *   resource is dropped, like Prosody); the user's own bare JID is `not-allowed` (Prosody too);
 * - `subscription='remove'` removes the item; any other `subscription` value or an `ask`
 *   attribute is ignored (§2.1.2.2, §2.1.2.5: the client cannot set them);
 * - a `name` longer than `maxNameBytes` or a group longer than `maxGroupBytes` or more than
 *   `maxGroups` groups: `not-acceptable` (§2.3.3); an empty group: `not-acceptable`
 *   (§2.1.2.4 calls an empty group name meaningless);
 * - duplicate groups collapse into one (§2.3.3 says the server MAY return bad-request or
 *   collapse; Prosody collapses).
 * @param self - the requesting user's bare JID
 */
export function parseRosterSet(query: Element, self: string, bounds: RosterBounds = DEFAULT_BOUNDS): RosterSet | RosterSetError {
  const children = query.children.filter((c): c is Element => typeof c !== 'string');
  const items = children.filter((c) => c.name === 'item');
  if (items.length !== 1 || children.length !== 1) return { error: 'bad-request', text: 'a roster set carries exactly one item (RFC 6121 §2.3.3)' };
  const item = items[0]!;
  const parsed = tryParseJid(item.attrs.jid ?? '');
  if (!parsed) return { error: 'bad-request', text: 'the item has no valid jid' };
  const jid = parsed.bare().toString();
  if (jid === self) return { error: 'not-allowed', text: 'your own JID cannot be on your roster' };
  if (item.attrs.subscription === 'remove') return { kind: 'remove', jid };
  const set: { kind: 'update'; jid: string; name?: string; groups: string[] } = { kind: 'update', jid, groups: [] };
  const name = item.attrs.name;
  if (name !== undefined && name !== '') {
    if (bytes(name) > bounds.maxNameBytes) return { error: 'not-acceptable', text: `the name is longer than ${bounds.maxNameBytes} bytes` };
    set.name = name;
  }
  const seen = new Set<string>();
  for (const child of item.children) {
    if (typeof child === 'string' || child.name !== 'group') continue;
    const group = child.getText();
    if (group === '') return { error: 'not-acceptable', text: 'a group name cannot be empty' };
    if (bytes(group) > bounds.maxGroupBytes) return { error: 'not-acceptable', text: `a group name is longer than ${bounds.maxGroupBytes} bytes` };
    if (seen.has(group)) continue;
    seen.add(group);
    if (seen.size > bounds.maxGroups) return { error: 'not-acceptable', text: `more than ${bounds.maxGroups} groups` };
    set.groups.push(group);
  }
  return set;
}

/** The `<item/>` of a roster result or push (RFC 6121 §2.1.2); `remove` for a push of a removal (§2.5.2). */
export function itemElement(item: RosterItem | { jid: string; subscription: 'remove' }): Element {
  if ('subscription' in item && item.subscription === 'remove') return new Element('item', { jid: item.jid, subscription: 'remove' });
  const it = item as RosterItem;
  const attrs: Record<string, string> = { jid: it.jid, subscription: it.subscription };
  if (it.name !== undefined) attrs.name = it.name;
  if (it.ask) attrs.ask = 'subscribe';
  if (it.approved) attrs.approved = 'true';
  const el = new Element('item', attrs);
  for (const g of it.groups) el.c('group').t(g).up();
  return el;
}

/** A roster result (RFC 6121 §2.1.4): `<query xmlns='jabber:iq:roster' ver=...>` with every item. */
export function rosterQuery(items: Iterable<RosterItem>, ver?: string): Element {
  const q = new Element('query', ver === undefined ? { xmlns: NS_ROSTER } : { xmlns: NS_ROSTER, ver });
  for (const item of items) q.cnode(itemElement(item));
  return q;
}

/** A roster push (RFC 6121 §2.1.6): an iq set with one item, no `to` yet (one per interested resource). */
export function rosterPush(item: RosterItem | { jid: string; subscription: 'remove' }, ver: string | undefined, id: string): Element {
  const iq = new Element('iq', { type: 'set', id });
  const q = iq.c('query', ver === undefined ? { xmlns: NS_ROSTER } : { xmlns: NS_ROSTER, ver });
  q.cnode(itemElement(item));
  return iq;
}

/** The roster item of a contact with a new subscription state; a fresh item (no name, no groups) when there was none. */
export function withState(item: RosterItem | undefined, jid: string, s: SubState): RosterItem {
  const base: RosterItem = item ?? { jid, groups: [], subscription: 'none', ask: false, approved: false };
  return { ...base, subscription: s.subscription, ask: s.pendingOut, approved: s.approved };
}

/** The subscription state of an item plus the Pending In flag kept beside it. */
export function stateOf(item: RosterItem | undefined, pendingIn: boolean): SubState {
  if (!item) return { subscription: 'none', pendingOut: false, pendingIn, approved: false };
  return { subscription: item.subscription, pendingOut: item.ask, pendingIn, approved: item.approved };
}

/**
 * Whether an item with this state is kept in the roster when it was not there before: an
 * item the user never added appears once it carries a subscription, a pending request or
 * a pre-approval (RFC 6121 §3.1.2 "none + pending out", §3.1.5, §3.4.1). Pending In alone does not add one.
 */
export function worthKeeping(s: SubState): boolean {
  return s.subscription !== 'none' || s.pendingOut || s.approved;
}

/** Serialises an item for storage (JSON; names and groups as given). */
export function encodeItem(item: RosterItem): string {
  const o: Record<string, unknown> = { s: item.subscription };
  if (item.name !== undefined) o.n = item.name;
  if (item.groups.length) o.g = item.groups;
  if (item.ask) o.a = 1;
  if (item.approved) o.p = 1;
  return JSON.stringify(o);
}

/** Parses a stored item; undefined for anything malformed. */
export function decodeItem(jid: string, raw: string | null | undefined): RosterItem | undefined {
  if (!raw) return undefined;
  try {
    const o = JSON.parse(raw) as Record<string, unknown>;
    const s = o.s;
    if (s !== 'none' && s !== 'to' && s !== 'from' && s !== 'both') return undefined;
    const item: RosterItem = {
      jid,
      groups: Array.isArray(o.g) ? o.g.filter((g): g is string => typeof g === 'string') : [],
      subscription: s,
      ask: o.a === 1,
      approved: o.p === 1,
    };
    if (typeof o.n === 'string') item.name = o.n;
    return item;
  } catch {
    return undefined;
  }
}

/**
 * Roster versioning (RFC 6121 §2.6): versions are the decimal value of a per-roster
 * counter incremented by every change. A request whose `ver` equals the current version
 * gets an empty result (§2.6.3); any other (or none) gets the whole roster with the
 * current version (the server MAY send the whole roster instead of pushes, §2.6.3).
 * @returns true when the client's copy is current
 */
export function rosterIsCurrent(requested: string | undefined, current: string): boolean {
  return requested !== undefined && requested !== '' && requested === current;
}
