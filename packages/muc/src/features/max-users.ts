// XEP-0045 §7.2.9 (Max Users): "If the room has reached its maximum number of occupants,
// the service SHOULD deny access to the room ... &unavailable;" (type 'wait' in the
// example); "If the room has reached its maximum number of occupants and a room admin or
// owner attempts to join, the room MUST allow the admin or owner to join". A further
// session of a nick already in the room is not a new occupant.
import { parseCount } from '../data-form.js';
import { REFUSALS } from '../errors.js';
import { AFFILIATION_RANK } from '../room-queries.js';
import type { Feature } from './feature.js';

const FIELD = 'muc#roomconfig_maxusers';

/** Owns muc#roomconfig_maxusers (0 = no limit, shown as 'none'). */
export const maxUsers: Feature = {
  name: 'max-users',
  preJoin(t, join) {
    const max = t.room.config.maxUsers;
    if (max === 0 || join.existing !== undefined) return undefined;
    if (AFFILIATION_RANK[join.affiliation] >= AFFILIATION_RANK.admin) return undefined;
    return t.room.occupants.size >= max ? REFUSALS.roomFull : undefined;
  },
  configFields(room) {
    const current = room.config.maxUsers === 0 ? 'none' : String(room.config.maxUsers);
    return [
      {
        var: FIELD,
        type: 'list-single',
        label: 'Maximum Number of Occupants',
        values: [current],
        options: ['10', '20', '30', '50', '100', 'none'].map((v) => ({ label: v === 'none' ? 'None' : v, value: v })),
      },
    ];
  },
  readConfig(form, next) {
    const value = form.values.get(FIELD)?.[0];
    if (value === undefined) return undefined;
    if (value.trim() === 'none') {
      next.maxUsers = 0;
      return undefined;
    }
    const n = parseCount(value);
    if (n === undefined) return REFUSALS.badFormValue;
    next.maxUsers = n;
    return undefined;
  },
};
