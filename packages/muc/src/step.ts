// The room actor's transition function (STYLE.md §2, XState's `transition`): one input in,
// the next state, the stanzas to send and the effects for the worker out. Pure: no I/O,
// no clock, no randomness. XEP-0045 §7.2.11: presence to a room that does not exist
// creates it; other stanzas get item-not-found (§7.10, RFC 6120 §8.3.3.7). Admin commands
// (features/commands.ts) run in turns of their own and always end with one
// `command-result` effect.
import type { Element } from 'ltx';
import { tryParseJid } from '@parley/jid';
import { iqPayload } from '@parley/stanza';
import { commandRefusal, REFUSALS } from './errors.js';
import { findRoute, stanzaType } from './dispatch.js';
import { runCommand } from './features/commands.js';
import { FEATURES } from './features/index.js';
import { closeIfEmpty, dropSessions } from './features/leave.js';
import { ensureOccupantIds } from './features/occupant-id.js';
import { newRoom } from './new-room.js';
import { prepareNick } from './nick.js';
import type { CommandResult } from './room-command.js';
import { parseRoomCommand } from './room-command-parse.js';
import type { RoomContext, RoomInput, StanzaOrigin } from './room-input.js';
import { roomSnapshot } from './room-snapshot.js';
import type { OccupantSession, RoomState } from './room-state.js';
import type { StepResult } from './step-result.js';
import { Turn, type StanzaRequest } from './turn.js';

/**
 * Runs one input against a room.
 *
 * @param room - the current state, or undefined when the room does not exist. `step`
 *   takes it over: the returned `room` is the authoritative new state, and may be this
 *   same object, changed in place (a groupchat message appends to its history without
 *   copying the room). The caller must not use `room` after the call, only the result.
 *   What callers may still rely on: a turn that refuses or ignores its input leaves the
 *   state as it was, and the state changes only as the effects say (`persist` for
 *   anything but history, `history-append`, `destroyed`); a `step` that throws has not
 *   changed it either (in-place handlers change the room as their last action, the others
 *   work on a deep copy, see dispatch.ts `Route.inPlace` and `Route.inPlaceIf`: a first
 *   join of a session runs in place too).
 * @param roomJid - the room's bare JID (the actor's identity), e.g. `room@conference.localhost`.
 * @param input - a stanza addressed to the room or to room/nick, a session/gateway loss, or
 *   an admin command.
 * @param ctx - time, service JID, service admins and default configuration.
 * @returns `room` (undefined when the room does not exist or was destroyed), `out` (stanzas
 *   in send order; several for the same recipient keep their order) and `effects`
 *   (logs and history appends as they happened, then `persist` or `destroyed`, then for a
 *   command exactly one `command-result`).
 *   Never throws on bad input: refused stanzas are answered with stanza errors (none in
 *   reply to an error), unroutable ones are dropped with a `log` effect, refused or
 *   malformed commands get a failed `command-result` and change nothing.
 */
export function step(room: RoomState | undefined, roomJid: string, input: RoomInput, ctx: RoomContext): StepResult {
  switch (input.kind) {
    case 'stanza':
      return stanzaStep(room, roomJid, input.stanza, input.origin, ctx);
    case 'session-ended':
      return dropStep(room, ctx, (s) => s.sessionId === input.sessionId && s.fullJid === input.fullJid);
    case 'gateway-down':
      return dropStep(room, ctx, (s) => s.gatewayId === input.gatewayId);
    case 'session-moved':
      return moveStep(room, input.fullJid, input.sessionId, input.gatewayId);
    case 'command':
      return commandStep(room, roomJid, input.command, input.commandId, ctx);
  }
}

function unchanged(room: RoomState | undefined, msg?: string, data?: Record<string, unknown>): StepResult {
  const effects: StepResult['effects'] = [];
  if (msg !== undefined) effects.push({ kind: 'log', level: 'warn', msg, ...(data === undefined ? {} : { data }) });
  return { room, out: [], effects };
}

/**
 * A session resumed on another gateway (XEP-0198 §5): its occupant sessions are routed to
 * `gatewayId` from now on. No stanza: the occupant never left (no leave/join flap).
 */
function moveStep(room: RoomState | undefined, fullJid: string, sessionId: string, gatewayId: string): StepResult {
  if (room === undefined) return unchanged(undefined);
  const moves = (s: OccupantSession) => s.fullJid === fullJid && s.sessionId === sessionId && s.gatewayId !== gatewayId;
  if (![...room.occupants.values()].some((o) => o.sessions.some(moves))) return unchanged(room);
  const next = structuredClone(room);
  for (const occupant of next.occupants.values()) {
    for (const s of occupant.sessions) if (moves(s)) s.gatewayId = gatewayId;
  }
  return { room: next, out: [], effects: [{ kind: 'persist' }] };
}

/** §7.14: sessions gone without unavailable presence leave every nick they had. */
function dropStep(room: RoomState | undefined, ctx: RoomContext, gone: (s: OccupantSession) => boolean): StepResult {
  if (room === undefined) return unchanged(undefined);
  const affected = [...room.occupants.values()].some((o) => o.sessions.some(gone));
  if (!affected) return unchanged(room);
  const t = new Turn(structuredClone(room), ctx, FEATURES);
  migrate(t);
  const dropped = dropSessions(t, gone);
  t.log('debug', 'sessions gone', { dropped });
  return finish(t, true);
}

function stanzaStep(
  room: RoomState | undefined,
  roomJid: string,
  stanza: Element,
  origin: StanzaOrigin,
  ctx: RoomContext,
): StepResult {
  const name = stanza.name;
  if (name !== 'message' && name !== 'presence' && name !== 'iq') return unchanged(room, 'not a stanza', { name });
  const from = typeof stanza.attrs.from === 'string' ? tryParseJid(stanza.attrs.from) : undefined;
  const to = typeof stanza.attrs.to === 'string' ? tryParseJid(stanza.attrs.to) : undefined;
  const jid = tryParseJid(roomJid)?.toString() ?? roomJid;
  if (from === undefined || to === undefined) return unchanged(room, 'stanza without valid from/to', { name });
  if (to.bare().toString() !== jid) return unchanged(room, 'stanza for another room', { to: to.bare().toString() });
  const type = stanzaType(stanza);
  const isRequest = name === 'iq' && (type === 'get' || type === 'set');
  const payload = isRequest ? iqPayload(stanza) : undefined;
  const req: StanzaRequest = {
    stanza,
    type,
    from: from.toString(),
    fromBare: from.bare().toString(),
    nick: to.resource,
    occupantNick: to.resource === undefined ? undefined : prepareNick(to.resource),
    origin,
    payload,
    created: false,
  };
  const route = findRoute(stanza, type, to.resource !== undefined, payload);
  if (route === undefined) return unchanged(room);
  if (isRequest && payload === undefined) {
    // RFC 6120 §8.2.3: an iq get/set "MUST contain exactly one child element".
    const t = new Turn(room ?? newRoom(jid, ctx), ctx, FEATURES);
    t.refuse(req, REFUSALS.badRequest);
    return { room, out: t.out, effects: t.effects };
  }
  if (room === undefined) {
    if (route.missing === 'ignore') return unchanged(undefined);
    const t = new Turn(newRoom(jid, ctx), ctx, FEATURES);
    if (route.missing === 'not-found') {
      t.refuse(req, REFUSALS.noRoom);
      return { room: undefined, out: t.out, effects: t.effects };
    }
    if (route.missing === 'create') req.created = true;
    route.handle(t, req);
    if (!req.created || t.room.occupants.size === 0) {
      return { room: undefined, out: t.out, effects: t.effects };
    }
    return finish(t, false);
  }
  // The hot path (groupchat, private messages, disco) needs no copy: see Route.inPlace.
  const inPlace = route.inPlace === true || route.inPlaceIf?.(room, req) === true;
  const t = new Turn(inPlace ? room : structuredClone(room), ctx, FEATURES);
  migrate(t);
  route.handle(t, req);
  return finish(t, true);
}

/**
 * An admin command: checked, refused when the room is missing (`item-not-found`) or
 * exists already (`create`: `conflict`), else run in a turn of its own. A refusal leaves
 * the room as it was and sends nothing; success answers with the room's snapshot after
 * the turn (none for `send-message`, or when the room is gone).
 */
function commandStep(room: RoomState | undefined, roomJid: string, raw: unknown, rawId: unknown, ctx: RoomContext): StepResult {
  const commandId = typeof rawId === 'string' ? rawId : '';
  const answer = (r: StepResult, result: CommandResult): StepResult => {
    r.effects.push({ kind: 'command-result', commandId, result });
    return r;
  };
  const refuse = (result: CommandResult & { ok: false }): StepResult => {
    const log = { kind: 'log' as const, level: 'debug' as const, msg: 'command refused', data: { room: room?.jid ?? roomJid, error: result.error } };
    return answer({ room, out: [], effects: [log] }, result);
  };
  const parsed = parseRoomCommand(raw);
  if (!parsed.ok) return refuse(parsed);
  const command = parsed.command;
  if (command.op === 'create' && room !== undefined) return refuse(commandRefusal('conflict', 'the room exists'));
  if (command.op !== 'create' && room === undefined) return refuse(commandRefusal('item-not-found', 'no such room'));
  const jid = tryParseJid(roomJid)?.toString() ?? roomJid;
  const t = new Turn(room === undefined ? newRoom(jid, ctx) : structuredClone(room), ctx, FEATURES);
  migrate(t);
  const outcome = runCommand(t, command);
  if (!outcome.ok) return refuse(outcome);
  const r = finish(t, room !== undefined);
  if (outcome.snapshot && r.room !== undefined) return answer(r, { ok: true, room: roomSnapshot(r.room, ctx) });
  return answer(r, { ok: true });
}

/**
 * XEP-0421: a room stored before occupant ids gets its key and its occupants their ids
 * before anything is sent (features/occupant-id.ts), persisted with this turn.
 */
function migrate(t: Turn): void {
  if (ensureOccupantIds(t.room, t.ctx)) t.persist();
}

/** Ends a turn: empty temporary rooms close; the state change becomes an effect. */
function finish(t: Turn, existed: boolean): StepResult {
  closeIfEmpty(t);
  if (t.destroyed !== undefined) {
    const effects = t.effects.filter((e) => e.kind !== 'history-append');
    if (existed) effects.push(t.destroyed.reason === undefined ? { kind: 'destroyed' } : { kind: 'destroyed', reason: t.destroyed.reason });
    return { room: undefined, out: t.out, effects };
  }
  if (t.changed || !existed) t.effects.push({ kind: 'persist' });
  return { room: t.room, out: t.out, effects: t.effects };
}
