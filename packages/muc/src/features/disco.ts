// XEP-0045 §6.4 (Querying for Room Information): "The room MUST return its identity and
// SHOULD return the features it supports", with the muc#roominfo form (XEP-0128). §6.5
// (Room Items): "An implementation MAY return a list of existing occupants if that
// information is publicly available, or return no list at all if this information is
// kept private" — the choice is left open: as Prosody 0.12, nobody gets a list (Ex. 13),
// occupants included (they have the occupants' presence). §7.12: node 'x-roomuser-item'
// returns the requester's registered nick as an identity, or an empty query. A locked room
// does not exist yet for anyone but its owners (§7.2.10): item-not-found.
import { Element } from 'ltx';
import { NS } from '@parley/xml';
import { buildForm, type FormField } from '../data-form.js';
import { REFUSALS } from '../errors.js';
import type { StanzaRequest, Turn } from '../turn.js';

/** Features every room has. */
const BASE_FEATURES = [NS.MUC, 'http://jabber.org/protocol/muc#stable_id', NS.DISCO_INFO, NS.DISCO_ITEMS];

function hidden(t: Turn, req: StanzaRequest): boolean {
  return t.room.locked && t.affiliation(req.fromBare) !== 'owner';
}

function node(req: StanzaRequest): string | undefined {
  const v: unknown = req.payload?.attrs.node;
  return typeof v === 'string' ? v : undefined;
}

/** The room's display name: its configured name, else its localpart. */
export function roomName(t: Turn): string {
  return t.room.config.name !== '' ? t.room.config.name : (t.roomJid.split('@')[0] ?? t.roomJid);
}

/** iq get disco#info to the room. */
export function onDiscoInfo(t: Turn, req: StanzaRequest): void {
  const n = node(req);
  if (n === 'x-roomuser-item') {
    const query = new Element('query', { xmlns: NS.DISCO_INFO, node: n });
    const nick = t.room.affiliations.get(req.fromBare)?.nick;
    if (nick !== undefined) query.c('identity', { category: 'conference', type: 'text', name: nick });
    return t.result(req, query);
  }
  if (n !== undefined) return t.refuse(req, REFUSALS.noSuchNode);
  if (hidden(t, req)) return t.refuse(req, REFUSALS.noRoom);
  const query = new Element('query', { xmlns: NS.DISCO_INFO });
  query.c('identity', { category: 'conference', type: 'text', name: roomName(t) });
  const vars = [...BASE_FEATURES, ...t.features.flatMap((f) => f.discoFeatures?.(t.room) ?? [])];
  for (const v of vars) query.c('feature', { var: v });
  const fields: FormField[] = [
    ...t.features.flatMap((f) => f.roomInfoFields?.(t.room) ?? []),
    { var: 'muc#roominfo_occupants', label: 'Number of occupants', values: [String(t.room.occupants.size)] },
  ];
  query.cnode(buildForm('result', 'http://jabber.org/protocol/muc#roominfo', fields));
  t.result(req, query);
}

/** iq get disco#items to the room. */
export function onDiscoItems(t: Turn, req: StanzaRequest): void {
  if (node(req) !== undefined) return t.refuse(req, REFUSALS.noSuchNode);
  if (hidden(t, req)) return t.refuse(req, REFUSALS.noRoom);
  t.result(req, new Element('query', { xmlns: NS.DISCO_ITEMS }));
}
