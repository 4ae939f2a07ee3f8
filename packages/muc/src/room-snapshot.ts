// A room as the admin API shows it (issue #4): configuration, lock, subject, occupants and
// stored affiliations, as plain JSON that shares nothing with the room state.
import type { RoomSnapshot } from './room-command.js';
import type { RoomContext } from './room-input.js';
import type { RoomState } from './room-state.js';
import { affiliationOf } from './room-queries.js';

/**
 * The {@link RoomSnapshot} of `room`: occupants in join order with their bare JID, every
 * session's full JID (primary first), role and effective affiliation (service admins are
 * owners); stored affiliations sorted by JID (code-point order) with reserved nick and reason;
 * XEP-0317 hats sorted by JID, when anyone wears some.
 */
export function roomSnapshot(room: RoomState, ctx: RoomContext): RoomSnapshot {
  const subject = room.subject === null ? null : { text: room.subject.text, ...(room.subject.nick === undefined ? {} : { nick: room.subject.nick }) };
  return {
    jid: room.jid,
    config: structuredClone(room.config),
    locked: room.locked,
    subject,
    created: room.created,
    occupants: [...room.occupants.values()].map((o) => ({
      nick: o.nick,
      jid: o.bareJid,
      fullJids: o.sessions.map((s) => s.fullJid),
      role: o.role,
      affiliation: affiliationOf(room, o.bareJid, ctx),
    })),
    affiliations: [...room.affiliations]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([jid, rec]) => ({
        jid,
        affiliation: rec.affiliation,
        ...(rec.nick === undefined ? {} : { nick: rec.nick }),
        ...(rec.reason === undefined ? {} : { reason: rec.reason }),
      })),
    ...(room.hats === undefined || room.hats.size === 0
      ? {}
      : {
          hats: [...room.hats]
            .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
            .map(([jid, hats]) => ({ jid, hats: hats.map((h) => ({ ...h })) })),
        }),
  };
}
