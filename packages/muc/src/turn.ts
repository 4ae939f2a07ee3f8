// One turn of a room actor (XState-style transition, STYLE.md §2): the working state of the
// room plus what the turn has produced so far. Handlers mutate `room` (a private copy made
// by `step`, or for in-place routes the caller's room itself, see dispatch.ts) and append
// stanzas and effects here; nothing is sent or written until the worker carries out the
// returned StepResult.
import { Element } from 'ltx';
import { errorReply, iqResult } from '@parley/stanza';
import { NS } from '@parley/xml';
import type { Refusal } from './errors.js';
import type { Feature } from './features/feature.js';
import type { Nick } from './nick.js';
import type { RoomContext, StanzaOrigin } from './room-input.js';
import type { Affiliation, OccupantSession, RoomState } from './room-state.js';
import { affiliationOf } from './room-queries.js';
import type { Broadcast, Effect, Outgoing } from './step-result.js';

/** A stanza addressed to the room, with its addresses parsed. */
export interface StanzaRequest {
  stanza: Element;
  /** `presence` types: `available` for none; `message`: `normal` for none. */
  type: string;
  /** Sender's full JID (normalised). */
  from: string;
  /** Sender's bare JID. */
  fromBare: string;
  /** Resource of the `to` address (the nick as requested), if any. */
  nick: string | undefined;
  /**
   * `nick` per RFC 8266: the form to show and the comparison key (`RoomState.occupants`);
   * undefined when there is no nick or it fails the Nickname profile.
   */
  occupantNick: Nick | undefined;
  origin: StanzaOrigin;
  /** The iq's only child element (iq get/set only). */
  payload: Element | undefined;
  /** True when this stanza created the room (first join, §10.1.1). */
  created: boolean;
}

/** Accumulates the result of one turn. */
export class Turn {
  readonly out: Outgoing[] = [];
  readonly effects: Effect[] = [];
  /** Set by {@link Turn.destroy}: the room is gone at the end of the turn. */
  destroyed: { reason?: string } | undefined;
  /** Number of occupants when the turn began (§7.14: a room empties when its last one leaves). */
  readonly initialOccupants: number;
  private dirty = false;

  constructor(
    /** The room's working copy (owned by this turn). */
    public room: RoomState,
    readonly ctx: RoomContext,
    /** The features, in hook order (features/index.ts). */
    readonly features: readonly Feature[],
  ) {
    this.initialOccupants = room.occupants.size;
  }

  /** The room's bare JID. */
  get roomJid(): string {
    return this.room.jid;
  }

  /** The occupant JID of `nick`: `room@service/nick`. */
  occupantJid(nick: string): string {
    return `${this.room.jid}/${nick}`;
  }

  /** Effective affiliation of a bare JID (service admins are owners). */
  affiliation(bareJid: string): Affiliation {
    return affiliationOf(this.room, bareJid, this.ctx);
  }

  /** Queues a stanza; `stanza.attrs.to` must be set. */
  send(stanza: Element, route?: { gatewayId: string; sessionId: string }): void {
    if (stanza.attrs.xmlns === undefined) stanza.attrs.xmlns = NS.CLIENT;
    const to = String(stanza.attrs.to);
    this.out.push(route === undefined ? { stanza, to } : { stanza, to, route: { ...route } });
  }

  /** Queues a stanza to one occupant session. */
  sendTo(session: OccupantSession, stanza: Element): void {
    stanza.attrs.to = session.fullJid;
    this.send(stanza, { gatewayId: session.gatewayId, sessionId: session.sessionId });
  }

  /**
   * Queues one stanza to many occupant sessions, built once: `stanza` (without `to`) becomes
   * the outputs' shared {@link Broadcast}, and each output gets a head of its own (the
   * attributes plus its `to`) over the same children. O(1) work per recipient besides that
   * head, instead of a deep copy each. Output order is the order of `sessions`.
   */
  broadcast(sessions: Iterable<OccupantSession>, stanza: Element): void {
    if (stanza.attrs.xmlns === undefined) stanza.attrs.xmlns = NS.CLIENT;
    const shared: Broadcast = { stanza };
    for (const session of sessions) {
      const head = new Element(stanza.name, { ...stanza.attrs, to: session.fullJid });
      head.children = stanza.children;
      this.out.push({ stanza: head, to: session.fullJid, route: { gatewayId: session.gatewayId, sessionId: session.sessionId }, broadcast: shared });
    }
  }

  /**
   * Queues the stanza of a broadcast (see {@link Turn.shared}) to one occupant session: a
   * head of its own (the attributes plus its `to`) over the shared children. Lets one
   * publication interleave several broadcasts (e.g. with and without real JIDs) in the
   * recipients' order.
   */
  sendShared(session: OccupantSession, shared: Broadcast): void {
    const stanza = shared.stanza;
    const head = new Element(stanza.name, { ...stanza.attrs, to: session.fullJid });
    head.children = stanza.children;
    this.out.push({ stanza: head, to: session.fullJid, route: { gatewayId: session.gatewayId, sessionId: session.sessionId }, broadcast: shared });
  }

  /** A stanza (without `to`) made a {@link Broadcast} for {@link Turn.sendShared}. */
  shared(stanza: Element): Broadcast {
    delete stanza.attrs.to;
    if (stanza.attrs.xmlns === undefined) stanza.attrs.xmlns = NS.CLIENT;
    return { stanza };
  }

  /** Queues a reply to the sender of `req` (routed back to its session). */
  reply(req: StanzaRequest, stanza: Element): void {
    stanza.attrs.to = req.from;
    this.send(stanza, req.origin);
  }

  /** Answers an iq get/set with a result (optionally carrying `payload`). */
  result(req: StanzaRequest, payload?: Element): void {
    this.reply(req, iqResult(req.stanza, payload));
  }

  /**
   * Answers `req` with a stanza error from the address it was sent to, `by` the room
   * (XEP-0045 examples); presence errors carry `<x xmlns='http://jabber.org/protocol/muc'/>`
   * (§7.2.5 ff.). Nothing is sent in reply to an error (RFC 6120 §8.3.1).
   */
  refuse(req: StanzaRequest, refusal: Refusal): void {
    const opts = refusal.text === undefined
      ? { type: refusal.type, by: this.room.jid }
      : { type: refusal.type, by: this.room.jid, text: refusal.text };
    const reply = errorReply(req.stanza, refusal.condition, opts);
    if (reply === undefined) return;
    if (req.stanza.name === 'presence') {
      const x = new Element('x', { xmlns: NS.MUC });
      x.parent = reply;
      reply.children.unshift(x);
    }
    this.reply(req, reply);
    this.log('debug', 'refused', { condition: refusal.condition, stanza: req.stanza.name, type: req.type });
  }

  /** Notes that room state other than history changed. */
  persist(): void {
    this.dirty = true;
  }

  /** Whether {@link Turn.persist} was called. */
  get changed(): boolean {
    return this.dirty;
  }

  /** Marks the room as gone at the end of this turn. */
  destroy(reason?: string): void {
    this.destroyed = reason === undefined ? {} : { reason };
  }

  log(level: 'info' | 'warn' | 'debug', msg: string, data?: Record<string, unknown>): void {
    const base = { room: this.room.jid, ...data };
    this.effects.push({ kind: 'log', level, msg, data: base });
  }
}
