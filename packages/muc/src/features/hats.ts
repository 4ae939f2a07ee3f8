// XEP-0317 (Hats) v0.3: a room may give its users "hats" (roles beyond XEP-0045's: a title
// and a URI, optionally a XEP-0392 hue), which the room announces in every available
// presence of the occupant wearing them:
//   <hats xmlns='urn:xmpp:hats:0'><hat title='Host' uri='http://example.com/hosting' hue='210'/></hats>
// after the muc#user element (XEP-0317's examples). Only the room says who wears which hat:
// a client's own `<hats/>` is never reflected (occupant-presence.ts `reflectable`).
//
// Here hats belong to a bare JID with a stored affiliation (member, admin or owner, XEP-0045
// §5.2): they are kept in `RoomState.hats` in the order assigned, persist with the room, and
// go when the affiliation goes (none or outcast). Bounds: at most `RoomContext.maxHatsPerUser`
// hats per user (default 16), titles of at most 256 UTF-8 bytes and URIs of at most 1024,
// one hat per URI. They are assigned by the service (the admin API's `set-hats` and
// `remove-hats` commands, features/commands.ts); the rooms have no XEP-0050 ad-hoc commands
// for `urn:xmpp:hats:commands:don`/`doff` (yet). When a user's hats change, each of its
// occupants' presence is sent again (self-presence and, when its role is broadcast, to the
// others), as any other change of what its presence carries (XEP-0045 §7.7).
// Prosody 0.12 has no hats of its own (the community module mod_muc_hats_api uses
// `xmpp:prosody.im/protocol/hats:1`); there is no reference behaviour to follow.
import { Element } from 'ltx';
import { commandRefusal, type CommandRefusal } from '../errors.js';
import type { Hat, RoomState } from '../room-state.js';
import type { Turn } from '../turn.js';
import type { Feature } from './feature.js';
import { publishOccupant } from './presence-broadcast.js';

/** XEP-0317's namespace (presence payload and disco feature). */
export const HATS_NS = 'urn:xmpp:hats:0';
/** Longest hat title, UTF-8 bytes. */
export const HAT_TITLE_MAX_BYTES = 256;
/** Longest hat URI, UTF-8 bytes. */
export const HAT_URI_MAX_BYTES = 1024;
/** Default of `RoomContext.maxHatsPerUser`. */
export const DEFAULT_MAX_HATS_PER_USER = 16;

const bytes = (s: string): number => Buffer.byteLength(s, 'utf8');
/** A character XML 1.0 does not allow (§2.2 Char), or a lone surrogate: it would break the stanza. */
const NOT_XML_CHAR = /[^\u0009\u000A\u000D\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

/** The hats `bareJid` wears in `room`, in the order assigned (empty when none). */
export function hatsOf(room: RoomState, bareJid: string): readonly Hat[] {
  return room.hats?.get(bareJid) ?? [];
}

/** `<hats xmlns='urn:xmpp:hats:0'>` with one `<hat/>` per hat (title, uri, hue when set). */
export function hatsElement(hats: readonly Hat[]): Element {
  const el = new Element('hats', { xmlns: HATS_NS });
  for (const hat of hats) {
    const attrs: Record<string, string> = { title: hat.title, uri: hat.uri };
    if (hat.hue !== undefined) attrs.hue = String(hat.hue);
    el.c('hat', attrs);
  }
  return el;
}

/**
 * Checks a list of hats to assign, as received from JSON (the admin API).
 * @returns the hats (copied: `{uri, title, hue?}` only), or a `bad-request` refusal naming
 *   what is wrong: not an array, more than `max`, a hat without a non-empty `uri` or `title`,
 *   a title over {@link HAT_TITLE_MAX_BYTES} or a URI over {@link HAT_URI_MAX_BYTES} bytes, a
 *   title with a character XML 1.0 does not allow (control characters, lone surrogates), a
 *   `uri` that is not an absolute URI (`scheme:...`, RFC 3986 §4.3), a `hue` that is not a
 *   number in [0, 360), or two hats with the same URI.
 */
export function checkHats(raw: unknown, max: number): Hat[] | CommandRefusal {
  if (!Array.isArray(raw)) return commandRefusal('bad-request', 'hats must be an array');
  if (raw.length > max) return commandRefusal('bad-request', `at most ${max} hats per user`);
  const out: Hat[] = [];
  const seen = new Set<string>();
  for (const [i, h] of raw.entries()) {
    if (typeof h !== 'object' || h === null || Array.isArray(h)) return commandRefusal('bad-request', `hats[${i}] must be an object`);
    const { uri, title, hue } = h as Record<string, unknown>;
    if (typeof uri !== 'string' || uri === '') return commandRefusal('bad-request', `hats[${i}].uri is required`);
    if (typeof title !== 'string' || title === '') return commandRefusal('bad-request', `hats[${i}].title is required`);
    if (bytes(uri) > HAT_URI_MAX_BYTES) return commandRefusal('bad-request', `hats[${i}].uri is longer than ${HAT_URI_MAX_BYTES} bytes`);
    if (bytes(title) > HAT_TITLE_MAX_BYTES) return commandRefusal('bad-request', `hats[${i}].title is longer than ${HAT_TITLE_MAX_BYTES} bytes`);
    if (NOT_XML_CHAR.test(title)) return commandRefusal('bad-request', `hats[${i}].title has a character XML does not allow`);
    if (!/^[A-Za-z][A-Za-z0-9+.-]*:\S+$/.test(uri) || NOT_XML_CHAR.test(uri)) return commandRefusal('bad-request', `hats[${i}].uri is not an absolute URI`);
    if (hue !== undefined && (typeof hue !== 'number' || !Number.isFinite(hue) || hue < 0 || hue >= 360)) {
      return commandRefusal('bad-request', `hats[${i}].hue must be a number from 0 to less than 360`);
    }
    if (seen.has(uri)) return commandRefusal('bad-request', `hats[${i}].uri appears twice`);
    seen.add(uri);
    out.push(hue === undefined ? { uri, title } : { uri, title, hue });
  }
  return out;
}

/** Whether `bareJid` may wear hats in `room`: a stored member, admin or owner affiliation. */
export function mayWearHats(room: RoomState, bareJid: string): boolean {
  const affiliation = room.affiliations.get(bareJid)?.affiliation;
  return affiliation !== undefined && affiliation !== 'outcast';
}

/**
 * Replaces the hats of `bareJid` with `hats` (already checked; empty removes them all) and,
 * when that changes anything, sends the presence of each of its occupants again.
 * @returns a `not-allowed` refusal when `bareJid` has no member, admin or owner affiliation
 *   (and `hats` is not empty); otherwise undefined.
 */
export function setHats(t: Turn, bareJid: string, hats: readonly Hat[]): CommandRefusal | undefined {
  if (hats.length > 0 && !mayWearHats(t.room, bareJid)) {
    return commandRefusal('not-allowed', `${bareJid} has no affiliation with the room: hats are for members, admins and owners`);
  }
  const before = hatsOf(t.room, bareJid);
  if (JSON.stringify(before) === JSON.stringify(hats)) return undefined;
  if (hats.length === 0) {
    t.room.hats?.delete(bareJid);
    if (t.room.hats?.size === 0) delete t.room.hats;
  } else {
    (t.room.hats ??= new Map()).set(bareJid, hats.map((h) => ({ ...h })));
  }
  t.persist();
  republish(t, bareJid);
  t.log('debug', 'hats changed', { hats: hats.length });
  return undefined;
}

/** Forgets the hats of `bareJid` without announcing it (its affiliation is going: that is announced). */
export function dropHats(room: RoomState, bareJid: string): void {
  if (room.hats?.delete(bareJid) === true && room.hats.size === 0) delete room.hats;
}

/** XEP-0045 §7.7 for a change made by the room: the occupants of `bareJid` show their presence again. */
function republish(t: Turn, bareJid: string): void {
  for (const occupant of [...t.room.occupants.values()]) {
    if (occupant.bareJid !== bareJid) continue;
    publishOccupant(t, occupant, { affiliation: t.affiliation(bareJid) }, { self: occupant.sessions });
  }
}

/** Advertises `urn:xmpp:hats:0` (XEP-0317 §4, XEP-0030). */
export const hats: Feature = {
  name: 'hats',
  discoFeatures() {
    return [HATS_NS];
  },
};
