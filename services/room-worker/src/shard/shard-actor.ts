/*
 * One shard's rooms in memory and the application of its stream entries: the actor's turn
 * without its I/O. Rooms of a shard share one sequential turn loop, so every room sees its
 * inputs one at a time, in stream order (XEP-0045 leaves ordering to the service; clients
 * expect a room to be a single point of serialisation).
 */
import type { Logger } from 'pino';
import { decodeRoomInput } from '@parley/bus';
import { serviceStep, step, type CommandResult, type RoomContext, type RoomInput, type RoomState } from '@parley/muc';
import { NS, parseOwnElement } from '@parley/xml';
import type { TurnOutput } from '../delivery/resolve-recipients.js';
import { parseCommand, type CommandReply } from './command-input.js';

/** A shard stream entry as XREAD / XRANGE return it: id and flat field/value pairs. */
export type StreamEntry = [id: string, fields: string[]];

/** What a room's history list must undergo at commit. */
export interface HistoryChange {
  /** Delete the list before appending (the room was destroyed during the turn). */
  reset: boolean;
  /** Entries kept after appending (the room's `historyLength`; 0 deletes the list). */
  keep: number;
  /** JSON `HistoryEntry`s to append, oldest first. */
  append: string[];
}

/** Everything a turn changed, to be delivered and committed by the worker. */
export interface TurnResult {
  /** Id of the last entry applied: the cursor to commit. */
  cursor: string;
  /** Number of entries applied (malformed ones included: they are skipped, not retried). */
  applied: number;
  /** Outgoing stanzas in production order, each with the entry that produced it. */
  outputs: TurnOutput[];
  /** Rooms to write (the state) or delete (undefined), by room JID. */
  roomWrites: Map<string, RoomState | undefined>;
  /** History list changes by room JID. */
  history: Map<string, HistoryChange>;
  /** Results of the turn's `command` entries, in entry order: pushed only once the turn is committed. */
  replies: CommandReply[];
}

/** Kinds of shard stream entries, as counted by {@link TurnEnv.countInput}. */
export type InputKind = 'stanza' | 'session-ended' | 'gateway-down' | 'command' | 'malformed';

/** What a turn needs from its worker besides the entries. */
export interface TurnEnv {
  /** The room context for this turn (its `now` is read once per turn). */
  ctx: RoomContext;
  /** Rooms listed to `disco#items` on the service (public rooms, from the directory). */
  publicRooms: readonly { jid: string; name: string; occupants: number }[];
  /** Logger carrying `{ shard }`. */
  log: Logger;
  /** Called once per entry with its kind (metrics). */
  countInput?: (kind: InputKind) => void;
}

/** The result of a command whose `step` threw or answered nothing (a bug in the room core). */
const COMMAND_FAILED: CommandResult = { ok: false, error: 'bad-request', message: 'the room could not apply the command' };

/**
 * The rooms of one shard and the id of the last committed entry. {@link apply} changes the
 * rooms in place; if the turn is then not committed, the worker discards this actor and
 * loads the shard again from Redis.
 */
export class ShardActor {
  constructor(
    readonly shard: number,
    /** Room JID → state, history included. */
    readonly rooms: Map<string, RoomState>,
    /** Id of the last committed stream entry (`0-0` before the first). */
    public cursor: string,
  ) {}

  /**
   * Applies `entries` (in stream order, all after {@link cursor}) to the rooms.
   * Malformed entries and stanzas are logged and skipped; a room whose `step` throws keeps
   * its state and the input is skipped (logged at error level).
   * @param entries - at least one entry
   */
  apply(entries: readonly StreamEntry[], env: TurnEnv): TurnResult {
    const result: TurnResult = { cursor: this.cursor, applied: 0, outputs: [], roomWrites: new Map(), history: new Map(), replies: [] };
    const dirty = new Set<string>();
    for (const [id, fields] of entries) {
      result.cursor = id;
      result.applied++;
      const log = env.log.child({ streamId: id });
      const input = decodeRoomInput(fields);
      env.countInput?.(input ? input.kind : 'malformed');
      if (!input) {
        log.warn({ fields: fields.filter((_, i) => i % 2 === 0) }, 'malformed room input skipped');
        continue;
      }
      if (input.kind === 'gateway-down') {
        // Sorted, so that a re-applied turn produces its stanzas in the same order.
        for (const room of [...this.rooms.keys()].sort()) {
          this.stepRoom(room, { kind: 'gateway-down', gatewayId: input.gateway }, id, env, log, result, dirty);
        }
      } else if (input.kind === 'session-ended') {
        if (this.rooms.has(input.room)) {
          this.stepRoom(input.room, { kind: 'session-ended', fullJid: input.jid, sessionId: input.sessionId }, id, env, log, result, dirty);
        }
      } else if (input.kind === 'command') {
        const parsed = parseCommand(input.command);
        let commandResult: CommandResult;
        if ('error' in parsed) {
          commandResult = parsed.error;
        } else {
          const command: RoomInput = { kind: 'command', command: parsed.command, commandId: input.commandId };
          commandResult = this.stepRoom(input.room, command, id, env, log, result, dirty) ?? COMMAND_FAILED;
        }
        result.replies.push({ replyTo: input.replyTo, commandId: input.commandId, result: commandResult });
        const op = 'command' in parsed && typeof parsed.command?.op === 'string' ? parsed.command.op : undefined;
        log.info(
          { room: input.room, commandId: input.commandId, op, ok: commandResult.ok, ...(commandResult.ok ? {} : { error: commandResult.error }) },
          'room command answered',
        );
      } else {
        let stanza;
        try {
          // Serialised by a gateway from a stanza its strict parser read: the fast parser will do.
          stanza = parseOwnElement(input.xml, NS.CLIENT);
        } catch (err) {
          log.warn({ room: input.room, err: (err as Error).message }, 'unparsable stanza skipped');
          continue;
        }
        const origin = { gatewayId: input.gateway, sessionId: input.sessionId };
        if (input.room === env.ctx.serviceJid) {
          try {
            for (const out of serviceStep(stanza, origin, env.ctx, env.publicRooms)) result.outputs.push({ entry: id, out });
          } catch (err) {
            log.error({ err }, 'the MUC service failed on a stanza; skipped');
          }
        } else {
          this.stepRoom(input.room, { kind: 'stanza', stanza, origin }, id, env, log, result, dirty);
        }
      }
    }
    for (const room of dirty) result.roomWrites.set(room, this.rooms.get(room));
    for (const [room, change] of result.history) change.keep = this.rooms.get(room)?.config.historyLength ?? 0;
    return result;
  }

  /**
   * Runs one input against one room and records what it changed in `result`.
   * @returns the result of a `command` input (undefined for other inputs, or when `step` threw)
   */
  private stepRoom(room: string, input: RoomInput, entry: string, env: TurnEnv, log: Logger, result: TurnResult, dirty: Set<string>): CommandResult | undefined {
    const before = this.rooms.get(room);
    let r;
    try {
      r = step(before, room, input, env.ctx);
    } catch (err) {
      log.error({ err, room }, 'room step failed; input skipped');
      return undefined;
    }
    let commandResult: CommandResult | undefined;
    const history = () => {
      let h = result.history.get(room);
      if (!h) result.history.set(room, (h = { reset: false, keep: 0, append: [] }));
      return h;
    };
    for (const effect of r.effects) {
      switch (effect.kind) {
        case 'command-result':
          commandResult = effect.result;
          break;
        case 'persist':
          dirty.add(room);
          break;
        case 'history-append':
          history().append.push(JSON.stringify(effect.entry));
          break;
        case 'destroyed': {
          dirty.add(room);
          const h = history();
          h.reset = true;
          h.append = [];
          log.info({ room, reason: effect.reason }, 'room destroyed');
          break;
        }
        case 'log':
          log[effect.level]({ room, ...effect.data }, effect.msg);
          break;
      }
    }
    if (r.room) {
      this.rooms.set(room, r.room);
      if (!before) dirty.add(room); // a new room is always stored
    } else if (before) {
      // Gone without a `destroyed` effect: delete it all the same.
      this.rooms.delete(room);
      dirty.add(room);
      const h = history();
      h.reset = true;
      h.append = [];
    }
    for (const out of r.out) result.outputs.push({ entry, out });
    return commandResult;
  }
}
