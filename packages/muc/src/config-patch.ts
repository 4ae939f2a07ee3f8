// XEP-0045 §10.2 / §15.5.3 in JSON: an admin command's `Partial<RoomConfig>` becomes the
// muc#roomconfig form an owner would submit, and is read by the same feature code
// (`readConfig` of each feature, in features/index.ts order). So a command accepts exactly
// the values the form accepts (e.g. maxUsers a count, whois moderators|anyone, a password
// needed for passwordProtected, historyLength at most MAX_HISTORY_LENGTH) and gets the
// same derived values (a non-empty password protects the room).
import type { SubmittedForm } from './data-form.js';
import { REFUSALS, type Refusal } from './errors.js';
import type { RoomConfig } from './room-config.js';
import type { Turn } from './turn.js';
import { readSubmittedConfig } from './features/config-form.js';

/** How one JSON value becomes form values; undefined when it has the wrong type. */
type Encode = (v: unknown) => string[] | undefined;

const text: Encode = (v) => (typeof v === 'string' ? [v] : undefined);
const bool: Encode = (v) => (typeof v === 'boolean' ? [v ? '1' : '0'] : undefined);
const count: Encode = (v) => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? [String(v)] : undefined);
const BROADCAST_ROLES: readonly unknown[] = ['moderator', 'participant', 'visitor', 'none'];
/** Roles: the form ignores values it does not offer (a client's extension), JSON must be exact. */
const roles: Encode = (v) => (Array.isArray(v) && v.every((x) => BROADCAST_ROLES.includes(x)) ? (v as string[]) : undefined);

/** Every configuration key, its muc#roomconfig field and its JSON type. */
const FIELDS: { readonly [K in keyof RoomConfig]: readonly [field: string, encode: Encode] } = {
  name: ['muc#roomconfig_roomname', text],
  description: ['muc#roomconfig_roomdesc', text],
  persistent: ['muc#roomconfig_persistentroom', bool],
  public: ['muc#roomconfig_publicroom', bool],
  membersOnly: ['muc#roomconfig_membersonly', bool],
  moderated: ['muc#roomconfig_moderatedroom', bool],
  passwordProtected: ['muc#roomconfig_passwordprotectedroom', bool],
  password: ['muc#roomconfig_roomsecret', text],
  whois: ['muc#roomconfig_whois', text],
  maxUsers: ['muc#roomconfig_maxusers', count],
  changeSubject: ['muc#roomconfig_changesubject', bool],
  allowInvites: ['muc#roomconfig_allowinvites', bool],
  allowPm: ['muc#roomconfig_allowpm', text],
  presenceBroadcast: ['muc#roomconfig_presencebroadcast', roles],
  historyLength: ['muc#roomconfig_historylength', count],
  language: ['muc#roomconfig_lang', text],
  allowVoiceRequests: ['muc#roomconfig_allowvoicerequests', bool],
  allowRegister: ['{urn:parley:muc}roomconfig_allowregister', bool],
  archiving: ['muc#roomconfig_enablearchiving', bool],
};

function isKey(key: string): key is keyof RoomConfig {
  return Object.prototype.hasOwnProperty.call(FIELDS, key);
}

/**
 * The configuration `patch` (JSON from an admin command) applied over `base`.
 * @returns the new configuration, or a refusal: `bad-request` for an unknown key or a
 *   value of the wrong type, else whatever the owning feature answers for the form value.
 */
export function configFromPatch(t: Turn, base: RoomConfig, patch: Readonly<Record<string, unknown>>): RoomConfig | Refusal {
  const values = new Map<string, string[]>();
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    if (!isKey(key)) return { ...REFUSALS.badRequest, text: `unknown configuration key ${JSON.stringify(key)}` };
    const [field, encode] = FIELDS[key];
    const encoded = encode(value);
    if (encoded === undefined) return { ...REFUSALS.badRequest, text: `invalid value for ${key}` };
    values.set(field, encoded);
  }
  const form: SubmittedForm = { type: 'submit', formType: 'http://jabber.org/protocol/muc#roomconfig', values };
  const next = readSubmittedConfig(t, base, form);
  if ('condition' in next && next.text === undefined) return { ...next, text: `invalid configuration (${next.condition})` };
  return next;
}
