// XEP-0045 §10.2 and §15.5.3 (the muc#roomconfig FORM_TYPE): the room configuration.
import type { RoomContext } from './room-input.js';
import type { Role } from './room-state.js';

/** XEP-0045 muc#roomconfig_allowpm: who may send private messages (§7.5). */
export type AllowPm = 'anyone' | 'participants' | 'moderators' | 'none';

/** XEP-0045 muc#roomconfig_whois: who may discover real JIDs (§7.2.3, §7.2.4). */
export type Whois = 'moderators' | 'anyone';

/** A room's configuration; each field is owned by one feature file (see features/index.ts). */
export interface RoomConfig {
  /** muc#roomconfig_roomname; '' = none (disco shows the room's localpart). */
  name: string;
  /** muc#roomconfig_roomdesc. */
  description: string;
  /** muc#roomconfig_persistentroom: kept when the last occupant leaves. */
  persistent: boolean;
  /** muc#roomconfig_publicroom: listed in the service's disco#items. */
  public: boolean;
  /** muc#roomconfig_membersonly (§7.2.6). */
  membersOnly: boolean;
  /** muc#roomconfig_moderatedroom: unaffiliated users enter as visitors (§5.1.2). */
  moderated: boolean;
  /** muc#roomconfig_passwordprotectedroom (§7.2.5); true exactly when `password` is set. */
  passwordProtected: boolean;
  /** muc#roomconfig_roomsecret; '' when not password-protected. */
  password: string;
  /** muc#roomconfig_whois. */
  whois: Whois;
  /** muc#roomconfig_maxusers; 0 = unlimited (§7.2.9). */
  maxUsers: number;
  /** muc#roomconfig_changesubject: occupants (with voice) may change the subject (§8.1). */
  changeSubject: boolean;
  /** muc#roomconfig_allowinvites: members may invite in members-only rooms (§7.8.2). */
  allowInvites: boolean;
  /** muc#roomconfig_allowpm (§7.5). */
  allowPm: AllowPm;
  /** muc#roomconfig_presencebroadcast: roles whose presence is broadcast (§7.2.2). */
  presenceBroadcast: Role[];
  /** muc#roomconfig_historylength (Prosody's name): discussion history kept, in messages. */
  historyLength: number;
  /** muc#roomconfig_lang: language of discussion ('' = unspecified). */
  language: string;
  /**
   * muc#roomconfig_allowvoicerequests: visitors may request voice (§7.13). Rooms stored
   * before this option lack it, which means on (voice-request.ts `voiceRequestsAllowed`).
   */
  allowVoiceRequests: boolean;
  /**
   * `{urn:parley:muc}roomconfig_allowregister` (ours; XEP-0045 §7.10 leaves who may
   * register to the room): unaffiliated users may register a nick, which makes them
   * members. Off by default, as in Prosody 0.12. Rooms stored before it existed read as off.
   */
  allowRegister: boolean;
  /**
   * muc#roomconfig_enablearchiving (Prosody 0.12's field): the room keeps a XEP-0313 archive
   * (features/mam.ts). On by default (Prosody's muc_log_by_default); rooms stored before it
   * existed read as on.
   */
  archiving: boolean;
}

const BUILT_IN: RoomConfig = {
  name: '',
  description: '',
  persistent: false,
  public: true,
  membersOnly: false,
  moderated: false,
  passwordProtected: false,
  password: '',
  whois: 'moderators',
  maxUsers: 0,
  changeSubject: false,
  allowInvites: false,
  allowPm: 'anyone',
  presenceBroadcast: ['moderator', 'participant', 'visitor'],
  historyLength: 20,
  language: '',
  allowVoiceRequests: true,
  allowRegister: false,
  archiving: true,
};

/**
 * The configuration of a new room: the built-in defaults (semi-anonymous, open, public,
 * temporary, unmoderated, no password, 20 history messages) overlaid with
 * `ctx.defaults`. Returns a fresh object each call.
 */
export function defaultRoomConfig(ctx?: RoomContext): RoomConfig {
  const merged: RoomConfig = { ...BUILT_IN, ...(ctx?.defaults ?? {}) };
  merged.presenceBroadcast = [...merged.presenceBroadcast];
  merged.passwordProtected = merged.password !== '';
  return merged;
}
