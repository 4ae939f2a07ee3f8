// XEP-0045 §10.1 (Creating a Room) and §10.2 (Subsequent Room Configuration), the
// muc#owner query. "If the <user@host> of the 'from' address does not match the bare JID
// of a room owner, the service MUST return a &forbidden; error"; "the service MUST send a
// configuration form to the room owner with the current options set as defaults"; an
// empty submitted form accepts the defaults (instant room, §10.1.2); "Once the service
// receives the completed configuration form from the initial room owner (or receives a
// request for an instant room), the service MUST "unlock" the room ... and send an IQ of
// type "result""; "If the service receives a cancellation, it MUST destroy the room"
// (initial configuration only; later, "the service MUST leave the configuration of the
// room as it was"). §10.2.1: "A room MUST send notification to all occupants when the room
// configuration changes": `<message type='groupchat' from=room><x><status code='104'/>`
// (plus 172/173 when anonymity changes), sent after the iq result, as Prosody does. The
// fields come from the features, in features/index.ts order; each validates its own
// values and the submission is all or nothing.
import { Element } from 'ltx';
import { NS } from '@parley/xml';
import { buildForm, readForm, type SubmittedForm } from '../data-form.js';
import { REFUSALS, type Refusal } from '../errors.js';
import { mucUserX } from '../muc-user-x.js';
import type { RoomConfig } from '../room-config.js';
import type { StanzaRequest, Turn } from '../turn.js';
import { affiliationChangesFromForm, applyAffiliation, checkAffiliationChanges } from './affiliations.js';
import { destroyRoom, onDestroy } from './destroy.js';
import type { Actor } from './feature.js';
import { unlock } from './lock.js';
import { actorOf } from './roles.js';

const FORM_TYPE = 'http://jabber.org/protocol/muc#roomconfig';

function isOwner(t: Turn, req: StanzaRequest): boolean {
  return t.affiliation(req.fromBare) === 'owner';
}

/** iq get muc#owner: the configuration form. */
export function onOwnerGet(t: Turn, req: StanzaRequest): void {
  if (!isOwner(t, req)) return t.refuse(req, REFUSALS.forbidden);
  const fields = t.features.flatMap((f) => f.configFields?.(t.room) ?? []);
  const query = new Element('query', { xmlns: NS.MUC_OWNER });
  query.cnode(
    buildForm('form', FORM_TYPE, fields, {
      title: `Configuration for ${t.roomJid}`,
      instructions: 'Complete and submit this form to configure the room.',
    }),
  );
  t.result(req, query);
}

/** iq set muc#owner: a submitted or cancelled form, or `<destroy/>`. */
export function onOwnerSet(t: Turn, req: StanzaRequest): void {
  if (!isOwner(t, req)) return t.refuse(req, REFUSALS.forbidden);
  const children = req.payload?.getChildElements() ?? [];
  const destroy = children.find((c) => c.name === 'destroy');
  if (destroy !== undefined) return onDestroy(t, req, destroy);
  const x = children.find((c) => c.name === 'x' && c.getNS() === NS.DATA);
  if (x === undefined) return t.refuse(req, REFUSALS.badRequest);
  const form = readForm(x);
  if (form.type === 'cancel') {
    if (t.room.locked) destroyRoom(t, {});
    return t.result(req);
  }
  if (form.type !== 'submit') return t.refuse(req, REFUSALS.badRequest);
  if (form.formType !== undefined && form.formType !== FORM_TYPE) return t.refuse(req, REFUSALS.badFormValue);
  const next = readSubmittedConfig(t, t.room.config, form);
  if ('condition' in next) return t.refuse(req, next);
  // muc#roomconfig_roomowners / _roomadmins: affiliation changes, checked before anything
  // is applied (all or nothing, like the rest of the form), announced as muc#admin
  // changes are (§10.3 ff.: presence with <actor/>), before the iq result.
  const changes = affiliationChangesFromForm(t, form);
  if (!Array.isArray(changes)) return t.refuse(req, changes);
  if (changes.length > 0) {
    const refusal = checkAffiliationChanges(t, req.fromBare, changes);
    if (refusal !== undefined) return t.refuse(req, refusal);
  }
  const actor = actorOf(t, req.from);
  const codes = applyConfig(t, next, actor);
  for (const change of changes) applyAffiliation(t, change, actor);
  t.result(req);
  if (codes !== undefined) announceConfigChange(t, codes);
}

/**
 * Reads a submitted form over `base` (each feature reads its own fields, in
 * features/index.ts order): the new configuration, or the first feature's refusal.
 */
export function readSubmittedConfig(t: Turn, base: RoomConfig, form: SubmittedForm): RoomConfig | Refusal {
  const next: RoomConfig = structuredClone(base);
  for (const feature of t.features) {
    const refusal = feature.readConfig?.(form, next);
    if (refusal !== undefined) return refusal;
  }
  return next;
}

/**
 * Makes `next` the room's configuration, unlocks the room (§10.1.2) and runs the features'
 * `configApplied` hooks (e.g. 322 removals). `actor` undefined: the service did it.
 * @returns the §10.2.1 status codes to announce (104 first), or undefined when nothing changed.
 */
export function applyConfig(t: Turn, next: RoomConfig, actor: Actor | undefined): string[] | undefined {
  const before = t.room.config;
  const changed = JSON.stringify(before) !== JSON.stringify(next);
  t.room.config = next;
  if (changed) t.persist();
  unlock(t);
  for (const feature of t.features) feature.configApplied?.(t, before, actor);
  if (!changed) return undefined;
  const codes = ['104', ...t.features.flatMap((f) => f.configStatusCodes?.(before, next) ?? [])];
  t.log('debug', 'room configured', { codes });
  return codes;
}

/** §10.2.1: `<message type='groupchat' from=room><x><status code='104'/>…</x></message>` to every occupant. */
export function announceConfigChange(t: Turn, codes: readonly string[]): void {
  for (const occupant of [...t.room.occupants.values()]) {
    for (const session of occupant.sessions) {
      const message = new Element('message', { xmlns: NS.CLIENT, from: t.roomJid, type: 'groupchat' });
      message.cnode(mucUserX({ codes }));
      t.sendTo(session, message);
    }
  }
}
