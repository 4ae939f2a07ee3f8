// XEP-0045 §10.1.1: "If this user is allowed to create a room and the room does not yet
// exist, the service MUST create the room according to some default configuration" and
// lock it until the owner configures it.
import { newOccupantIdKey } from './features/occupant-id.js';
import { defaultRoomConfig } from './room-config.js';
import type { RoomContext } from './room-input.js';
import type { RoomState } from './room-state.js';

/** A new, locked, empty room with the default configuration and a fresh XEP-0421 key. */
export function newRoom(roomJid: string, ctx: RoomContext): RoomState {
  return {
    jid: roomJid,
    config: defaultRoomConfig(ctx),
    locked: true,
    affiliations: new Map(),
    occupants: new Map(),
    subject: null,
    history: [],
    created: ctx.now,
    occupantIdKey: newOccupantIdKey(ctx),
  };
}
