// Read-only questions about a room: XEP-0045 §5.1 and §5.2 (role and affiliation
// hierarchies), §7.2.3/§7.2.4 (who may see real JIDs), §7.2.8 (sessions by full JID).
import { nickKeyOf } from './nick.js';
import type { RoomContext } from './room-input.js';
import type { Affiliation, Occupant, OccupantSession, Role, RoomState } from './room-state.js';

/** §5.2.1: "affiliations exist in a hierarchy"; outcast lowest. */
export const AFFILIATION_RANK: Readonly<Record<Affiliation, number>> = {
  outcast: -1,
  none: 0,
  member: 1,
  admin: 2,
  owner: 3,
};

/** §5.1.1: "roles exist in a hierarchy". */
export const ROLE_RANK: Readonly<Record<Role, number>> = {
  none: 0,
  visitor: 1,
  participant: 2,
  moderator: 3,
};

/**
 * The affiliation of a bare JID: `owner` for the service's admins (they act as owners of
 * every room), else the stored one, else `none` (§5.2: "none" is never stored).
 */
export function affiliationOf(room: RoomState, bareJid: string, ctx: RoomContext): Affiliation {
  if (ctx.serviceAdmins.includes(bareJid)) return 'owner';
  return room.affiliations.get(bareJid)?.affiliation ?? 'none';
}

/** The occupant and session a full JID is joined as, if any. */
export function findSession(
  room: RoomState,
  fullJid: string,
): { occupant: Occupant; session: OccupantSession } | undefined {
  for (const occupant of room.occupants.values()) {
    const session = occupant.sessions.find((s) => s.fullJid === fullJid);
    if (session !== undefined) return { occupant, session };
  }
  return undefined;
}

/**
 * §7.2.3, §7.2.4: whether `viewer` may see occupants' real JIDs: in a non-anonymous room
 * everyone, in a semi-anonymous room only moderators.
 */
export function seesRealJids(room: RoomState, viewerRole: Role): boolean {
  return room.config.whois === 'anyone' || viewerRole === 'moderator';
}

/**
 * The bare JID holding a registered nick (§7.12) equivalent to the nick whose comparison
 * form (RFC 8266 §2.4, nick.ts) is `key`, if any.
 */
export function nickOwner(room: RoomState, key: string): string | undefined {
  for (const [jid, rec] of room.affiliations) {
    if (rec.nick !== undefined && nickKeyOf(rec.nick) === key) return jid;
  }
  return undefined;
}

/** Number of stored owners (service admins not counted). */
export function ownerCount(room: RoomState): number {
  return [...room.affiliations.values()].filter((a) => a.affiliation === 'owner').length;
}
