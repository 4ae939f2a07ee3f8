// XEP-0045 §7.2.2 (Presence Broadcast): "Unless the room is configured to not broadcast
// presence from new occupants below a certain affiliation level (as controlled by the
// "muc#roomconfig_presencebroadcast" room configuration option), the service MUST also
// send presence from the new participant's occupant JID to the full JIDs of all the
// occupants (including the new occupant)." §5.1: "Information about roles MUST be sent in
// all presence stanzas generated or reflected by the room". §7.2.3/§7.2.4: the real JID
// goes only to those allowed to see it.
import type { FormField } from '../data-form.js';
import { occupantPresence, type PresenceChange } from '../occupant-presence.js';
import type { Occupant, OccupantSession, Role, RoomState } from '../room-state.js';
import { seesRealJids } from '../room-queries.js';
import type { Broadcast } from '../step-result.js';
import type { Turn } from '../turn.js';
import type { Feature } from './feature.js';

const FIELD = 'muc#roomconfig_presencebroadcast';
const ROLES: readonly Role[] = ['moderator', 'participant', 'visitor'];

/** Whether presence of occupants with `role` is broadcast to the other occupants. */
export function isBroadcast(room: RoomState, role: Role): boolean {
  return room.config.presenceBroadcast.includes(role);
}

/** Who gets an occupant's presence. */
export interface Publication {
  /** Sessions of the occupant itself that get self-presence (status 110). */
  self: readonly OccupantSession[];
  /** Also send to the other occupants (when the occupant's role is broadcast). Default true. */
  others?: boolean;
}

/**
 * Sends `occupant`'s presence: self-presence to `pub.self`, then (unless the role is not
 * broadcast) to every session of every other occupant in the room. For a removal, pass
 * the occupant with its previous role and `change.role = 'none'`: the previous role
 * decides broadcast and what the removed user may see.
 */
export function publishOccupant(t: Turn, occupant: Occupant, change: PresenceChange, pub: Publication): void {
  const room = t.room;
  const selfSees = seesRealJids(room, occupant.role);
  for (const session of pub.self) {
    t.sendTo(session, occupantPresence(room.jid, occupant, change, { to: session.fullJid, self: true, seesJids: selfSees }));
  }
  if (pub.others === false || !isBroadcast(room, occupant.role)) return;
  // What another occupant gets depends only on whether it sees real JIDs: one stanza per
  // class, built on first use and sent as a broadcast (shared children, a head per
  // session), in the occupants' order.
  const classes: Array<Broadcast | undefined> = [undefined, undefined];
  for (const other of room.occupants.values()) {
    if (other.nick === occupant.nick) continue;
    const sees = seesRealJids(room, other.role);
    const k = sees ? 1 : 0;
    for (const session of other.sessions) {
      const shared = (classes[k] ??= t.shared(occupantPresence(room.jid, occupant, change, { to: session.fullJid, self: false, seesJids: sees })));
      t.sendShared(session, shared);
    }
  }
}

/** Owns muc#roomconfig_presencebroadcast. */
export const presenceBroadcast: Feature = {
  name: 'presence-broadcast',
  configFields(room): FormField[] {
    return [
      {
        var: FIELD,
        type: 'list-multi',
        label: 'Roles for which Presence is Broadcasted',
        values: room.config.presenceBroadcast,
        options: [
          { label: 'Moderator', value: 'moderator' },
          { label: 'Participant', value: 'participant' },
          { label: 'Visitor', value: 'visitor' },
        ],
      },
    ];
  },
  readConfig(form, next) {
    const values = form.values.get(FIELD);
    if (values === undefined) return undefined;
    // A list-multi: values we do not offer (e.g. Prosody's `none`, which shows absent
    // members) are ignored rather than refusing the whole form (XEP-0045 §10.2 submits the
    // form as a whole; one foreign value should not undo the rest).
    next.presenceBroadcast = ROLES.filter((r) => values.includes(r));
    return undefined;
  },
};
