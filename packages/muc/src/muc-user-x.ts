// XEP-0045 §15.2 (http://jabber.org/protocol/muc#user schema) and §12 (status codes): the
// extended presence/message element. Child order follows Prosody, which the seed scripts
// match strictly: event status codes, then <destroy/> (§10.9; the schema's xs:choice leaves
// the order open, Prosody 0.12 puts it before the item), then <item/> (with <actor/> and
// <reason/>), then status 110 last on self-presence.
import { Element } from 'ltx';
import { NS } from '@parley/xml';
import type { Affiliation, Role } from './room-state.js';

/** The `<item/>` of a muc#user element. Absent attributes are omitted. */
export interface MucUserItem {
  affiliation?: Affiliation;
  role?: Role;
  /** Real full JID (only to those allowed to see it, §7.2.3/§7.2.4), or a bare JID (§9). */
  jid?: string;
  /** New nick (§7.6, status 303) or a nick in an admin list. */
  nick?: string;
  /** Who caused the change (§8.2, §9.1, §9.4). */
  actor?: { nick?: string; jid?: string };
  reason?: string;
}

/** The content of a muc#user `<x/>`. */
export interface MucUserX {
  /** Event status codes (e.g. 201, 303, 307, 321), in order. */
  codes?: readonly string[];
  item?: MucUserItem;
  /** §10.9: room destroyed, with optional alternate venue and reason. */
  destroy?: { jid?: string; reason?: string; password?: string };
  /** Self-presence: appends status 110 last. */
  self?: boolean;
}

/** Builds `<x xmlns='http://jabber.org/protocol/muc#user'>` from `spec`. */
export function mucUserX(spec: MucUserX): Element {
  const x = new Element('x', { xmlns: NS.MUC_USER });
  for (const code of spec.codes ?? []) x.c('status', { code });
  if (spec.destroy !== undefined) {
    const d = spec.destroy;
    const el = x.c('destroy', d.jid === undefined ? {} : { jid: d.jid });
    if (d.reason !== undefined) el.c('reason').t(d.reason);
    if (d.password !== undefined) el.c('password').t(d.password);
  }
  const item = spec.item;
  if (item !== undefined) {
    const attrs: Record<string, string> = {};
    if (item.affiliation !== undefined) attrs.affiliation = item.affiliation;
    if (item.role !== undefined) attrs.role = item.role;
    if (item.jid !== undefined) attrs.jid = item.jid;
    if (item.nick !== undefined) attrs.nick = item.nick;
    const el = x.c('item', attrs);
    if (item.actor !== undefined) {
      const actor: Record<string, string> = {};
      if (item.actor.nick !== undefined) actor.nick = item.actor.nick;
      if (item.actor.jid !== undefined) actor.jid = item.actor.jid;
      el.c('actor', actor);
    }
    if (item.reason !== undefined) el.c('reason').t(item.reason);
  }
  if (spec.self === true) x.c('status', { code: '110' });
  return x;
}
