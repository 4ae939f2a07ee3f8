// XEP-0045 §7.2.3 / §7.2.4 (non-anonymous and semi-anonymous rooms): muc#roomconfig_whois,
// "a value of "anyone"" (non-anonymous) or "moderators" (semi-anonymous); who may see real
// JIDs is decided by `seesRealJids` (room-queries.ts). §10.2.1: "If the room is now
// non-anonymous, status code 172. If the room is now semi-anonymous, status code 173."
// §6.4: muc_nonanonymous / muc_semianonymous.
import { REFUSALS } from '../errors.js';
import type { Whois } from '../room-config.js';
import type { Feature } from './feature.js';

const FIELD = 'muc#roomconfig_whois';

/** Owns muc#roomconfig_whois. */
export const whois: Feature = {
  name: 'whois',
  configFields(room) {
    return [
      {
        var: FIELD,
        type: 'list-single',
        label: 'Who May Discover Real JIDs?',
        values: [room.config.whois],
        options: [
          { label: 'Moderators Only', value: 'moderators' },
          { label: 'Anyone', value: 'anyone' },
        ],
      },
    ];
  },
  readConfig(form, next) {
    const value = form.values.get(FIELD)?.[0];
    if (value === undefined) return undefined;
    if (value !== 'moderators' && value !== 'anyone') return REFUSALS.badFormValue;
    next.whois = value as Whois;
    return undefined;
  },
  configStatusCodes(before, after) {
    if (before.whois === after.whois) return [];
    return [after.whois === 'anyone' ? '172' : '173'];
  },
  discoFeatures(room) {
    return [room.config.whois === 'anyone' ? 'muc_nonanonymous' : 'muc_semianonymous'];
  },
};
