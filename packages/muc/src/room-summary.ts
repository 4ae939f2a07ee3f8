// XEP-0045 §6.3 (Discovering Rooms): what the service lists about a room in disco#items,
// for the worker to keep in its directory of public rooms.
import type { RoomState } from './room-state.js';

/** A room's listing: `name` is the configured name, else the room's localpart. */
export interface RoomSummary {
  jid: string;
  name: string;
  public: boolean;
  persistent: boolean;
  membersOnly: boolean;
  /** Number of occupants (nicks). */
  occupants: number;
}

/** Summarises a room for the service directory (e.g. disco#items on the service). */
export function roomSummary(room: RoomState): RoomSummary {
  return {
    jid: room.jid,
    name: room.config.name !== '' ? room.config.name : (room.jid.split('@')[0] ?? room.jid),
    public: room.config.public,
    persistent: room.config.persistent,
    membersOnly: room.config.membersOnly,
    occupants: room.occupants.size,
  };
}
