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
import { NS } from '@parley/xml';
import { REFUSALS, type Refusal } from '../errors.js';
import { mucUserX } from '../muc-user-x.js';
import { nickKeyOf } from '../nick.js';
import type { Affiliation, AffiliationRecord } from '../room-state.js';
import { AFFILIATION_RANK, nickOwner, seesRealJids } from '../room-queries.js';
import type { Turn } from '../turn.js';
import type { Actor, Feature } from './feature.js';
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

/** §7.2.7: outcasts may not enter. */
export const affiliations: Feature = {
  name: 'affiliations',
  preJoin(_t, join) {
    return join.affiliation === 'outcast' ? REFUSALS.banned : undefined;
  },
};

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
 * `actor` is undefined when the user acted on their own affiliation (registration) or the
 * service did (an admin command): no `<actor/>` then.
 */
export function applyAffiliation(t: Turn, change: AffiliationChange, actor: Actor | undefined): void {
  const room = t.room;
  const before = t.affiliation(change.jid);
  const previous = room.affiliations.get(change.jid);
  if (change.affiliation === 'none') {
    room.affiliations.delete(change.jid);
  } else {
    const rec: AffiliationRecord = { affiliation: change.affiliation };
    const nick = change.nick === undefined ? previous?.nick : change.nick === '' ? undefined : change.nick;
    if (nick !== undefined && change.affiliation !== 'outcast') rec.nick = nick;
    if (change.reason !== undefined) rec.reason = change.reason;
    room.affiliations.set(change.jid, rec);
  }
  t.persist();
  const after = t.affiliation(change.jid);
  const reason = change.reason === undefined ? {} : { reason: change.reason };
  const present = [...room.occupants.values()].filter((o) => o.bareJid === change.jid);
  if (present.length === 0) {
    notifyAbsent(t, change.jid, change.affiliation, change.reason);
    return;
  }
  for (const occupant of present) {
    const role = roleAfterAffiliation(t, occupant.role, before, after);
    if (role === 'none') {
      const codes = [after === 'outcast' ? '301' : '321'];
      const actorPart = actor === undefined ? {} : { actor: actorRef(actor) };
      removeOccupant(t, occupant, { codes, affiliation: after, ...actorPart, ...reason }, { notifySelf: true });
    } else {
      occupant.role = role;
      publishOccupant(t, occupant, { affiliation: after, ...reason }, { self: occupant.sessions });
    }
  }
}

/** §10.6/§10.8: affiliation change of a user who is not in the room. */
function notifyAbsent(t: Turn, jid: string, affiliation: Affiliation, reason: string | undefined): void {
  for (const occupant of [...t.room.occupants.values()]) {
    if (!seesRealJids(t.room, occupant.role)) continue;
    for (const session of occupant.sessions) {
      const message = new Element('message', { xmlns: NS.CLIENT, from: t.roomJid });
      message.cnode(mucUserX({ item: { jid, affiliation, ...(reason === undefined ? {} : { reason }) } }));
      t.sendTo(session, message);
    }
  }
}

/**
 * §9.2, §9.5, §10.4, §10.7: the list of one affiliation as muc#admin items (affiliation,
 * bare jid, reserved nick; the reason for outcasts). Admins and owners may read every
 * list; in a non-anonymous room members may read the member list (§9.5 note).
 * @returns the items, or a refusal (forbidden).
 */
export function affiliationList(t: Turn, actorBare: string, affiliation: Affiliation): Element[] | Refusal {
  const actorAff = t.affiliation(actorBare);
  const allowed =
    AFFILIATION_RANK[actorAff] >= AFFILIATION_RANK.admin ||
    (affiliation === 'member' && t.room.config.whois === 'anyone' && AFFILIATION_RANK[actorAff] >= AFFILIATION_RANK.member);
  if (!allowed) return REFUSALS.forbidden;
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
