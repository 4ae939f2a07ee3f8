// XEP-0045 §7.2.5 (Password-Protected Rooms): "If the room requires a password and the user
// did not supply one (or the password provided is incorrect), the service MUST deny access
// to the room ... &notauthorized;". §10.1.2: "If the room creation fails because the
// specified room configuration options violate one or more service policies (e.g., because
// the password for a password-protected room is blank), the service MUST return a
// &notacceptable; error." As in Prosody, muc#roomconfig_roomsecret alone decides: a
// non-empty secret protects the room, an empty one removes protection; an explicit
// muc#roomconfig_passwordprotectedroom=0 clears the secret, =1 needs a non-empty one.
// Owners enter without the password. §6.4: muc_passwordprotected / muc_unsecured.
import { REFUSALS } from '../errors.js';
import type { Feature } from './feature.js';
import { booleanField, readBoolean } from './boolean-field.js';

const PROTECTED = 'muc#roomconfig_passwordprotectedroom';
const SECRET = 'muc#roomconfig_roomsecret';

/** Owns muc#roomconfig_passwordprotectedroom and muc#roomconfig_roomsecret. */
export const password: Feature = {
  name: 'password',
  preJoin(t, join) {
    const config = t.room.config;
    if (!config.passwordProtected || join.affiliation === 'owner') return undefined;
    const given = join.mucX?.getChildText('password') ?? undefined;
    return given === config.password ? undefined : REFUSALS.badPassword;
  },
  configFields(room) {
    return [
      booleanField(PROTECTED, 'Password protected', room.config.passwordProtected),
      { var: SECRET, type: 'text-private', label: 'Password', values: room.config.password === '' ? [] : [room.config.password] },
    ];
  },
  readConfig(form, next) {
    const secretValues = form.values.get(SECRET);
    if (secretValues !== undefined) {
      next.password = secretValues.join('');
      next.passwordProtected = next.password !== '';
    }
    let explicit: boolean | undefined;
    const refusal = readBoolean(form, PROTECTED, (v) => (explicit = v));
    if (refusal !== undefined) return refusal;
    if (explicit === false) {
      next.passwordProtected = false;
      next.password = '';
    } else if (explicit === true) {
      if (next.password === '') return REFUSALS.configNotAcceptable;
      next.passwordProtected = true;
    }
    return undefined;
  },
  discoFeatures(room) {
    return [room.config.passwordProtected ? 'muc_passwordprotected' : 'muc_unsecured'];
  },
};
