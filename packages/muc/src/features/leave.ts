// XEP-0045 §7.14 (Exiting a Room): "The service MUST then send a presence stanzas of type
// "unavailable" from the departing user's occupant JID to the departing occupant's full
// JIDs, including a status code of "110"", then to the remaining occupants; "the 'role'
// attribute MUST be set to a value of "none"". "If the room is not persistent and this
// occupant is the last to exit, the service is responsible for destroying the room."
// §17.3 rule 5: "A room MUST silently ignore unavailable presence received from a user who
// has a role of "none"." §7.14 also: if the user's server sends unavailable presence on
// its behalf (a lost session), the same happens: `session-ended` and `gateway-down`
// inputs are handled here, without sending anything to the sessions that are gone.
import type { Element } from 'ltx';
import { keyOf } from '../nick.js';
import type { PresenceChange } from '../occupant-presence.js';
import type { Occupant, OccupantSession } from '../room-state.js';
import { findSession } from '../room-queries.js';
import type { StanzaRequest, Turn } from '../turn.js';
import { publishOccupant } from './presence-broadcast.js';

/** Unavailable presence to room/nick or to the bare room JID: the session leaves. */
export function onUnavailable(t: Turn, req: StanzaRequest): void {
  const found = findSession(t.room, req.from);
  if (found === undefined) return; // §17.3 rule 5
  removeSession(t, found.occupant, found.session, { base: req.stanza, notifySelf: true });
}

/**
 * Removes one session. The last session takes the occupant out of the room (unavailable
 * presence to all); otherwise only that session is told (self-presence with role none)
 * and, if it was the primary one, the others see the new primary session's presence.
 */
export function removeSession(
  t: Turn,
  occupant: Occupant,
  session: OccupantSession,
  opts: { base?: Element; notifySelf: boolean },
): void {
  const affiliation = t.affiliation(occupant.bareJid);
  if (occupant.sessions.length <= 1) {
    const change: PresenceChange = { unavailable: true, affiliation, role: 'none' };
    if (opts.base !== undefined) change.base = opts.base;
    removeOccupant(t, occupant, change, { notifySelf: opts.notifySelf });
    return;
  }
  const wasPrimary = occupant.sessions[0] === session;
  occupant.sessions = occupant.sessions.filter((s) => s !== session);
  t.persist();
  if (opts.notifySelf) {
    const change: PresenceChange = { unavailable: true, affiliation, role: 'none' };
    if (opts.base !== undefined) change.base = opts.base;
    publishOccupant(t, occupant, change, { self: [session], others: false });
  }
  if (wasPrimary) publishOccupant(t, occupant, { affiliation }, { self: [], others: true });
}

/**
 * Takes `occupant` (with its current role) out of the room and publishes `change`
 * (unavailable, role none, plus any status codes) to it and the remaining occupants.
 */
export function removeOccupant(
  t: Turn,
  occupant: Occupant,
  change: PresenceChange,
  opts: { notifySelf: boolean },
): void {
  const key = keyOf(occupant);
  if (t.room.occupants.get(key) === occupant) t.room.occupants.delete(key);
  t.persist();
  publishOccupant(t, occupant, { ...change, unavailable: true, role: 'none' }, {
    self: opts.notifySelf ? occupant.sessions : [],
  });
}

/** Removes every session matching `gone`, telling only the remaining occupants. */
export function dropSessions(t: Turn, gone: (s: OccupantSession) => boolean): number {
  let dropped = 0;
  for (const occupant of [...t.room.occupants.values()]) {
    for (const session of [...occupant.sessions]) {
      if (!gone(session)) continue;
      removeSession(t, occupant, session, { notifySelf: false });
      dropped++;
    }
  }
  return dropped;
}

/**
 * §7.14 and §10.1.2: a room whose last occupant left during this turn is destroyed when it
 * is temporary, or still locked (its creator left before configuring it). A room that was
 * already empty is kept (a temporary room created by the admin API's `create` waits for
 * its first occupant; room-profile.ts closes an empty room made temporary).
 */
export function closeIfEmpty(t: Turn): void {
  if (t.destroyed !== undefined) return;
  if (t.room.occupants.size > 0 || t.initialOccupants === 0) return;
  if (t.room.config.persistent && !t.room.locked) return;
  t.log('info', 'room emptied', { persistent: t.room.config.persistent, locked: t.room.locked });
  t.destroy();
}
