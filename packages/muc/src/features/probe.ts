// XEP-0045 §17.3 rule 4: "A MUC service MAY handle presence probes sent to the room JID
// <room@service> or an occupant JID <room@service/nick> (e.g, these might be sent by an
// occupant's home server to determine if the room is still online or to synchronize
// presence information ...)". Probes to occupant JIDs are answered, after Prosody 0.12:
// - from a session in the room: the target occupant's current presence as the prober may
//   see it (§7.2.3/§7.2.4: the real JID to those who may see real JIDs; no status codes),
//   also when the target's role is not broadcast (muc#roomconfig_presencebroadcast hides
//   it from joins and updates, not from an explicit question);
// - to a nick that nobody holds but that is registered to an affiliated user (§7.10, §9.3):
//   unavailable presence with the nick, the affiliation and role `none` (and the bare JID
//   to those who may see real JIDs, §7.2.3);
// - to a nick nobody holds or has registered: nothing (RFC 6121 §4.3.2 lets a server
//   ignore a probe it has no presence for);
// - from a session that is not in the room: `not-acceptable` (§7.4's answer to
//   non-occupants), as Prosody does.
// §17.3 rules 1 and 2: a probe is never a join nor an exit. Probes to the bare room JID are
// not routed here (ignored).
import { Element } from 'ltx';
import { NS } from '@parley/xml';
import { mucUserX } from '../muc-user-x.js';
import { occupantPresence } from '../occupant-presence.js';
import { findSession, nickOwner, seesRealJids } from '../room-queries.js';
import type { StanzaRequest, Turn } from '../turn.js';
import { hatsOf } from './hats.js';
import { NOT_JOINED } from './iq-forward.js';
import { addOccupantId, occupantIdOf } from './occupant-id.js';

/** A presence probe to room/nick. */
export function onProbe(t: Turn, req: StanzaRequest): void {
  const prober = findSession(t.room, req.from);
  if (prober === undefined) return t.refuse(req, NOT_JOINED);
  const key = req.occupantNick?.key;
  if (key === undefined) return;
  const sees = seesRealJids(t.room, prober.occupant.role);
  const target = t.room.occupants.get(key);
  if (target !== undefined) {
    const self = target === prober.occupant;
    const change = { affiliation: t.affiliation(target.bareJid), hats: hatsOf(t.room, target.bareJid) };
    const presence = occupantPresence(t.roomJid, target, change, { to: req.from, self: false, seesJids: sees || self });
    return t.reply(req, presence);
  }
  const owner = nickOwner(t.room, key);
  const record = owner === undefined ? undefined : t.room.affiliations.get(owner);
  if (owner === undefined || record?.nick === undefined) return;
  const presence = new Element('presence', { xmlns: NS.CLIENT, from: t.occupantJid(record.nick), type: 'unavailable' });
  const item = { affiliation: t.affiliation(owner), role: 'none' as const, nick: record.nick, ...(sees ? { jid: owner } : {}) };
  presence.cnode(mucUserX({ item }));
  // XEP-0421 §4: every presence the room sends, an absent member's too.
  t.reply(req, addOccupantId(presence, occupantIdOf(t.room, owner)));
}
