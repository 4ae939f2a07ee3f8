// XEP-0045 §7.6 (Changing Nickname): "The service then sends two presence stanzas to the
// full JID of each occupant (including the occupant who is changing his or her room
// nickname), one of type "unavailable" for the old nickname and one indicating
// availability for the new nickname. The unavailable presence MUST contain ... The new
// nickname ... A status code of 303". "If the user attempts to change his or her room
// nickname to a room nickname that is already in use by another user (or that is reserved
// by another user affiliated with the room ...), the service MUST deny the nickname change
// request ... &conflict;". A nick held from several resources (§7.2.8) cannot be changed
// by one of them (Prosody does the same): not-acceptable. Nicks compare per RFC 8266
// (nick.ts): an equivalent nick of another occupant is a conflict, a change of one's own
// nick to an equivalent form (e.g. only its case) is allowed; "If the service modifies
// the user's nickname ..., it MUST include a MUC status code of 210" in self-presence.
import { serialize } from '@parley/xml';
import { REFUSALS } from '../errors.js';
import { keyOf, type Nick } from '../nick.js';
import type { Occupant, OccupantSession } from '../room-state.js';
import type { StanzaRequest, Turn } from '../turn.js';
import { publishOccupant } from './presence-broadcast.js';

/** Moves `occupant` (one session) from its nick to `newNick`. */
export function changeNick(t: Turn, req: StanzaRequest, occupant: Occupant, session: OccupantSession, newNick: Nick): void {
  if (occupant.sessions.length > 1) return t.refuse(req, REFUSALS.nickChangeMultiSession);
  const holder = t.room.occupants.get(newNick.key);
  if (holder !== undefined && holder !== occupant) return t.refuse(req, REFUSALS.nickInUse);
  for (const feature of t.features) {
    const refusal = feature.preNickChange?.(t, occupant, newNick);
    if (refusal !== undefined) return t.refuse(req, refusal);
  }
  const affiliation = t.affiliation(occupant.bareJid);
  publishOccupant(t, occupant, { unavailable: true, codes: ['303'], newNick: newNick.nick, affiliation }, { self: occupant.sessions });
  t.room.occupants.delete(keyOf(occupant));
  occupant.nick = newNick.nick;
  session.presence = serialize(req.stanza);
  t.room.occupants.set(newNick.key, occupant);
  t.persist();
  const selfCodes = newNick.nick === req.nick ? [] : ['210'];
  publishOccupant(t, occupant, { affiliation, selfCodes }, { self: occupant.sessions });
}
