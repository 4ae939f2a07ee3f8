// Stanzas to the MUC service's own JID. XEP-0045 §6.1 (Discovering a MUC Service): the
// service's disco#info identity is category 'conference', type 'text', with the
// http://jabber.org/protocol/muc feature; §6.3 (Discovering Rooms): disco#items lists the
// public rooms. Anything else: iq get/set → service-unavailable (RFC 6120 §8.4); messages
// → service-unavailable (the service has no one to deliver them to); presence, iq results
// and errors → ignored (RFC 6120 §8.3.1: never an error in reply to an error).
// XEP-0307 (Unique Room Names for Multi-User Chat) §2: an iq get with
// `<unique xmlns='http://jabber.org/protocol/muc#unique'/>` is answered with a room name
// (the localpart) nobody uses: a random UUID v4 (`RoomContext.newId`, 122 random bits; a
// room created under it by someone else first is as unlikely as guessing it). The service
// advertises the feature (§2), and XEP-0421's (occupant ids are on in every room, §4).
import { Element } from 'ltx';
import { tryParseJid } from '@parley/jid';
import { errorReply, iqPayload, iqResult } from '@parley/stanza';
import { NS } from '@parley/xml';
import { REFUSALS, type Refusal } from './errors.js';
import { OCCUPANT_ID_NS } from './features/occupant-id.js';
import { newId } from './features/stanza-id.js';
import type { RoomContext, StanzaOrigin } from './room-input.js';
import type { Outgoing } from './step-result.js';

/** XEP-0307 namespace and feature. */
export const MUC_UNIQUE = 'http://jabber.org/protocol/muc#unique';

/** Service features advertised in disco#info. */
const SERVICE_FEATURES = [NS.DISCO_INFO, NS.DISCO_ITEMS, NS.MUC, 'http://jabber.org/protocol/muc#stable_id', MUC_UNIQUE, OCCUPANT_ID_NS];

/**
 * Answers a stanza addressed to the service JID.
 *
 * @param publicRooms - the public rooms to list in disco#items (jid, name, occupant count).
 * @returns the replies (each routed back to `origin`); empty when nothing is answered.
 */
export function serviceStep(
  stanza: Element,
  origin: StanzaOrigin,
  ctx: RoomContext,
  publicRooms: readonly { jid: string; name: string; occupants: number }[],
): Outgoing[] {
  const from = typeof stanza.attrs.from === 'string' ? tryParseJid(stanza.attrs.from) : undefined;
  if (from === undefined) return [];
  const out = (el: Element): Outgoing[] => {
    el.attrs.xmlns ??= NS.CLIENT;
    el.attrs.to = from.toString();
    return [{ stanza: el, to: from.toString(), route: { ...origin } }];
  };
  const refuse = (r: Refusal): Outgoing[] => {
    const reply = errorReply(stanza, r.condition, { type: r.type, by: ctx.serviceJid });
    return reply === undefined ? [] : out(reply);
  };
  const type: unknown = stanza.attrs.type;
  if (stanza.name === 'message') return type === 'error' ? [] : refuse(REFUSALS.unsupported);
  if (stanza.name !== 'iq' || (type !== 'get' && type !== 'set')) return [];
  const payload = iqPayload(stanza);
  if (payload === undefined) return refuse(REFUSALS.badRequest);
  const ns = payload.getNS();
  if (type === 'get' && payload.name === 'unique' && ns === MUC_UNIQUE) {
    const unique = new Element('unique', { xmlns: MUC_UNIQUE });
    unique.t(newId(ctx).toLowerCase());
    return out(iqResult(stanza, unique));
  }
  if (type !== 'get' || payload.name !== 'query' || (ns !== NS.DISCO_INFO && ns !== NS.DISCO_ITEMS)) return refuse(REFUSALS.unsupported);
  if (typeof payload.attrs.node === 'string') return refuse(REFUSALS.noSuchNode);
  const query = new Element('query', { xmlns: ns });
  if (ns === NS.DISCO_INFO) {
    query.c('identity', { category: 'conference', type: 'text', name: 'Chatrooms' });
    for (const v of SERVICE_FEATURES) query.c('feature', { var: v });
  } else {
    for (const room of publicRooms) query.c('item', { jid: room.jid, name: room.name });
  }
  return out(iqResult(stanza, query));
}
