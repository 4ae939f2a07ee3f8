// XEP-0045 §7.10 (Registering with a Room) with XEP-0077 (jabber:iq:register), §7.12
// (reserved nicks). "If the user is already registered ... the room MUST reply with an IQ
// stanza of type "result", which MUST contain an empty <registered/> element and SHOULD
// contain at least a <username/> element"; "Otherwise, the room MUST then return a Data
// Form"; "If the desired room nickname is already reserved for that room, the room MUST
// return a &conflict; error"; "If the user did not include a valid data form, the room
// MUST return a &badrequest; error"; "If the user requesting registration requirements is
// not allowed to register with the room ..., the room MUST return a &notallowed; error" —
// here: outcasts (forbidden, as for entering), and users without an affiliation unless the
// room allows them to register ({urn:parley:muc}roomconfig_allowregister, off by default
// as in Prosody 0.12, which answers registration-required; never in a members-only room:
// registration must not be a way around the member list). A successful registration makes
// the user a member with the nick reserved; one that leaves the affiliation as it was (a
// member or owner registering or changing their nick) is still announced in presence, as
// Prosody does. A nick in use by another occupant cannot be registered (conflict), but an
// admin reserving one through muc#admin removes that occupant (affiliations.ts). §7.12: "If another user attempts to join
// the room with a nickname reserved by the first user, the service MUST deny entry to the
// second user and return a &conflict; error". XEP-0077 §3.2 (<remove/>): bad-request when
// <remove/> is not alone, registration-required when not registered; the user's
// affiliation becomes none (refused with conflict for the last owner, §10.5), which in a
// members-only room removes them with status 321. The nick is stored enforced and compared
// (with occupants' and other registered nicks) per RFC 8266 (nick.ts).
import { Element } from 'ltx';
import { NS } from '@parley/xml';
import { buildForm, readForm } from '../data-form.js';
import { REFUSALS } from '../errors.js';
import { prepareNick } from '../nick.js';
import { AFFILIATION_RANK, nickOwner, ownerCount } from '../room-queries.js';
import type { Affiliation } from '../room-state.js';
import type { StanzaRequest, Turn } from '../turn.js';
import { applyAffiliation } from './affiliations.js';
import { booleanField, readBoolean } from './boolean-field.js';
import type { Feature } from './feature.js';

const FORM_TYPE = 'http://jabber.org/protocol/muc#register';
const NICK_FIELD = 'muc#register_roomnick';
const ALLOW_FIELD = '{urn:parley:muc}roomconfig_allowregister';

/** Reserved nicks on join and nick change; the jabber:iq:register disco feature. */
export const register: Feature = {
  name: 'register',
  preJoin(t, join) {
    const holder = nickOwner(t.room, join.nick.key);
    return holder !== undefined && holder !== join.req.fromBare ? REFUSALS.nickReserved : undefined;
  },
  preNickChange(t, occupant, newNick) {
    const holder = nickOwner(t.room, newNick.key);
    return holder !== undefined && holder !== occupant.bareJid ? REFUSALS.nickReserved : undefined;
  },
  discoFeatures() {
    return [NS.REGISTER];
  },
  configFields(room) {
    return [booleanField(ALLOW_FIELD, 'Allow users without an affiliation to register (and so become members)?', room.config.allowRegister === true)];
  },
  readConfig(form, next) {
    return readBoolean(form, ALLOW_FIELD, (v) => (next.allowRegister = v));
  },
};

/** Whether a user with `affiliation` may register with the room (see the header). */
function mayRegister(t: Turn, affiliation: Affiliation): boolean {
  if (AFFILIATION_RANK[affiliation] >= AFFILIATION_RANK.member) return true;
  return affiliation === 'none' && t.room.config.allowRegister === true && !t.room.config.membersOnly;
}

/** iq get jabber:iq:register: `<registered/>` or the registration form. */
export function onRegisterGet(t: Turn, req: StanzaRequest): void {
  const affiliation = t.affiliation(req.fromBare);
  if (affiliation === 'outcast') return t.refuse(req, REFUSALS.banned);
  const query = new Element('query', { xmlns: NS.REGISTER });
  const nick = t.room.affiliations.get(req.fromBare)?.nick;
  if (nick !== undefined) {
    query.c('registered');
    query.c('username').t(nick);
    return t.result(req, query);
  }
  if (!mayRegister(t, affiliation)) return t.refuse(req, REFUSALS.registerNotAllowed);
  query.c('instructions').t('Choose a nickname to register with this room.');
  query.cnode(
    buildForm('form', FORM_TYPE, [{ var: NICK_FIELD, type: 'text-single', label: 'Desired Nickname', values: [], required: true }], {
      title: `Registration with ${t.roomJid}`,
    }),
  );
  t.result(req, query);
}

/** iq set jabber:iq:register: a submitted form or `<remove/>`. */
export function onRegisterSet(t: Turn, req: StanzaRequest): void {
  const query = req.payload;
  if (query === undefined) return t.refuse(req, REFUSALS.badRequest);
  if (query.getChild('remove') !== undefined) return unregister(t, req, query);
  const affiliation = t.affiliation(req.fromBare);
  if (affiliation === 'outcast') return t.refuse(req, REFUSALS.banned);
  if (!mayRegister(t, affiliation)) return t.refuse(req, REFUSALS.registerNotAllowed);
  const x = query.getChild('x', NS.DATA);
  if (x === undefined) return t.refuse(req, REFUSALS.badRequest);
  const form = readForm(x);
  if (form.type === 'cancel') return t.result(req);
  if (form.type !== 'submit' || form.formType !== FORM_TYPE) return t.refuse(req, REFUSALS.badRequest);
  const raw = form.values.get(NICK_FIELD)?.[0];
  const wanted = raw === undefined ? undefined : prepareNick(raw);
  if (wanted === undefined) return t.refuse(req, REFUSALS.badRequest);
  const nick = wanted.nick;
  const holder = t.room.occupants.get(wanted.key);
  if (holder !== undefined && holder.bareJid !== req.fromBare) return t.refuse(req, REFUSALS.nickInUse);
  const owner = nickOwner(t.room, wanted.key);
  if (owner !== undefined && owner !== req.fromBare) return t.refuse(req, REFUSALS.nickReserved);
  const stored = t.room.affiliations.get(req.fromBare);
  // A new member, or the same affiliation with the (new) nick: announced either way.
  applyAffiliation(t, { jid: req.fromBare, affiliation: stored?.affiliation ?? 'member', nick }, undefined);
  t.log('debug', 'registered', { jid: req.fromBare });
  t.result(req);
}

function unregister(t: Turn, req: StanzaRequest, query: Element): void {
  if (query.getChildElements().length !== 1) return t.refuse(req, REFUSALS.badRequest);
  const stored = t.room.affiliations.get(req.fromBare);
  if (stored === undefined) return t.refuse(req, REFUSALS.notRegistered);
  if (stored.affiliation === 'outcast') return t.refuse(req, REFUSALS.forbidden);
  if (stored.affiliation === 'owner' && ownerCount(t.room) <= 1) return t.refuse(req, REFUSALS.lastOwner);
  applyAffiliation(t, { jid: req.fromBare, affiliation: 'none' }, undefined);
  t.log('debug', 'unregistered', { jid: req.fromBare });
  t.result(req);
}
