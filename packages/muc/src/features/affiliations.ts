// XEP-0045 §9 (Admin Use Cases) and §10.3-§10.8 (owner and admin lists): changing and
// listing affiliations. "Affiliations are granted, revoked, and maintained based on the
// user's bare JID" (§5.2). §7.2.7: "If the user has been banned from the room (i.e., has
// an affiliation of "outcast"), the service MUST deny access ... &forbidden;". §9.1: the
// service "MUST also remove any banned users who are in the room by sending a presence
// stanza of type "unavailable" to each banned occupant, including status code 301". §9.4:
// "If the room is members-only, the service MUST remove the user from the room, including
// a status code of 321". §10.6, §10.8: "If the user is not in the room, the service MAY
// send a message from the room itself to the room occupants" — sent here to the occupants
// who may see real JIDs (all in a non-anonymous room, moderators in a semi-anonymous one,
// §7.2.4), since the message names the user's JID.
import { Element } from 'ltx';
import { tryParseJid } from '@parley/jid';
import { NS } from '@parley/xml';
import type { FormField, SubmittedForm } from '../data-form.js';
import { REFUSALS, type Refusal } from '../errors.js';
import { mucUserX } from '../muc-user-x.js';
import { nickKeyOf } from '../nick.js';
import type { Affiliation, AffiliationRecord, RoomState } from '../room-state.js';
import { AFFILIATION_RANK, nickOwner, seesRealJids } from '../room-queries.js';
import type { Turn } from '../turn.js';
import type { Actor, Feature } from './feature.js';
import { dropHats } from './hats.js';
import { removeOccupant } from './leave.js';
import { publishOccupant } from './presence-broadcast.js';
import { actorRef, roleAfterAffiliation } from './roles.js';

/** A requested affiliation change (muc#admin `<item affiliation jid/>`, registration). */
export interface AffiliationChange {
  /** Bare JID. */
  jid: string;
  affiliation: Affiliation;
  /**
   * Reserved nick, enforced (RFC 8266 §2.3): a string sets it, '' unsets it, undefined
   * keeps it (dropped for outcasts).
   */
  nick?: string;
  reason?: string;
}

/** `<reason/>` of the removal of an occupant whose nick was reserved for someone else. */
export const NICK_RESERVED_REASON = 'This nick is now reserved for another user';
const OWNERS_FIELD = 'muc#roomconfig_roomowners';
const ADMINS_FIELD = 'muc#roomconfig_roomadmins';
/** Most JIDs one of those fields may list (a form is bounded by the stanza size too). */
export const MAX_LIST_FIELD_JIDS = 1000;

/** Stored bare JIDs with `affiliation`, in the order they were stored. */
function jidsWith(room: RoomState, affiliation: Affiliation): string[] {
  return [...room.affiliations].filter(([, rec]) => rec.affiliation === affiliation).map(([jid]) => jid);
}

/**
 * §7.2.7: outcasts may not enter. §10.2: the configuration form shows the full owner and
 * admin lists (muc#roomconfig_roomowners, muc#roomconfig_roomadmins, jid-multi, §16.5.3);
 * a submitted list is applied by {@link affiliationChangesFromForm}, not as configuration.
 */
export const affiliations: Feature = {
  name: 'affiliations',
  preJoin(_t, join) {
    return join.affiliation === 'outcast' ? REFUSALS.banned : undefined;
  },
  configFields(room): FormField[] {
    return [
      { var: ADMINS_FIELD, type: 'jid-multi', label: 'Full List of Room Admins', values: jidsWith(room, 'admin') },
      { var: OWNERS_FIELD, type: 'jid-multi', label: 'Full List of Room Owners', values: jidsWith(room, 'owner') },
    ];
  },
};

/** The bare JIDs of a submitted jid-multi field (empty values skipped), or a refusal naming it. */
function readJidList(form: SubmittedForm, field: string): Set<string> | Refusal | undefined {
  const values = form.values.get(field);
  if (values === undefined) return undefined;
  if (values.length > MAX_LIST_FIELD_JIDS) return { ...REFUSALS.configNotAcceptable, text: `${field} lists more than ${MAX_LIST_FIELD_JIDS} JIDs` };
  const out = new Set<string>();
  for (const value of values) {
    if (value.trim() === '') continue;
    const jid = tryParseJid(value.trim());
    if (jid === undefined) return { ...REFUSALS.badJid, text: `${field}: not a JID: ${value.slice(0, 100)}` };
    out.add(jid.bare().toString());
  }
  return out;
}

/**
 * §10.2 (muc#roomconfig_roomowners / muc#roomconfig_roomadmins, "the full list of room
 * owners [admins], not the delta", §10.5 note): the affiliation changes that make the
 * stored owner and admin lists equal to the submitted ones. Listed JIDs get the
 * affiliation (owner wins when a JID is in both); a JID dropped from a list becomes admin
 * when the admin list names it, else `none`. A field absent from the form changes
 * nothing. Checked and applied like muc#admin items (checkAffiliationChanges, e.g. the
 * last owner cannot go: conflict); Prosody 0.12 ignores both fields.
 * @returns the changes (empty when the lists are as stored), or a refusal for a malformed JID.
 */
export function affiliationChangesFromForm(t: Turn, form: SubmittedForm): AffiliationChange[] | Refusal {
  const owners = readJidList(form, OWNERS_FIELD);
  if (owners !== undefined && !(owners instanceof Set)) return owners;
  const admins = readJidList(form, ADMINS_FIELD);
  if (admins !== undefined && !(admins instanceof Set)) return admins;
  const wanted = new Map<string, Affiliation>();
  if (admins !== undefined) {
    for (const jid of jidsWith(t.room, 'admin')) if (!admins.has(jid)) wanted.set(jid, 'none');
    for (const jid of admins) wanted.set(jid, 'admin');
  }
  if (owners !== undefined) {
    for (const jid of jidsWith(t.room, 'owner')) if (!owners.has(jid)) wanted.set(jid, admins?.has(jid) === true ? 'admin' : 'none');
    for (const jid of owners) wanted.set(jid, 'owner');
  }
  const changes: AffiliationChange[] = [];
  for (const [jid, affiliation] of wanted) {
    const current = t.room.affiliations.get(jid)?.affiliation ?? 'none';
    if (current === affiliation) continue;
    // An owner named in the admin list of a form without an owner list stays an owner:
    // only the owner list takes owner status away.
    if (affiliation === 'admin' && current === 'owner' && owners === undefined) continue;
    changes.push({ jid, affiliation });
  }
  return changes;
}

/**
 * Checks a batch of affiliation changes by `actorBare` against the current room (all or
 * nothing, §9.2: "the service SHOULD NOT apply any of the requested changes").
 * `actorBare` undefined means the service itself (an admin command): the permission
 * checks (first three rules) are skipped, the room's invariants (last two) are not.
 * - the actor must be an admin or owner (§9: forbidden);
 * - only owners grant or revoke admin and owner status (§10.3, §10.5: forbidden when an
 *   admin tries to grant them; not-allowed when an admin targets an admin or owner, §9.1);
 * - an admin or owner cannot ban themselves (§9.1: conflict);
 * - a reserved nick must not belong to someone else (§9.3, §7.12: conflict);
 * - the room keeps at least one owner (§10.5: conflict).
 */
export function checkAffiliationChanges(
  t: Turn,
  actorBare: string | undefined,
  changes: readonly AffiliationChange[],
): Refusal | undefined {
  const actorAff = actorBare === undefined ? 'owner' : t.affiliation(actorBare);
  if (AFFILIATION_RANK[actorAff] < AFFILIATION_RANK.admin) return REFUSALS.forbidden;
  const owners = new Set(
    [...t.room.affiliations]
      .filter(([, rec]) => rec.affiliation === 'owner')
      .map(([jid]) => jid),
  );
  const hadOwner = owners.size > 0;
  for (const c of changes) {
    const current = t.room.affiliations.get(c.jid)?.affiliation ?? 'none';
    if (actorAff !== 'owner') {
      if (c.affiliation === 'owner' || c.affiliation === 'admin') return REFUSALS.forbidden;
      if (current === 'owner' || current === 'admin') return REFUSALS.notAllowed;
    }
    if (c.affiliation === 'outcast' && c.jid === actorBare) return REFUSALS.selfTarget;
    if (c.nick !== undefined && c.nick !== '') {
      const holder = nickOwner(t.room, nickKeyOf(c.nick));
      if (holder !== undefined && holder !== c.jid) return REFUSALS.nickReserved;
    }
    if (c.affiliation === 'owner') owners.add(c.jid);
    else owners.delete(c.jid);
  }
  if (hadOwner && owners.size === 0) return REFUSALS.lastOwner;
  return undefined;
}

/**
 * Applies one (checked) affiliation change and tells the room: occupants with that bare
 * JID get updated presence, or are removed (301 when banned, 321 otherwise) when their
 * new affiliation gives them no role; if the user is not in the room, the occupants who
 * may see real JIDs get `<message from=room><x><item jid affiliation/></x></message>`.
 * A reserved nick (`change.nick`) held by another occupant removes that occupant first
 * (307, reason {@link NICK_RESERVED_REASON}).
 * `actor` is undefined when the user acted on their own affiliation (registration) or the
 * service did (an admin command): no `<actor/>` then.
 */
export function applyAffiliation(t: Turn, change: AffiliationChange, actor: Actor | undefined): void {
  const room = t.room;
  const before = t.affiliation(change.jid);
  const previous = room.affiliations.get(change.jid);
  // XEP-0317 hats are worn by affiliated users only (hats.ts): they go with the affiliation.
  if (change.affiliation === 'none' || change.affiliation === 'outcast') dropHats(room, change.jid);
  if (change.affiliation === 'none') {
    room.affiliations.delete(change.jid);
  } else {
    const rec: AffiliationRecord = { affiliation: change.affiliation };
    const nick = change.nick === undefined ? previous?.nick : change.nick === '' ? undefined : change.nick;
    if (nick !== undefined && change.affiliation !== 'outcast') rec.nick = nick;
    // The reason stays with the affiliation it was given for (e.g. a re-registration).
    const reason = change.reason ?? (previous?.affiliation === change.affiliation ? previous.reason : undefined);
    if (reason !== undefined) rec.reason = reason;
    room.affiliations.set(change.jid, rec);
  }
  t.persist();
  // §9.3/§7.12 (as Prosody): a nick reserved for this user is taken from another occupant
  // using it: removed with 307 and a reason, before the affiliation is announced.
  if (change.nick !== undefined && change.nick !== '' && change.affiliation !== 'outcast' && change.affiliation !== 'none') {
    const squatter = room.occupants.get(nickKeyOf(change.nick));
    if (squatter !== undefined && squatter.bareJid !== change.jid) {
      removeOccupant(t, squatter, { codes: ['307'], affiliation: t.affiliation(squatter.bareJid), reason: NICK_RESERVED_REASON }, { notifySelf: true });
    }
  }
  const after = t.affiliation(change.jid);
  const reason = change.reason === undefined ? {} : { reason: change.reason };
  const present = [...room.occupants.values()].filter((o) => o.bareJid === change.jid);
  if (present.length === 0) {
    notifyAbsent(t, change.jid, change.affiliation, change.reason);
    return;
  }
  // §9.1, §9.3, §10.3 ff.: the announcement carries `<actor/>` (nick, and the full JID for
  // those who may see real JIDs) and `<reason/>`, in Prosody's order (item, then actor, then
  // reason) also when the occupant stays.
  const actorPart = actor === undefined ? {} : { actor: actorRef(actor) };
  for (const occupant of present) {
    const role = roleAfterAffiliation(t, occupant.role, before, after);
    if (role === 'none') {
      const codes = [after === 'outcast' ? '301' : '321'];
      removeOccupant(t, occupant, { codes, affiliation: after, ...actorPart, ...reason }, { notifySelf: true });
    } else {
      const previousRole = occupant.role;
      occupant.role = role;
      publishOccupant(t, occupant, { affiliation: after, ...actorPart, ...reason }, { self: occupant.sessions, previousRole });
    }
  }
}

/** Whether a user with `actorAff` may read the list of `affiliation` (see {@link affiliationList}). */
function mayReadList(t: Turn, actorAff: Affiliation, affiliation: Affiliation): boolean {
  if (actorAff === 'owner') return true;
  const nonAnonymous = t.room.config.whois === 'anyone';
  if (affiliation === 'owner' || affiliation === 'admin') return nonAnonymous && AFFILIATION_RANK[actorAff] >= AFFILIATION_RANK.member;
  if (actorAff === 'admin') return true;
  return affiliation === 'member' && nonAnonymous && actorAff === 'member';
}

/** §10.6/§10.8: affiliation change of a user who is not in the room. */
function notifyAbsent(t: Turn, jid: string, affiliation: Affiliation, reason: string | undefined): void {
  for (const occupant of [...t.room.occupants.values()]) {
    if (!seesRealJids(t.room, occupant.role)) continue;
    for (const session of occupant.sessions) {
      const message = new Element('message', { xmlns: NS.CLIENT, from: t.roomJid });
      // A ban carries status 301 here too, as in Prosody 0.12 (the registry lists 301 for
      // presence; XEP-0045 leaves this message's codes open).
      const codes = affiliation === 'outcast' ? ['301'] : [];
      message.cnode(mucUserX({ codes, item: { jid, affiliation, ...(reason === undefined ? {} : { reason }) } }));
      t.sendTo(session, message);
    }
  }
}

/**
 * §9.2, §9.5, §10.4, §10.7: the list of one affiliation as muc#admin items (affiliation,
 * bare jid, reserved nick; the reason for outcasts). Who may read which list:
 * - owners: every list;
 * - admins: the member and outcast lists (§9.2, §9.5); the owner and admin lists only in a
 *   non-anonymous room: §10.5 and §10.8 say "If the <user@host> of the 'from' address does
 *   not match the bare JID of a room owner, the service MUST return a &forbidden; error to
 *   the sender in semi-anonymous rooms. In non-anonymous rooms, the service MAY process the
 *   request." (Prosody 0.12 also gives admins the admin list in semi-anonymous rooms; we
 *   follow the MUST.)
 * - members: in a non-anonymous room the owner, admin and member lists (§10.5/§10.8 MAY,
 *   §9.5 note: "If the room is non-anonymous, a service SHOULD also allow any member to
 *   retrieve the member list"); Prosody 0.12 refuses members every list.
 * @returns the items, or a refusal (forbidden).
 */
export function affiliationList(t: Turn, actorBare: string, affiliation: Affiliation): Element[] | Refusal {
  if (!mayReadList(t, t.affiliation(actorBare), affiliation)) return REFUSALS.forbidden;
  const items: Element[] = [];
  for (const [jid, rec] of t.room.affiliations) {
    if (rec.affiliation !== affiliation) continue;
    const item = new Element('item', { affiliation, jid });
    if (rec.nick !== undefined) item.attrs.nick = rec.nick;
    if (rec.reason !== undefined && affiliation === 'outcast') item.c('reason').t(rec.reason);
    items.push(item);
  }
  return items;
}
