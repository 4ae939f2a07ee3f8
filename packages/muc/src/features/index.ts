// The features of a room, in hook order (STYLE.md §3). One list drives every hook:
// - pre-join vetoes run top to bottom and the first refusal wins: locked room (§7.2.10),
//   banned (§7.2.7), members-only (§7.2.6), password (§7.2.5), reserved nick (§7.12),
//   nick in use (§7.2.8), room full (§7.2.9);
// - default roles (§5.1.2): members-only (no role for unaffiliated users), then moderated
//   (visitors), then roles (by affiliation) as the fallback;
// - the configuration form lists the fields in this order, and a submission is read by
//   each feature in this order (all or nothing);
// - disco#info features and muc#roominfo fields appear in this order.
import { affiliations } from './affiliations.js';
import type { Feature } from './feature.js';
import { hats } from './hats.js';
import { history } from './history.js';
import { invite } from './invite.js';
import { selfPing } from './iq-forward.js';
import { join } from './join.js';
import { lock } from './lock.js';
import { mam } from './mam.js';
import { maxUsers } from './max-users.js';
import { membersOnly } from './members-only.js';
import { moderated } from './moderated.js';
import { moderation } from './moderate.js';
import { occupantIds } from './occupant-id.js';
import { password } from './password.js';
import { presenceBroadcast } from './presence-broadcast.js';
import { privateMessage } from './private-message.js';
import { register } from './register.js';
import { roles } from './roles.js';
import { roomProfile } from './room-profile.js';
import { stanzaIds } from './stanza-id.js';
import { subject } from './subject.js';
import { voiceRequest } from './voice-request.js';
import { whois } from './whois.js';

/** Every feature, in hook order. */
export const FEATURES: readonly Feature[] = [
  roomProfile,
  lock,
  affiliations,
  membersOnly,
  password,
  register,
  join,
  maxUsers,
  moderated,
  voiceRequest,
  roles,
  subject,
  invite,
  privateMessage,
  presenceBroadcast,
  history,
  whois,
  selfPing,
  stanzaIds,
  occupantIds,
  hats,
  mam,
  moderation,
];
