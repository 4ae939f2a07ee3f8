// XEP-0045 §5.1.2: in a moderated room an unaffiliated user enters as a visitor; §7.4:
// visitors may not send messages to all occupants (see groupchat.ts). §6.4: muc_moderated
// / muc_unmoderated. Voice is granted and revoked through muc#admin roles (roles.ts).
import type { Feature } from './feature.js';
import { booleanField, readBoolean } from './boolean-field.js';

/** Owns muc#roomconfig_moderatedroom. */
export const moderated: Feature = {
  name: 'moderated',
  defaultRole(room, affiliation) {
    return room.config.moderated && affiliation === 'none' ? 'visitor' : undefined;
  },
  configFields(room) {
    return [booleanField('muc#roomconfig_moderatedroom', 'Moderated (only occupants with voice may send messages)', room.config.moderated)];
  },
  readConfig(form, next) {
    return readBoolean(form, 'muc#roomconfig_moderatedroom', (v) => (next.moderated = v));
  },
  discoFeatures(room) {
    return [room.config.moderated ? 'muc_moderated' : 'muc_unmoderated'];
  },
};
