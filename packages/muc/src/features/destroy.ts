// XEP-0045 §10.9 (Destroying a Room): "The room removes all users from the room ... and
// destroys the room, even if it was defined as persistent." The service "SHOULD NOT
// broadcast presence stanzas of type "unavailable" from all occupants, instead sending
// only one presence stanza of type "unavailable" to each occupant ... The extended
// presence information of the stanza MUST include <destroy/> element." "If the <user@host>
// of the 'from' address received on a destroy request does not match the bare JID of a
// room owner, the service MUST return a &forbidden; error" (checked by config-form.ts).
import type { Element } from 'ltx';
import { tryParseJid } from '@parley/jid';
import { REFUSALS } from '../errors.js';
import type { MucUserX } from '../muc-user-x.js';
import { occupantPresence } from '../occupant-presence.js';
import type { StanzaRequest, Turn } from '../turn.js';

/** Removes everyone with a `<destroy/>` presence and marks the room destroyed. */
export function destroyRoom(t: Turn, spec: NonNullable<MucUserX['destroy']>): void {
  for (const occupant of [...t.room.occupants.values()]) {
    const change = { unavailable: true, affiliation: t.affiliation(occupant.bareJid), role: 'none' as const, destroy: spec };
    for (const session of occupant.sessions) {
      t.sendTo(session, occupantPresence(t.roomJid, occupant, change, { to: session.fullJid, self: true, seesJids: true }));
    }
  }
  t.room.occupants = new Map();
  t.log('info', 'room destroyed', spec.jid === undefined ? {} : { venue: spec.jid });
  t.destroy(spec.reason);
}

/** iq set muc#owner `<destroy jid? ><reason/><password/></destroy>` from an owner. */
export function onDestroy(t: Turn, req: StanzaRequest, destroy: Element): void {
  const spec: NonNullable<MucUserX['destroy']> = {};
  const venue: unknown = destroy.attrs.jid;
  if (typeof venue === 'string') {
    const jid = tryParseJid(venue);
    if (jid === undefined) return t.refuse(req, REFUSALS.badJid);
    spec.jid = jid.toString();
  }
  const reason = destroy.getChildText('reason');
  if (reason !== null) spec.reason = reason;
  const password = destroy.getChildText('password');
  if (password !== null) spec.password = password;
  destroyRoom(t, spec);
  t.result(req);
}
