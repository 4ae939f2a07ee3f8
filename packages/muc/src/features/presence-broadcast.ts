// XEP-0045 §7.2.2 (Presence Broadcast): "Unless the room is configured to not broadcast
// presence from new occupants below a certain affiliation level (as controlled by the
// "muc#roomconfig_presencebroadcast" room configuration option), the service MUST also
// send presence from the new participant's occupant JID to the full JIDs of all the
// occupants (including the new occupant)." §5.1: "Information about roles MUST be sent in
// all presence stanzas generated or reflected by the room". §7.2.3/§7.2.4: the real JID
// goes only to those allowed to see it.
//
// Absent members (issue #12, as Prosody 0.12 does): the value `none` in
// muc#roomconfig_presencebroadcast (not in the default) means "show the members who are
// not in the room": a joining session gets, after the other occupants' presence and before
// its self-presence (§7.2.3's order, the absent ones being "occupants" of role none),
// unavailable presence for each affiliated bare JID with a registered nick (§7.10) and
// without an occupant, with its affiliation and role `none` (§5.1: "none" = not in the
// room), from room/nick with `nick`; the real JID in the item only for those who may see
// it (§7.2.3, §7.2.4). Members without a registered nick have no occupant JID to show and
// are left out (Prosody 0.12 does not show them either). Unlike Prosody 0.12, outcasts are
// not shown (§9.2: the ban list is for admins) and the presence carries the member's
// XEP-0421 occupant id (XEP-0421 §4: "every presence sent by a MUC").
import { Element } from 'ltx';
import { NS } from '@parley/xml';
import type { FormField } from '../data-form.js';
import { mucUserX } from '../muc-user-x.js';
import { occupantPresence, storedPresence, type PresenceChange } from '../occupant-presence.js';
import type { RoomConfig } from '../room-config.js';
import type { Occupant, OccupantSession, Role, RoomState } from '../room-state.js';
import { seesRealJids } from '../room-queries.js';
import type { Broadcast } from '../step-result.js';
import type { Turn } from '../turn.js';
import type { Feature } from './feature.js';
import { hatsOf } from './hats.js';
import { addOccupantId, occupantIdOf } from './occupant-id.js';

const FIELD = 'muc#roomconfig_presencebroadcast';
/** The values offered; `none` shows absent members (see above). */
const ROLES: readonly Role[] = ['moderator', 'participant', 'visitor', 'none'];

/** Whether presence of occupants with `role` is broadcast to the other occupants. */
export function isBroadcast(room: RoomState, role: Role): boolean {
  return role !== 'none' && room.config.presenceBroadcast.includes(role);
}

/** Whether the room shows its absent members to joiners (`none` in presencebroadcast). */
export function showsAbsentMembers(room: RoomState): boolean {
  return room.config.presenceBroadcast.includes('none');
}

/**
 * Sends `session` (joining as `joinerBare`) the unavailable presence of every absent
 * member, when the room shows them (see the file comment). Members are bare JIDs with an
 * affiliation other than outcast, a registered nick, and no occupant in the room (nor the
 * joiner itself); `sees` is whether the joiner may see real JIDs. At most one presence
 * per affiliation, in the affiliations' order.
 */
export function sendAbsentMembers(t: Turn, session: OccupantSession, joinerBare: string, sees: boolean): void {
  const room = t.room;
  if (!showsAbsentMembers(room)) return;
  const present = new Set<string>([joinerBare]);
  for (const occupant of room.occupants.values()) present.add(occupant.bareJid);
  for (const [bare, record] of room.affiliations) {
    if (record.affiliation === 'outcast' || record.nick === undefined || present.has(bare)) continue;
    const presence = new Element('presence', { xmlns: NS.CLIENT, from: t.occupantJid(record.nick), type: 'unavailable' });
    const item = { affiliation: t.affiliation(bare), role: 'none' as const, nick: record.nick, ...(sees ? { jid: bare } : {}) };
    presence.cnode(mucUserX({ item }));
    t.sendTo(session, addOccupantId(presence, occupantIdOf(room, bare)));
  }
}

/** Who gets an occupant's presence. */
export interface Publication {
  /** Sessions of the occupant itself that get self-presence (status 110). */
  self: readonly OccupantSession[];
  /** Also send to the other occupants (when the occupant's role is broadcast). Default true. */
  others?: boolean;
  /**
   * The occupant's role before this change, when the change is a new role (§8.3 ff.,
   * §9): if that role was broadcast and the new one is not, the others get unavailable
   * presence (see {@link publishOccupant}).
   */
  previousRole?: Role;
}

/**
 * Sends `occupant`'s presence: self-presence to `pub.self`, then (unless the role is not
 * broadcast) to every session of every other occupant in the room. For a removal, pass
 * the occupant with its previous role and `change.role = 'none'`: the previous role
 * decides broadcast and what the removed user may see. A role change from a broadcast
 * role to one that is not (`pub.previousRole`) shows the occupant leaving: the others get
 * unavailable presence with the new role (and the reflected presence, actor and reason),
 * as Prosody 0.12 does; §7.2.2 stops its presence from reaching them from then on.
 * Available presence carries the occupant's XEP-0317 hats (features/hats.ts) unless
 * `change.hats` is given.
 */
export function publishOccupant(t: Turn, occupant: Occupant, change: PresenceChange, pub: Publication): void {
  const room = t.room;
  if (change.hats === undefined && change.unavailable !== true) {
    const hats = hatsOf(room, occupant.bareJid);
    if (hats.length > 0) change = { ...change, hats };
  }
  const selfSees = seesRealJids(room, occupant.role);
  for (const session of pub.self) {
    t.sendTo(session, occupantPresence(room.jid, occupant, change, { to: session.fullJid, self: true, seesJids: selfSees }));
  }
  if (pub.others === false) return;
  if (isBroadcast(room, occupant.role)) return sendToOthers(t, occupant, change);
  if (pub.previousRole !== undefined && isBroadcast(room, pub.previousRole) && change.unavailable !== true) {
    sendToOthers(t, occupant, { ...change, unavailable: true, base: storedPresence(occupant) });
  }
}

/**
 * `occupant`'s presence to every session of every other occupant, whatever its role.
 * What another occupant gets depends only on whether it sees real JIDs: one stanza per
 * class, built on first use and sent as a broadcast (shared children, a head per
 * session), in the occupants' order.
 */
function sendToOthers(t: Turn, occupant: Occupant, change: PresenceChange): void {
  const room = t.room;
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

/**
 * A new muc#roomconfig_presencebroadcast (§10.2; after Prosody 0.12, which does the same):
 * each occupant whose role was not broadcast and now is gets its self-presence again and is
 * announced to the others (available presence, as at its join, §7.2.2); each whose role was
 * broadcast and no longer is gets its self-presence again and the others get unavailable
 * presence for it (no presence content, role as now). In occupant order, before the
 * configuration change is acknowledged and announced (104).
 */
function announceBroadcastChange(t: Turn, before: RoomConfig): void {
  const wasBroadcast = (role: Role): boolean => role !== 'none' && before.presenceBroadcast.includes(role);
  for (const occupant of [...t.room.occupants.values()]) {
    const now = isBroadcast(t.room, occupant.role);
    if (now === wasBroadcast(occupant.role)) continue;
    const affiliation = t.affiliation(occupant.bareJid);
    publishOccupant(t, occupant, { affiliation }, { self: occupant.sessions, others: now });
    if (!now) sendToOthers(t, occupant, { affiliation, unavailable: true });
  }
}

/** Owns muc#roomconfig_presencebroadcast. */
export const presenceBroadcast: Feature = {
  name: 'presence-broadcast',
  configApplied(t, before) {
    announceBroadcastChange(t, before);
  },
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
          { label: 'None (absent members)', value: 'none' },
        ],
      },
    ];
  },
  readConfig(form, next) {
    const values = form.values.get(FIELD);
    if (values === undefined) return undefined;
    // A list-multi: values we do not offer are ignored rather than refusing the whole form
    // (XEP-0045 §10.2 submits the form as a whole; one foreign value should not undo the rest).
    next.presenceBroadcast = ROLES.filter((r) => values.includes(r));
    return undefined;
  },
};
