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
 * Stored presences (serialised) already parsed and made reflectable, so that a join, which
 * shows the joiner every occupant's presence, copies element trees instead of parsing
 * XML once per occupant. A pure memo (the same text always gives the same element; callers
 * get copies), bounded by dropping it all when full.
 */
const parsedPresences = new Map<string, Element>();
const PARSED_PRESENCES_MAX = 10_000;

/** The stored presence of the occupant's primary session, reflectable. */
export function storedPresence(occupant: Occupant): Element {
  const primary = occupant.sessions[0];
  if (primary === undefined) return new Element('presence', { xmlns: NS.CLIENT });
  let parsed = parsedPresences.get(primary.presence);
  if (parsed === undefined) {
    parsed = reflectable(parseOwnElement(primary.presence, NS.CLIENT));
    if (parsedPresences.size >= PARSED_PRESENCES_MAX) parsedPresences.clear();
    parsedPresences.set(primary.presence, parsed);
  }
  return copyElement(parsed);
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
 */
const viewPresences = new Map<string, Broadcast>();
const VIEW_PRESENCES_MAX = 16_384;

/**
 * The presence of `occupant` for any other occupant, without `to` (XEP-0045 §7.2.3,
 * §17.3: role and affiliation always, the real JID only when `seesJids`).
 * The returned stanza is shared: callers send heads of it (`Turn.sendShared`), never modify it.
 */
export function viewPresence(roomJid: string, occupant: Occupant, affiliation: Affiliation, seesJids: boolean, hats: readonly Hat[] = []): Broadcast {
  const primary = occupant.sessions[0];
  const jid = seesJids ? (primary?.fullJid ?? '') : '';
  const hatsKey = hats.length === 0 ? '' : JSON.stringify(hats);
  const key = `${roomJid}\0${occupant.nick}\0${affiliation}\0${occupant.role}\0${jid}\0${occupant.occupantId ?? ''}\0${hatsKey}\0${primary?.presence ?? ''}`;
  let view = viewPresences.get(key);
  if (view !== undefined) {
    viewPresences.delete(key);
    viewPresences.set(key, view);
    return view;
  }
  const stanza = occupantPresence(roomJid, occupant, { affiliation, hats }, { to: '', self: false, seesJids });
  delete stanza.attrs.to;
  view = { stanza };
  if (viewPresences.size >= VIEW_PRESENCES_MAX) viewPresences.delete(viewPresences.keys().next().value!);
  viewPresences.set(key, view);
  return view;
}
