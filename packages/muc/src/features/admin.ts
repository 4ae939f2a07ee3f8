// XEP-0045 §8 and §9 (muc#admin): role and affiliation lists and changes. §17.4 rules 4-6:
// "if a moderator, admin, or owner attempts to modify both the affiliation and role of the
// same item in the same IQ set, the service MUST return a &badrequest; error"; IQ sets
// about roles carry 'nick', about affiliations 'jid' (bare). Several items are applied
// atomically: every item is checked first, then all are applied, then the iq result is
// sent (after the presence and message notifications, as Prosody does and the seed
// scripts expect).
import { Element } from 'ltx';
import { tryParseJid } from '@parley/jid';
import { NS } from '@parley/xml';
import { REFUSALS, type Refusal } from '../errors.js';
import { occupantByNick, prepareNick } from '../nick.js';
import { findSession } from '../room-queries.js';
import type { Affiliation, Role } from '../room-state.js';
import type { StanzaRequest, Turn } from '../turn.js';
import { affiliationList, applyAffiliation, checkAffiliationChanges, type AffiliationChange } from './affiliations.js';
import { actorOf, applyRoleChange, checkRoleChange, roleList, type RoleChange } from './roles.js';

const AFFILIATIONS: readonly Affiliation[] = ['owner', 'admin', 'member', 'none', 'outcast'];
const ROLES: readonly Role[] = ['moderator', 'participant', 'visitor', 'none'];

type AdminItem = { kind: 'affiliation'; change: AffiliationChange } | { kind: 'role'; change: RoleChange };

function attr(el: Element, name: string): string | undefined {
  const v: unknown = el.attrs[name];
  return typeof v === 'string' ? v : undefined;
}

/**
 * Parses one `<item/>` of an admin set. An affiliation item without `jid` names its target
 * by `nick` (an occupant's nick, any RFC 8266-equivalent form): the change applies to that
 * occupant's bare JID (§5.2: affiliations are per bare JID; Prosody accepts such items)
 * and reserves the occupant's nick for it, as Prosody does; item-not-found when no
 * occupant has that nick. With a `jid`, `nick` is the nick to
 * reserve (§9.3).
 */
function parseItem(t: Turn, item: Element): AdminItem | Refusal {
  const affiliation = attr(item, 'affiliation');
  const role = attr(item, 'role');
  const reasonText = item.getChildText('reason');
  const reason = reasonText === null ? {} : { reason: reasonText };
  if ((affiliation === undefined) === (role === undefined)) return REFUSALS.badRequest;
  if (affiliation !== undefined) {
    if (!AFFILIATIONS.includes(affiliation as Affiliation)) return REFUSALS.badRequest;
    const jidText = attr(item, 'jid');
    if (jidText === undefined) {
      const byNick = attr(item, 'nick');
      if (byNick === undefined || byNick === '') return REFUSALS.badRequest;
      const occupant = occupantByNick(t.room, byNick);
      if (occupant === undefined) return REFUSALS.noSuchOccupant;
      // As Prosody 0.12: the occupant's nick becomes their reserved nick (§9.3 items carry
      // one); dropped for outcasts, gone with the affiliation for none (applyAffiliation).
      return { kind: 'affiliation', change: { jid: occupant.bareJid, affiliation: affiliation as Affiliation, nick: occupant.nick, ...reason } };
    }
    const jid = tryParseJid(jidText);
    if (jid === undefined) return REFUSALS.badJid;
    const nick = attr(item, 'nick');
    const change: AffiliationChange = { jid: jid.bare().toString(), affiliation: affiliation as Affiliation, ...reason };
    if (nick === '') change.nick = '';
    else if (nick !== undefined) {
      // §9.3 reserved nick: enforced like a nick in an occupant JID (RFC 8266).
      const enforced = prepareNick(nick);
      if (enforced === undefined) return REFUSALS.badNick;
      change.nick = enforced.nick;
    }
    return { kind: 'affiliation', change };
  }
  if (!ROLES.includes(role as Role)) return REFUSALS.badRequest;
  const nick = attr(item, 'nick');
  if (nick === undefined || nick === '') return REFUSALS.badRequest;
  return { kind: 'role', change: { nick, role: role as Role, ...reason } };
}

/** iq get muc#admin: `<item affiliation='member'/>` or `<item role='participant'/>` lists. */
export function onAdminGet(t: Turn, req: StanzaRequest): void {
  const asks = req.payload?.getChildren('item') ?? [];
  if (asks.length === 0) return t.refuse(req, REFUSALS.badRequest);
  const query = new Element('query', { xmlns: NS.MUC_ADMIN });
  for (const ask of asks) {
    const affiliation = attr(ask, 'affiliation');
    const role = attr(ask, 'role');
    let items: Element[] | Refusal;
    if (affiliation !== undefined && role === undefined && AFFILIATIONS.includes(affiliation as Affiliation) && affiliation !== 'none') {
      items = affiliationList(t, req.fromBare, affiliation as Affiliation);
    } else if (role !== undefined && affiliation === undefined && ROLES.includes(role as Role) && role !== 'none') {
      const actor = findSession(t.room, req.from)?.occupant;
      const privileged = t.affiliation(req.fromBare) === 'owner' || t.affiliation(req.fromBare) === 'admin';
      items = actor?.role === 'moderator' || privileged ? roleList(t, role as Role) : REFUSALS.forbidden;
    } else {
      items = REFUSALS.badRequest;
    }
    if (!Array.isArray(items)) return t.refuse(req, items);
    for (const item of items) query.cnode(item);
  }
  t.result(req, query);
}

/** iq set muc#admin: checks every item, then applies them in order, then answers. */
export function onAdminSet(t: Turn, req: StanzaRequest): void {
  const raw = req.payload?.getChildren('item') ?? [];
  if (raw.length === 0) return t.refuse(req, REFUSALS.badRequest);
  const items: AdminItem[] = [];
  for (const el of raw) {
    const parsed = parseItem(t, el);
    if (!('kind' in parsed)) return t.refuse(req, parsed);
    items.push(parsed);
  }
  const affChanges = items.flatMap((i) => (i.kind === 'affiliation' ? [i.change] : []));
  if (affChanges.length > 0) {
    const refusal = checkAffiliationChanges(t, req.fromBare, affChanges);
    if (refusal !== undefined) return t.refuse(req, refusal);
  }
  for (const item of items) {
    if (item.kind !== 'role') continue;
    const refusal = checkRoleChange(t, req.from, req.fromBare, item.change);
    if (refusal !== undefined) return t.refuse(req, refusal);
  }
  const actor = actorOf(t, req.from);
  for (const item of items) {
    if (item.kind === 'affiliation') applyAffiliation(t, item.change, actor);
    else applyRoleChange(t, item.change, actor);
  }
  t.log('debug', 'admin changes applied', { items: items.length });
  t.result(req);
}
