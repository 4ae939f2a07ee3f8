/*
 * Room commands (issue #4) as the room worker handles them: the entry's JSON is parsed here
 * (the room core validates the command itself), and each command's result waits in the turn
 * until the turn is committed.
 */
import type { CommandResult, RoomCommand } from '@parley/muc';

/** A command result to push after the turn commits. */
export interface CommandReply {
  /** The reply list (`KeySpace.commandReply`), as the entry named it. */
  replyTo: string;
  commandId: string;
  result: CommandResult;
}

/**
 * Parses an entry's `command` field. Only JSON syntax is checked here: the room core
 * refuses a value that is not a valid `RoomCommand` with `bad-request`.
 * @returns the command, or the `bad-request` result to answer without calling `step`
 */
export function parseCommand(json: string): { command: RoomCommand } | { error: CommandResult } {
  try {
    return { command: JSON.parse(json) as RoomCommand };
  } catch (err) {
    return { error: { ok: false, error: 'bad-request', message: `the command is not JSON: ${(err as Error).message}` } };
  }
}
