// XEP-0045 §7.7 (Changing Availability Status): "If the room is configured to broadcast
// presence from entities with the occupant's role, the service then sends a presence
// stanza from the occupant changing his or her presence to the full JID of each occupant,
// including extended presence information about the occupant's role and full JID to those
// with privileges to view such information". The session that sent it becomes the
// occupant's primary session (its presence is the one the room shows).
import { serialize } from '@parley/xml';
import type { Occupant, OccupantSession } from '../room-state.js';
import type { StanzaRequest, Turn } from '../turn.js';
import { publishOccupant } from './presence-broadcast.js';

/** An occupant session's new available presence. */
export function updatePresence(t: Turn, req: StanzaRequest, occupant: Occupant, session: OccupantSession): void {
  session.presence = serialize(req.stanza);
  occupant.sessions = [session, ...occupant.sessions.filter((s) => s !== session)];
  t.persist();
  publishOccupant(t, occupant, { affiliation: t.affiliation(occupant.bareJid) }, { self: occupant.sessions });
}
