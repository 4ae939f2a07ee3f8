// Test harness: drives `step` like the room worker would (one input at a time, the state
// round-tripped through JSON as Redis would store it) and describes stanzas compactly.
// `step` takes its room argument over (it may change it in place and return it), so the
// harness checks what the contract still promises instead of non-mutation: the state
// changes only as the effects say (nothing without `persist`/`destroyed`, only the history
// with just `history-append`), so what the worker writes to Redis is never behind memory.
import type { Element } from 'ltx';
import { NS, parseElement, serialize } from '@parley/xml';
import { roomFromJson, roomToJson, step, type CommandResult, type Effect, type Outgoing, type RoomCommand, type RoomContext, type RoomState } from '@parley/muc';

export const ROOM = 'room@conference.localhost';

/** The room as the worker stores it in Redis (room-json.ts). */
export function toJson(room: RoomState): string {
  return JSON.stringify(roomToJson(room));
}

/** A room read back from {@link toJson}. */
export function fromJson(json: string): RoomState {
  return roomFromJson(JSON.parse(json));
}

/** `room` through a JSON round trip, as a worker would store and load it. */
export function roundTrip(room: RoomState | undefined): RoomState | undefined {
  return room === undefined ? undefined : fromJson(toJson(room));
}
export const ROMEO = 'user@localhost/romeo';
export const JULIET = 'user2@localhost/juliet';
export const ROSALINE = 'user3@localhost/rosaline';
export const ADMIN = 'admin@localhost/console';

/**
 * A context as the worker makes it, with `newId` counting `id-1`, `id-2`, ... from each
 * call of makeCtx (deterministic: two contexts made alike give the same ids).
 */
export function makeCtx(now = Date.UTC(2026, 0, 1, 12, 0, 0)): RoomContext {
  let n = 0;
  return { now, serviceJid: 'conference.localhost', serviceAdmins: ['admin@localhost'], newId: () => `id-${++n}` };
}

/** Parses stanza XML in jabber:client. */
export function xml(text: string): Element {
  return parseElement(text, { defaultNs: NS.CLIENT });
}

/** A simulated room actor. */
export class Sim {
  room: RoomState | undefined;
  effects: Effect[] = [];
  ctx: RoomContext = makeCtx();

  constructor(readonly roomJid = ROOM) {}

  /** Sends `text` (from `from`, a full JID) and returns what the room sent. */
  send(from: string, text: string): Outgoing[] {
    const stanza = xml(text);
    stanza.attrs.from = from;
    return this.input({ kind: 'stanza', stanza, origin: { gatewayId: 'gw1', sessionId: `s:${from}` } });
  }

  input(input: Parameters<typeof step>[2]): Outgoing[] {
    const before = this.room === undefined ? undefined : toJson(this.room);
    const result = step(this.room, this.roomJid, input, this.ctx);
    if (before !== undefined && result.room !== undefined) {
      const kinds = new Set(result.effects.map((e) => e.kind));
      const after = toJson(result.room);
      const withoutHistory = (json: string) => JSON.stringify({ ...(JSON.parse(json) as object), history: [] });
      if (!kinds.has('persist') && !kinds.has('destroyed')) {
        if (!kinds.has('history-append') && !kinds.has('history-rewrite') && after !== before) throw new Error('step changed the room without a persist or history-append effect');
        if (withoutHistory(after) !== withoutHistory(before)) throw new Error('step changed more than the history without a persist effect');
      }
    }
    // The argument belongs to step now: only the result is used from here on.
    this.room = roundTrip(result.room);
    this.effects = result.effects;
    for (const o of result.out) {
      if (o.to !== o.stanza.attrs.to) throw new Error('Outgoing.to differs from stanza to');
      if (o.stanza.attrs.xmlns !== NS.CLIENT) throw new Error('outgoing stanza not in jabber:client');
    }
    return result.out;
  }

  /**
   * Runs an admin command (any JSON, to test malformed ones) and returns what the room
   * sent; checks that the turn ends with exactly one command-result for `commandId`.
   */
  command(command: unknown, commandId = 'cmd'): Outgoing[] {
    const out = this.input({ kind: 'command', command: command as RoomCommand, commandId });
    const results = this.effects.filter((e) => e.kind === 'command-result');
    if (results.length !== 1) throw new Error(`expected one command-result, got ${results.length}`);
    if (this.effects.at(-1)?.kind !== 'command-result') throw new Error('command-result is not the last effect');
    if (results[0]?.commandId !== commandId) throw new Error('command-result with another commandId');
    return out;
  }

  /** The result of the last command. */
  get result(): CommandResult {
    const last = this.effects.at(-1);
    if (last?.kind !== 'command-result') throw new Error('no command-result');
    return last.result;
  }

  /** Joins `nick` from `from` with an `<x xmlns=muc/>` (extra children inside x). */
  join(from: string, nick: string, inner = ''): Outgoing[] {
    return this.send(from, `<presence to='${this.roomJid}/${nick}'><x xmlns='${NS.MUC}'>${inner}</x></presence>`);
  }

  /** Creates the room as an instant room owned by `from` as `nick`. */
  create(from: string, nick: string, fields = ''): Outgoing[] {
    this.join(from, nick);
    return this.configure(from, fields);
  }

  configure(from: string, fields: string, id = 'cfg'): Outgoing[] {
    return this.send(
      from,
      `<iq type='set' id='${id}' to='${this.roomJid}'><query xmlns='${NS.MUC_OWNER}'><x xmlns='jabber:x:data' type='submit'>` +
        `<field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#roomconfig</value></field>${fields}</x></query></iq>`,
    );
  }
}

/** Outgoing stanzas addressed to `to`. */
export function to(out: readonly Outgoing[], jid: string): Element[] {
  return out.filter((o) => o.to === jid).map((o) => o.stanza);
}

/** The muc#user x of a stanza. */
export function userX(el: Element | undefined): Element | undefined {
  return el?.getChild('x', NS.MUC_USER);
}

function describe(el: Element): string {
  const attrs = Object.entries(el.attrs)
    .filter(([k]) => k !== 'xmlns')
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(',');
  const kids = el.getChildElements().map(describe);
  const text = el.getChildElements().length === 0 ? el.getText().trim() : '';
  return `${el.name}(${attrs})${text === '' ? '' : `"${text}"`}${kids.length ? `[${kids.join(' ')}]` : ''}`;
}

/** Strict description of the muc#user x children: names, sorted attributes, nesting, order. */
export function xShape(el: Element | undefined): string {
  const x = userX(el);
  if (x === undefined) return '<no x>';
  return x.getChildElements().map(describe).join(' ');
}

/** Shape of any element (for non-x payloads). */
export function shape(el: Element): string {
  return describe(el);
}

export function text(el: Element): string {
  return serialize(el);
}

/** Stanza error condition of a reply, if any. */
export function errorCondition(el: Element | undefined): string | undefined {
  const error = el?.getChild('error');
  return error?.getChildElements().find((c) => c.getNS() === NS.STANZAS && c.name !== 'text')?.name;
}
