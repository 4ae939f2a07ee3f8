import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { encodeRoomInput, shardForRoom, type KeySpace } from '@parley/bus';
import type { CommandResult, RoomCommand } from '@parley/muc';
import { ControlError } from './errors.js';

/** Options of {@link RoomCommands}. */
export interface RoomCommandsOptions {
  /** Number of shards (configuration `muc.shards`); must match the cluster's. */
  shards: number;
  /** How long {@link RoomCommands.send} waits for the result, ms (default 10 000: longer than a shard failover). */
  timeoutMs?: number;
}

/**
 * Sends administrative commands to room actors and waits for their results. A command goes
 * through the room's shard stream like a stanza (so it is serialised with everything the
 * room does); the room worker pushes the result onto a reply list once the turn that
 * applied it is committed, and this waits on that list with BLPOP on a connection of its own.
 */
export class RoomCommands {
  constructor(
    private readonly redis: Redis,
    private readonly keys: KeySpace,
    private readonly opts: RoomCommandsOptions,
  ) {}

  /**
   * Sends `command` to the room `roomJid` (a normalised bare JID) and resolves with its result.
   * @throws ControlError `COMMAND_TIMEOUT` when no result arrives within the timeout (the
   *   command may still be applied later: it stays in the shard stream), `BAD_RESULT`
   */
  async send(roomJid: string, command: RoomCommand, timeoutMs = this.opts.timeoutMs ?? 10_000): Promise<CommandResult> {
    const commandId = randomUUID();
    const replyTo = this.keys.commandReply(commandId);
    const shard = shardForRoom(roomJid, this.opts.shards);
    const waiter = this.redis.duplicate({ lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await waiter.connect();
      await this.redis.xadd(
        this.keys.shardStream(shard),
        '*',
        ...encodeRoomInput({ kind: 'command', room: roomJid, commandId, command: JSON.stringify(command), replyTo }),
      );
      const reply = await waiter.blpop(replyTo, Math.max(0.01, timeoutMs / 1000));
      if (!reply) throw new ControlError('COMMAND_TIMEOUT', `${command.op} on ${roomJid} (shard ${shard}) after ${timeoutMs} ms`);
      return parseResult(reply[1]);
    } finally {
      waiter.disconnect();
    }
  }
}

function parseResult(raw: string): CommandResult {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    throw new ControlError('BAD_RESULT', raw.slice(0, 200));
  }
  if (typeof v !== 'object' || v === null || typeof (v as { ok?: unknown }).ok !== 'boolean') throw new ControlError('BAD_RESULT', raw.slice(0, 200));
  return v as CommandResult;
}
