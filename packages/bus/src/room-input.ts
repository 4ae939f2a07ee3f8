import { decodeHopTrace, encodeHopTrace, type HopTrace } from './hop-trace.js';

/**
 * Entries of a shard stream (see `KeySpace.shardStream`): what gateways tell room actors.
 *
 * - `stanza`: a stanza from a client session to a room (`room` is the room's bare JID) or to
 *   the MUC service itself (`room` is the service JID). `xml` is the stanza with `from` set to
 *   the sender's full JID by the gateway; `gateway` and `sessionId` say where the sender is
 *   connected, so that replies go straight back.
 * - `session-ended`: session `sessionId` of the full JID `jid` is gone (disconnect, replaced
 *   resource) or sent undirected unavailable presence (RFC 6121 §4.6.3); the room removes
 *   its occupant like an unavailable presence (XEP-0045 §7.14).
 * - `gateway-down`: every session of `gateway` is gone (the gateway died and was reaped); no
 *   `room`, since it concerns every room of the shard.
 * - `session-moved`: session `sessionId` of the full JID `jid` is now held by `gateway` (a
 *   XEP-0198 resumption on another gateway); the room routes to it there, nobody is told.
 * - `command`: an administrative command for `room` (e.g. from the admin API): `command` is
 *   a JSON `RoomCommand` (`@parley/muc`). It goes through the shard stream like stanzas, so
 *   it is serialised with everything else happening in the room. The room worker pushes the
 *   JSON `CommandResult` onto the list `replyTo` (see `KeySpace.commandReply`) once the turn
 *   that applied it is committed; `commandId` names the command in logs and results.
 *
 * A `stanza` may carry a {@link HopTrace} (`hop`, optional: the `debug.hopTrace` setting, see
 * hop-trace.ts); a malformed one is dropped, not the entry.
 */
export type RoomInputEnvelope =
  | { kind: 'stanza'; room: string; xml: string; gateway: string; sessionId: string; hop?: HopTrace }
  | { kind: 'command'; room: string; commandId: string; command: string; replyTo: string }
  | { kind: 'session-ended'; room: string; jid: string; sessionId: string }
  | { kind: 'gateway-down'; gateway: string }
  | { kind: 'session-moved'; room: string; jid: string; sessionId: string; gateway: string };

/** Flattens a room input into XADD field/value arguments. */
export function encodeRoomInput(env: RoomInputEnvelope): string[] {
  switch (env.kind) {
    case 'stanza':
      return env.hop === undefined
        ? ['kind', 'stanza', 'room', env.room, 'gw', env.gateway, 'sid', env.sessionId, 'xml', env.xml]
        : ['kind', 'stanza', 'room', env.room, 'gw', env.gateway, 'sid', env.sessionId, 'xml', env.xml, 'hop', encodeHopTrace(env.hop)];
    case 'session-ended':
      return ['kind', 'session-ended', 'room', env.room, 'jid', env.jid, 'sid', env.sessionId];
    case 'gateway-down':
      return ['kind', 'gateway-down', 'gw', env.gateway];
    case 'session-moved':
      return ['kind', 'session-moved', 'room', env.room, 'jid', env.jid, 'sid', env.sessionId, 'gw', env.gateway];
    case 'command':
      return ['kind', 'command', 'room', env.room, 'id', env.commandId, 'cmd', env.command, 'reply', env.replyTo];
  }
}

/** Reads XREAD field/value pairs back into a room input; undefined when malformed. */
export function decodeRoomInput(fields: string[]): RoomInputEnvelope | undefined {
  const m = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) m.set(fields[i]!, fields[i + 1]!);
  const kind = m.get('kind');
  const room = m.get('room');
  const gateway = m.get('gw');
  const sessionId = m.get('sid');
  if (kind === 'stanza') {
    const xml = m.get('xml');
    if (room === undefined || gateway === undefined || sessionId === undefined || xml === undefined) return undefined;
    const hop = decodeHopTrace(m.get('hop'));
    return hop === undefined ? { kind, room, xml, gateway, sessionId } : { kind, room, xml, gateway, sessionId, hop };
  }
  if (kind === 'session-ended') {
    const jid = m.get('jid');
    if (room === undefined || jid === undefined || sessionId === undefined) return undefined;
    return { kind, room, jid, sessionId };
  }
  if (kind === 'gateway-down') return gateway === undefined ? undefined : { kind, gateway };
  if (kind === 'session-moved') {
    const jid = m.get('jid');
    if (room === undefined || jid === undefined || sessionId === undefined || gateway === undefined) return undefined;
    return { kind, room, jid, sessionId, gateway };
  }
  if (kind === 'command') {
    const commandId = m.get('id');
    const command = m.get('cmd');
    const replyTo = m.get('reply');
    if (room === undefined || commandId === undefined || command === undefined || replyTo === undefined) return undefined;
    return { kind, room, commandId, command, replyTo };
  }
  return undefined;
}
