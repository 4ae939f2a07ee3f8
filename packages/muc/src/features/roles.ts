// XEP-0045 §5.1.2 (Default Roles: "The following table summarizes the initial default
// roles that a service SHOULD set based on the user's affiliation"), §5.1.3 (Changing
// Roles), §8.2 (Kicking: "The service MUST remove the kicked occupant by sending a
// presence stanza of type "unavailable" to each kicked occupant, including status code
// 307"; "A user cannot be kicked by a moderator with a lower affiliation"), §8.3-§8.5
// (voice: "a service MUST NOT allow the voice privileges of an admin or owner to be
// removed by anyone"), §9.6-§9.8 (moderator status, granted by admins and owners).
import { Element } from 'ltx';
import { REFUSALS, type Refusal } from '../errors.js';
import { occupantByNick } from '../nick.js';
import type { Affiliation, Occupant, Role, RoomState } from '../room-state.js';
import { AFFILIATION_RANK, ROLE_RANK, findSession } from '../room-queries.js';
import type { Turn } from '../turn.js';
import type { Actor, Feature } from './feature.js';
import { removeOccupant } from './leave.js';
import { publishOccupant } from './presence-broadcast.js';

/** A requested role change (muc#admin `<item nick role/>`). */
export interface RoleChange {
  /** The target's nick as requested: any equivalent form (RFC 8266 §2.4) names it. */
  nick: string;
  role: Role;
  reason?: string;
}

const PRIVILEGED = new Set<Affiliation>(['owner', 'admin']);

/** §5.1.2 for the affiliations; members-only and moderated rooms refine `none` first. */
export const roles: Feature = {
  name: 'roles',
  defaultRole(_room, affiliation) {
    switch (affiliation) {
      case 'owner':
      case 'admin':
        return 'moderator';
      case 'member':
      case 'none':
        return 'participant';
      case 'outcast':
        return 'none';
    }
  },
};

/** The role a user with `affiliation` gets on entering (first feature that answers, §5.1.2). */
export function defaultRole(t: Turn, room: RoomState, affiliation: Affiliation): Role {
  for (const f of t.features) {
    const role = f.defaultRole?.(room, affiliation);
    if (role !== undefined) return role;
  }
  return 'none';
}

/**
 * §5.1.3 note: "the role that is gained when an occupant is granted a certain affiliation
 * is stable, whereas the role that is lost ... is left up to the implementation". Gaining
 * an affiliation raises the role to the affiliation's default; losing one lowers it to
 * the new default (`none` removes the occupant, e.g. a member leaving a members-only room).
 */
export function roleAfterAffiliation(t: Turn, current: Role, before: Affiliation, after: Affiliation): Role {
  const target = defaultRole(t, t.room, after);
  if (target === 'none') return 'none';
  const up = AFFILIATION_RANK[after] > AFFILIATION_RANK[before];
  const down = AFFILIATION_RANK[after] < AFFILIATION_RANK[before];
  if (up && ROLE_RANK[current] < ROLE_RANK[target]) return target;
  if (down && ROLE_RANK[current] > ROLE_RANK[target]) return target;
  return current;
}

/**
 * Checks one role change by `actor` (full JID). Rules (after Prosody): the actor must be a
 * moderator or an admin/owner (§8: else forbidden); an admin's or owner's role cannot be
 * changed (§8.4, §5.1.3: it is implied by the affiliation) → not-allowed; admins and
 * owners may otherwise set any role; a mere moderator may only move non-moderators
 * between participant, visitor and none (§5.1.3: moderator status is granted and revoked
 * by admins and owners) → not-allowed; kicking oneself → conflict (§8.2 MAY).
 */
export function checkRoleChange(t: Turn, actorJid: string, actorBare: string, change: RoleChange): Refusal | undefined {
  const actorAff = t.affiliation(actorBare);
  const actorRole = findSession(t.room, actorJid)?.occupant.role ?? 'none';
  if (actorRole !== 'moderator' && !PRIVILEGED.has(actorAff)) return REFUSALS.forbidden;
  const target = occupantByNick(t.room, change.nick);
  if (target === undefined) return REFUSALS.noSuchOccupant;
  if (change.role === target.role) return undefined;
  if (change.role === 'none' && target.bareJid === actorBare) return REFUSALS.selfTarget;
  const targetAff = t.affiliation(target.bareJid);
  if (PRIVILEGED.has(targetAff)) {
    // §8.2: an owner may still kick an admin (higher affiliation may act on lower).
    if (change.role === 'none' && AFFILIATION_RANK[actorAff] > AFFILIATION_RANK[targetAff]) return undefined;
    return REFUSALS.notAllowed;
  }
  if (PRIVILEGED.has(actorAff)) return undefined;
  if (target.role === 'moderator' || change.role === 'moderator') return REFUSALS.notAllowed;
  return undefined;
}

/**
 * Applies a checked role change: kick (307, §8.2) or updated presence (§8.3 ff.).
 * `actor` is undefined when the service itself acts (an admin command): no `<actor/>`.
 */
export function applyRoleChange(t: Turn, change: RoleChange, actor: Actor | undefined): void {
  const target = occupantByNick(t.room, change.nick);
  if (target === undefined || target.role === change.role) return;
  const affiliation = t.affiliation(target.bareJid);
  const reason = change.reason === undefined ? {} : { reason: change.reason };
  if (change.role === 'none') {
    const actorPart = actor === undefined ? {} : { actor: actorRef(actor) };
    removeOccupant(t, target, { codes: ['307'], affiliation, ...actorPart, ...reason }, { notifySelf: true });
    t.log('debug', 'occupant kicked', { nick: change.nick });
    return;
  }
  const previousRole = target.role;
  target.role = change.role;
  t.persist();
  // §8.3 ff.: the new role is announced with `<actor/>` and `<reason/>` (as Prosody does);
  // to a role whose presence is not broadcast, the others see the occupant go (presence-broadcast.ts).
  const actorPart = actor === undefined ? {} : { actor: actorRef(actor) };
  publishOccupant(t, target, { affiliation, ...actorPart, ...reason }, { self: target.sessions, previousRole });
}

/** §8.5, §9.8: the occupants with `role`, as muc#admin items (nick, role, affiliation, jid). */
export function roleList(t: Turn, role: Role): Element[] {
  return [...t.room.occupants.values()]
    .filter((o: Occupant) => o.role === role)
    .map((o) => {
      const attrs: Record<string, string> = { affiliation: t.affiliation(o.bareJid), nick: o.nick, role: o.role };
      const jid = o.sessions[0]?.fullJid;
      if (jid !== undefined) attrs.jid = jid;
      return new Element('item', attrs);
    });
}

/** An actor as shown in `<actor/>`: nick when an occupant, full JID (for those who may see it). */
export function actorRef(actor: Actor): { nick?: string; jid?: string } {
  return actor.nick === undefined ? { jid: actor.jid } : { nick: actor.nick, jid: actor.jid };
}

/** The actor record for the sender of a request. */
export function actorOf(t: Turn, fullJid: string): Actor {
  const nick = findSession(t.room, fullJid)?.occupant.nick;
  return nick === undefined ? { jid: fullJid } : { jid: fullJid, nick };
}
