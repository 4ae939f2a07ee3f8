// Room changes go to the room's actor as commands over its shard stream (issue #4), so they
// are serialised with everything else happening in the room. This maps a command's refusal
// onto the API's errors.
import type { CommandResult, RoomCommand, RoomSnapshot } from '@parley/muc';
import { ApiError, type ApiErrorCode } from './errors.js';

/** What the API needs of `RoomCommands` from @parley/control. */
export interface RoomCommandSender {
  send(roomJid: string, command: RoomCommand, timeoutMs?: number): Promise<CommandResult>;
}

/**
 * Sends `command` to the room and returns the snapshot it answered with (if any).
 *
 * Refusals: `item-not-found` → 404 (`notFound`: `room-not-found` for commands on the room
 * itself, `item-not-found` where it may be an occupant), `conflict` → 409, `bad-request` →
 * 400, `not-allowed` → 409 `not-allowed` (the room's state forbids it: 403 is kept for the
 * token's scope). A timeout (ControlError COMMAND_TIMEOUT) becomes 503 `room-unavailable` in
 * the error handler.
 * @throws ApiError
 */
export async function runRoomCommand(
  rooms: RoomCommandSender,
  roomJid: string,
  command: RoomCommand,
  opts: { timeoutMs: number; notFound?: 'room-not-found' | 'item-not-found' },
): Promise<RoomSnapshot | undefined> {
  const result = await rooms.send(roomJid, command, opts.timeoutMs);
  if (result.ok) return result.room;
  const code: ApiErrorCode =
    result.error === 'item-not-found'
      ? (opts.notFound ?? 'room-not-found')
      : result.error === 'conflict'
        ? 'conflict'
        : result.error === 'bad-request'
          ? 'bad-request'
          : result.error === 'not-allowed'
            ? 'not-allowed'
            : 'internal';
  throw new ApiError(code, result.message || undefined, { room: roomJid, op: command.op, condition: result.error });
}

/** Like {@link runRoomCommand} for `get`: the snapshot, or 404 `room-not-found`. */
export async function getRoom(rooms: RoomCommandSender, roomJid: string, timeoutMs: number): Promise<RoomSnapshot> {
  const room = await runRoomCommand(rooms, roomJid, { op: 'get' }, { timeoutMs });
  if (!room) throw new ApiError('room-not-found', `no room ${roomJid}`);
  return room;
}
