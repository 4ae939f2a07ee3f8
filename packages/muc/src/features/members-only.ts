// XEP-0045 §7.2.6 (Members-Only Rooms): "If the room is members-only but the user is not
// on the member list, the service MUST deny access to the room ... &registration;".
// §5.1.2: unaffiliated users have no role in a members-only room. §10.2: "If as a result
// of a change in the room configuration the room type is changed to members-only but there
// are non-members in the room, the service MUST remove any non-members from the room and
// include a status code of 322 in the presence unavailable stanzas sent to those users as
// well as any remaining occupants." §6.4: muc_membersonly / muc_open.
import { REFUSALS } from '../errors.js';
import { AFFILIATION_RANK } from '../room-queries.js';
import type { Feature } from './feature.js';
import { booleanField, readBoolean } from './boolean-field.js';
import { removeOccupant } from './leave.js';

/** Owns muc#roomconfig_membersonly. */
export const membersOnly: Feature = {
  name: 'members-only',
  preJoin(t, join) {
    return t.room.config.membersOnly && AFFILIATION_RANK[join.affiliation] < AFFILIATION_RANK.member ? REFUSALS.membersOnly : undefined;
  },
  defaultRole(room, affiliation) {
    return room.config.membersOnly && affiliation === 'none' ? 'none' : undefined;
  },
  configFields(room) {
    return [booleanField('muc#roomconfig_membersonly', 'Only allow members to join', room.config.membersOnly)];
  },
  readConfig(form, next) {
    return readBoolean(form, 'muc#roomconfig_membersonly', (v) => (next.membersOnly = v));
  },
  configApplied(t, before) {
    if (before.membersOnly || !t.room.config.membersOnly) return;
    for (const occupant of [...t.room.occupants.values()]) {
      const affiliation = t.affiliation(occupant.bareJid);
      if (AFFILIATION_RANK[affiliation] >= AFFILIATION_RANK.member) continue;
      removeOccupant(t, occupant, { codes: ['322'], affiliation }, { notifySelf: true });
    }
  },
  discoFeatures(room) {
    return [room.config.membersOnly ? 'muc_membersonly' : 'muc_open'];
  },
};
