// XEP-0045 §7.2.2 (presence broadcast), §7.7 (changed availability), §17.3 (presence
// business rules: "MUST provide role and affiliation data ... in all presence stanzas";
// "If a MUC service receives such extended presence information from an occupant, it
// MUST NOT reflect it"): the presence of one occupant as one recipient sees it.
import { Element } from 'ltx';
import { NS, parseOwnElement } from '@parley/xml';
import { copyElement } from './copy-element.js';
import { addOccupantId, isOccupantId } from './features/occupant-id.js';
import { mucUserX, type MucUserX } from './muc-user-x.js';
import type { Affiliation, Hat, Occupant, Role } from './room-state.js';
import { hatsElement } from './features/hats.js';
import type { Broadcast } from './step-result.js';

/** What happened to the occupant, as carried by its presence. */
export interface PresenceChange {
  /** Unavailable presence (left, kicked, banned, nick changed away, room destroyed). */
  unavailable?: boolean;
  /**
   * Presence content to reflect (show, status, ...). Default: the primary session's stored
   * presence when available, nothing when unavailable.
   */
  base?: Element;
  /** Event status codes for every recipient (e.g. 303, 307, 321). */
  codes?: readonly string[];
  /** Extra status codes for self-presence only (e.g. 201, 100), placed before the item. */
  selfCodes?: readonly string[];
  /** Shown affiliation. */
  affiliation: Affiliation;
  /** Shown role (default: the occupant's). */
  role?: Role;
  /** §7.6: the new nick (with status 303). */
  newNick?: string;
  /** Who caused the change; its `jid` is shown only to those who may see real JIDs. */
  actor?: { nick?: string; jid?: string };
  reason?: string;
  destroy?: MucUserX['destroy'];
  /**
   * XEP-0317: the hats the occupant wears (features/hats.ts `hatsOf`), shown after the
   * muc#user element in available presence; unavailable presence carries none.
   */
  hats?: readonly Hat[];
}

/** Who receives the presence. */
export interface PresenceRecipient {
  /** The recipient session's full JID (the `to`). */
  to: string;
  /** Self-presence (status 110, own JID in the item). */
  self: boolean;
  /** The recipient may see real JIDs (§7.2.3, §7.2.4). */
  seesJids: boolean;
}

const STRIPPED = new Set<string>([NS.MUC, NS.MUC_USER]);
/**
 * XEP-0317 hats: only the room may say who wears which hat, so a client's own `<hats/>`
 * (XEP-0317's namespace, and Prosody 0.12's, which Prosody filters the same way) is not
 * reflected (the room adds the hats it assigned, features/hats.ts).
 */
const HATS = new Set<string>(['urn:xmpp:hats:0', 'xmpp:prosody.im/protocol/hats:1']);

/**
 * A presence content element without MUC extensions: the reflected part of what the
 * client sent (attributes other than `id` and `xml:lang` dropped; a client's own
 * `<occupant-id/>` too, XEP-0421 §4: the room adds its own; and its `<hats/>`).
 */
export function reflectable(presence: Element): Element {
  const out = new Element('presence', { xmlns: NS.CLIENT });
  if (typeof presence.attrs.id === 'string') out.attrs.id = presence.attrs.id;
  if (typeof presence.attrs['xml:lang'] === 'string') out.attrs['xml:lang'] = presence.attrs['xml:lang'];
  for (const child of presence.children) {
    if (typeof child === 'string') continue;
    if (child.name === 'x' && STRIPPED.has(String(child.attrs.xmlns))) continue;
    if (child.name === 'error' || isOccupantId(child)) continue;
    if (child.name === 'hats' && HATS.has(child.getNS() ?? '')) continue;
    out.cnode(copyElement(child));
  }
  return out;
}

/**
 * The stored presence of the occupant's primary session, reflectable: a new tree, parsed
 * from the stored text at each call (about 2 µs for a join presence). Not memoised (issue
 * #15: a memo of parsed presences held about 1 KB per occupant); a join shows the joiner
 * each occupant's presence from {@link viewPresence}'s memo, which parses once per view.
 */
export function storedPresence(occupant: Occupant): Element {
  const primary = occupant.sessions[0];
  if (primary === undefined) return new Element('presence', { xmlns: NS.CLIENT });
  return reflectable(parseOwnElement(primary.presence, NS.CLIENT));
}

/** The presence of `occupant` (from room/nick) for one recipient. */
export function occupantPresence(
  roomJid: string,
  occupant: Occupant,
  change: PresenceChange,
  recipient: PresenceRecipient,
): Element {
  const base =
    change.base !== undefined
      ? reflectable(change.base)
      : change.unavailable === true
        ? new Element('presence', { xmlns: NS.CLIENT })
        : storedPresence(occupant);
  base.attrs.from = `${roomJid}/${occupant.nick}`;
  base.attrs.to = recipient.to;
  if (change.unavailable === true) base.attrs.type = 'unavailable';
  else delete base.attrs.type;
  const jid = recipient.self ? recipient.to : recipient.seesJids ? occupant.sessions[0]?.fullJid : undefined;
  // The actor's JID goes to those who may see real JIDs, but not in self-presence when the
  // actor has a nick (as Prosody 0.12 does: the affected occupant learns who, by nick).
  const actor =
    change.actor === undefined
      ? undefined
      : recipient.seesJids && !(recipient.self && change.actor.nick !== undefined)
        ? change.actor
        : change.actor.nick === undefined
          ? undefined
          : { nick: change.actor.nick };
  const codes = recipient.self ? [...(change.codes ?? []), ...(change.selfCodes ?? [])] : (change.codes ?? []);
  const spec: MucUserX = {
    codes,
    item: {
      affiliation: change.affiliation,
      role: change.role ?? occupant.role,
      ...(jid === undefined ? {} : { jid }),
      ...(change.newNick === undefined ? {} : { nick: change.newNick }),
      ...(actor === undefined ? {} : { actor }),
      ...(change.reason === undefined ? {} : { reason: change.reason }),
    },
    ...(change.destroy === undefined ? {} : { destroy: change.destroy }),
    self: recipient.self,
  };
  // XEP-0421 §4: on every presence from an occupant JID (before the muc#user element, as
  // Prosody 0.12 places it).
  addOccupantId(base, occupant.occupantId);
  base.cnode(mucUserX(spec));
  // XEP-0317: the hats after the muc#user element (as in its examples).
  if (change.unavailable !== true && change.hats !== undefined && change.hats.length > 0) base.cnode(hatsElement(change.hats));
  return base;
}

/**
 * An occupant's current presence as other occupants see it (no event, no status codes),
 * per visibility class: what a joiner gets for each occupant (XEP-0045 §7.2.3), built once
 * and then shared as a {@link Broadcast} by every join that shows it. A pure memo: the key
 * holds everything the stanza is made of (room, nick, stored presence, affiliation, role,
 * the real JID when shown), so a change to any of them makes a new entry. Least recently
 * used entries are dropped beyond {@link VIEW_PRESENCES_MAX}. (The XEP-0421 occupant id is
 * part of the key: a nick may be held by another user later; so are the XEP-0317 hats.)
 * The stored presence is not copied into the key (it is most of the stanza's text): the
 * entry keeps a reference to it and is used only while it is equal (issue #15, memory).
 */
const viewPresences = new Map<string, { presence: string; view: Broadcast }>();
const VIEW_PRESENCES_MAX = 16_384;

/**
 * `el` with every children array copied to its exact length, in place (children built by
 * `push` keep a backing store of 17 slots, about 150 bytes, however few they hold): for
 * trees kept in a memo. Returns `el`.
 */
function compactTree(el: Element): Element {
  el.children = el.children.slice();
  for (const child of el.children) if (typeof child !== 'string') compactTree(child);
  return el;
}

/**
 * The presence of `occupant` for any other occupant, without `to` (XEP-0045 §7.2.3,
 * §17.3: role and affiliation always, the real JID only when `seesJids`).
 * The returned stanza is shared: callers send heads of it (`Turn.sendShared`), never modify it.
 */
export function viewPresence(roomJid: string, occupant: Occupant, affiliation: Affiliation, seesJids: boolean, hats: readonly Hat[] = []): Broadcast {
  const primary = occupant.sessions[0];
  const jid = seesJids ? (primary?.fullJid ?? '') : '';
  const hatsKey = hats.length === 0 ? '' : JSON.stringify(hats);
  const key = `${roomJid}\0${occupant.nick}\0${affiliation}\0${occupant.role}\0${jid}\0${occupant.occupantId ?? ''}\0${hatsKey}`;
  const presence = primary?.presence ?? '';
  const memo = viewPresences.get(key);
  if (memo !== undefined) viewPresences.delete(key);
  if (memo !== undefined && memo.presence === presence) {
    viewPresences.set(key, memo);
    return memo.view;
  }
  const stanza = occupantPresence(roomJid, occupant, { affiliation, hats }, { to: '', self: false, seesJids });
  delete stanza.attrs.to;
  const view: Broadcast = { stanza: compactTree(stanza) };
  if (viewPresences.size >= VIEW_PRESENCES_MAX) viewPresences.delete(viewPresences.keys().next().value!);
  viewPresences.set(key, { presence, view });
  return view;
}
