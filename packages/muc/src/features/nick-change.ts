// XEP-0045 §7.6 (Changing Nickname): "The service then sends two presence stanzas to the
// full JID of each occupant (including the occupant who is changing his or her room
// nickname), one of type "unavailable" for the old nickname and one indicating
// availability for the new nickname. The unavailable presence MUST contain ... The new
// nickname ... A status code of 303". "If the user attempts to change his or her room
// nickname to a room nickname that is already in use by another user (or that is reserved
// by another user affiliated with the room ...), the service MUST deny the nickname change
// request ... &conflict;". A nick held from several resources (§7.2.8) cannot be changed
// by one of them (Prosody does the same): not-acceptable.
import { serialize } from '@parley/xml';
import { REFUSALS } from '../errors.js';
import type { Occupant, OccupantSession } from '../room-state.js';
import type { StanzaRequest, Turn } from '../turn.js';
import { publishOccupant } from './presence-broadcast.js';

/** Moves `occupant` (one session) from its nick to `newNick`. */
export function changeNick(t: Turn, req: StanzaRequest, occupant: Occupant, session: OccupantSession, newNick: string): void {
  if (occupant.sessions.length > 1) return t.refuse(req, REFUSALS.nickChangeMultiSession);
  if (t.room.occupants[newNick] !== undefined) return t.refuse(req, REFUSALS.nickInUse);
  for (const feature of t.features) {
    const refusal = feature.preNickChange?.(t, occupant, newNick);
    if (refusal !== undefined) return t.refuse(req, refusal);
  }
  const affiliation = t.affiliation(occupant.bareJid);
  publishOccupant(t, occupant, { unavailable: true, codes: ['303'], newNick, affiliation }, { self: occupant.sessions });
  delete t.room.occupants[occupant.nick];
  occupant.nick = newNick;
  session.presence = serialize(req.stanza);
  t.room.occupants[newNick] = occupant;
  t.persist();
  publishOccupant(t, occupant, { affiliation }, { self: occupant.sessions });
}
