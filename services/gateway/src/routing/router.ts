import { clone, type Element } from 'ltx';
import type { Logger } from 'pino';
import { encodeEnvelope, encodeRoomInput, shardForRoom, type KeySpace, type RoomInputEnvelope, type SessionRecord } from '@parley/bus';
import type { Config } from '@parley/config';
import { tryParseJid, type Jid } from '@parley/jid';
import { errorReply, iqPayload, iqResult, keepForOffline, type StanzaErrorCondition, type StanzaErrorType } from '@parley/stanza';
import { serialize } from '@parley/xml';
import type { AccountStore } from '@parley/accounts';
import type { IqHandlers } from '../server/iq-handlers.js';
import type { LocalSessions } from './local-sessions.js';
import type { OfflineStore } from './offline-store.js';
import type { ScriptedRedis } from './scripts.js';
import type { SessionRegistry, RegisteredSession } from './session-registry.js';
import type { ShardBackpressure } from './shard-backpressure.js';
import { hopNowUs, hopTracing } from '@parley/bus';
import { ingressTrace, traceAck } from '../metrics/hop-trace.js';

/** Presence types the account's server handles itself: probes and the four subscription types (RFC 6121 §3, §4.3). */
const isRosterPresence = (type: string | undefined) =>
  type === 'probe' || type === 'subscribe' || type === 'subscribed' || type === 'unsubscribe' || type === 'unsubscribed';

/** How many times one stanza may be re-routed (stale registry entries) before it is dropped. */
const MAX_HOPS = 3;

export interface RouterDeps {
  gatewayId: string;
  config: Config;
  redis: ScriptedRedis;
  keys: KeySpace;
  registry: SessionRegistry;
  accounts: AccountStore;
  offline: OfflineStore;
  local: LocalSessions;
  log: Logger;
  /** Current time in ms since epoch. */
  now: () => number;
  /** Holds senders of lagging room shards (issue #10 item 6); none: never held. */
  backpressure?: ShardBackpressure;
  /** The iq requests answered by the server itself (for its domains and accounts' bare JIDs). */
  iq: IqHandlers;
}

/**
 * Routes stanzas between sessions anywhere in the cluster (RFC 6120 §10, RFC 6121 §8.5).
 * Every stanza given to {@link Router.route} has a normalised `from` (the sender's full
 * JID, stamped by its session) and a normalised `to`. Stanzas for a session on another
 * gateway are appended to that gateway's delivery stream; errors go back to the sender
 * through the same path.
 */
export class Router {
  /** Stanzas waiting for Redis to come back (see {@link Router.route}). */
  private waiting = 0;
  /** Resolves at the next `ready` of the Redis connection; one per outage. */
  private ready: Promise<void> | undefined;

  constructor(private readonly d: RouterDeps) {}

  /** Handles probes and subscription stanzas for local accounts (RFC 6121 §3, §4.3); set by the gateway. */
  private presence: { inbound(stanza: Element, to: Jid): Promise<void> } | undefined;

  /** Plugs in the roster-aware presence handling (see `roster/presence.ts`). */
  usePresence(presence: { inbound(stanza: Element, to: Jid): Promise<void> }): void {
    this.presence = presence;
  }

  /** XEP-0191 routing checks (see `blocking/blocking.ts`); set by the gateway. */
  private blocking: { refuses(stanza: Element, to: Jid, fromClient: boolean): Promise<boolean> } | undefined;
  /** XEP-0280 copies (see `carbons/carbons.ts`); set by the gateway. */
  private carbons:
    | {
        sent(stanza: Element, from: Jid): Promise<void>;
        received(stanza: Element, to: Jid, deliveredTo: readonly string[], sessions?: RegisteredSession[]): Promise<void>;
        isCopy(stanza: Element, to: Jid): boolean;
      }
    | undefined;

  /** XEP-0313 account archives (see `mam/mam.ts`); set by the gateway. */
  private archive:
    | {
        outgoing(stanza: Element, from: Jid, to: Jid): Promise<Element>;
        incoming(stanza: Element, to: Jid): Promise<Element>;
      }
    | undefined;

  /** Plugs in XEP-0313 account archives. */
  useArchive(archive: Router['archive']): void {
    this.archive = archive;
  }

  /** Plugs in XEP-0191 blocking and XEP-0280 carbons. */
  useBlockingAndCarbons(blocking: Router['blocking'], carbons: Router['carbons']): void {
    this.blocking = blocking;
    this.carbons = carbons;
  }

  /** Delivers a stanza as it is (its `to` unchanged) to one registered session, local or on another gateway. */
  async deliverToSession(fullJid: string, record: SessionRecord, stanza: Element): Promise<void> {
    return this.deliverTo(fullJid, record, stanza, 0);
  }

  /**
   * Routes one stanza by its `to` (RFC 6120 §10.4: to a served domain, or not).
   * While Redis is unreachable, a stanza (hops 0: from a session, or a reply) waits for it
   * to come back, at most `gateway.outageWaitMs` and with at most
   * `gateway.outageBufferStanzas` stanzas waiting on the gateway; otherwise the sender gets
   * `resource-constraint` (type wait, RFC 6120 §8.3.3.18) and its session stays open.
   * @param hops - how many times the stanza was routed already (re-routing after a stale
   *   registry entry or a dead gateway)
   */
  async route(stanza: Element, hops = 0, origin: 'client' | 'server' = 'server'): Promise<void> {
    if (hops === 0 && this.d.redis.status !== 'ready' && !(await this.waitForRedis())) return this.refuseForOutage(stanza);
    const to = tryParseJid(stanza.attrs.to ?? '');
    if (!to) return this.bounce(stanza, 'jid-malformed');
    if (hops === 0) {
      // XEP-0191 §3.3: to or from a blocked JID; XEP-0280 §8: copies of what a client sent.
      if (this.blocking && (await this.blocking.refuses(stanza, to, origin === 'client'))) return;
      const from = origin === 'client' && stanza.name === 'message' ? tryParseJid(stanza.attrs.from ?? '') : undefined;
      // XEP-0313: the sender's archive; its <sent/> carbons carry the sender's stanza-id (§3.5).
      const sent = from && this.archive ? await this.archive.outgoing(stanza, from, to) : stanza;
      if (from && this.carbons) await this.carbons.sent(sent, from);
    }
    if (this.d.config.hosts.includes(to.domain)) {
      if (to.local === undefined) return this.toServer(stanza, to);
      return to.resource === undefined ? this.toBareJid(stanza, to, hops) : this.toFullJid(stanza, to, hops);
    }
    if (to.domain === this.d.config.mucDomain) return this.toRoom(stanza, to);
    // RFC 6120 §10.4.3: no server-to-server connections (yet), so a foreign domain is unreachable.
    return this.bounce(stanza, 'remote-server-not-found');
  }

  /** Waits (bounded in count and time) for the Redis connection to be ready; false when it is not. */
  private async waitForRedis(): Promise<boolean> {
    const { outageBufferStanzas, outageWaitMs } = this.d.config.gateway;
    if (this.waiting >= outageBufferStanzas) return false;
    this.waiting += 1;
    let timer: NodeJS.Timeout | undefined;
    try {
      this.ready ??= new Promise<void>((resolve) => {
        this.d.redis.once('ready', () => {
          this.ready = undefined;
          resolve();
        });
      });
      const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), outageWaitMs)));
      return await Promise.race([this.ready.then(() => true), timeout]);
    } finally {
      clearTimeout(timer);
      this.waiting -= 1;
    }
  }

  /** Answers a stanza that could not wait for Redis with `resource-constraint` (wait), straight to a local sender. */
  private refuseForOutage(stanza: Element): void {
    const sender = this.d.local.get(stanza.attrs.from ?? '');
    const reply = errorReply(stanza, 'resource-constraint', { text: 'the server is briefly unable to route stanzas; retry later' });
    if (!sender || !reply) return;
    sender.deliver(reply);
  }

  /**
   * XEP-0045: a stanza for a room (or for the MUC service itself) goes to the stream of the
   * room's shard, where the room's actor applies it in arrival order. The sender's session
   * is named so that the room can answer it directly; a presence to an occupant JID is
   * remembered on the session, so that the rooms hear of it when the session ends.
   */
  private async toRoom(stanza: Element, to: Jid): Promise<void> {
    const room = to.local === undefined ? to.domain : to.bare().toString();
    const from = stanza.attrs.from ?? '';
    // debug.hopTrace (issue #15): a groupchat message's trace, stamped `gw.toRoom` here.
    const hop = hopTracing.on ? ingressTrace(stanza) : undefined;
    const session = this.d.local.get(from);
    if (session && stanza.name === 'presence' && to.resource !== undefined && to.local !== undefined) session.rooms.add(room);
    // Overload backpressure: a client's stanza for a room that is behind (or whose shard is) waits here,
    // so its session's queue fills and its socket stops being read (see ShardBackpressure).
    const shard = shardForRoom(room, this.d.config.muc.shards);
    const held = this.d.backpressure?.admit(shard, room);
    if (held !== undefined && session !== undefined) await held;
    const input: Extract<RoomInputEnvelope, { kind: 'stanza' }> = {
      kind: 'stanza',
      room,
      xml: serialize(stanza),
      gateway: this.d.gatewayId,
      // A stanza not from a session of ours (e.g. an error bounced for a session that is gone) names none.
      sessionId: session?.sessionId ?? '',
    };
    if (hop === undefined) return this.toShard(shard, input);
    const sent = hopNowUs();
    input.hop = { id: hop.id, stamps: [...hop.stamps, sent] };
    await this.toShard(shard, input);
    traceAck(hop.id, 'gw.xadd', sent, hopNowUs());
  }

  /**
   * Tells every room a session had joined (or tried to) that it is gone, so the room
   * removes its occupant with the unavailable presence XEP-0045 §7.14 requires.
   */
  async sessionEnded(fullJid: string, sessionId: string, rooms: Iterable<string>): Promise<void> {
    await Promise.all([...rooms].map((room) => this.toShard(shardForRoom(room, this.d.config.muc.shards), { kind: 'session-ended', room, jid: fullJid, sessionId })));
  }

  /** Tells every shard that a gateway died: its sessions leave every room. */
  async gatewayDown(gatewayId: string): Promise<void> {
    const pipeline = this.d.redis.pipeline();
    for (let shard = 0; shard < this.d.config.muc.shards; shard++) {
      pipeline.xadd(this.d.keys.shardStream(shard), '*', ...encodeRoomInput({ kind: 'gateway-down', gateway: gatewayId }));
    }
    await pipeline.exec();
  }

  private async toShard(shard: number, input: RoomInputEnvelope): Promise<void> {
    await this.d.redis.xadd(this.d.keys.shardStream(shard), '*', ...encodeRoomInput(input));
  }

  /**
   * Delivers stanzas that arrived on this gateway's delivery stream, or directly from a
   * local sender, to the named local session; if that session is gone, the stanza is
   * handled as addressed to an unknown resource (RFC 6121 §8.5.3.2).
   */
  async deliverLocal(fullJid: string, sessionId: string, stanza: Element, hops = 0): Promise<void> {
    const session = this.d.local.get(fullJid);
    if (session && session.sessionId === sessionId) {
      session.deliver(stanza);
      return;
    }
    const to = tryParseJid(fullJid);
    if (!to) return;
    // The registry still pointed here: drop that stale entry so re-routing cannot loop.
    await this.d.registry.unbind(to, { gateway: this.d.gatewayId, sessionId });
    if (hops >= MAX_HOPS) {
      this.d.log.warn({ to: fullJid }, 'dropping stanza after repeated re-routing');
      return;
    }
    return this.unknownResource(stanza, to, hops + 1);
  }

  /**
   * Sends a stanza to the user's own available resources: presence broadcast without a
   * roster (RFC 6121 §4.2.2, §4.5.2) and the account's echo of its own presence.
   * @param except - a full JID to leave out (the sender of an unavailable presence)
   */
  async broadcastToOwnResources(bareJid: string, stanza: Element, except?: string): Promise<void> {
    const sessions = await this.d.registry.sessionsOf(bareJid);
    await Promise.all(
      sessions
        .filter((s) => s.record.available && `${bareJid}/${s.resource}` !== except)
        .map((s) => {
          const copy = clone(stanza);
          copy.attrs.to = `${bareJid}/${s.resource}`;
          return this.deliverTo(copy.attrs.to, s.record, copy, 0);
        }),
    );
  }

  /** Sends an error reply for `stanza` back to its sender, unless it is an error itself (RFC 6120 §8.3.1). */
  async bounce(stanza: Element, condition: StanzaErrorCondition, text?: string, type?: StanzaErrorType, app?: Element): Promise<void> {
    const reply = errorReply(stanza, condition, { ...(text === undefined ? {} : { text }), ...(type === undefined ? {} : { type }) });
    if (!reply) return;
    // RFC 6120 §8.3.2: an application-specific condition follows the defined one.
    if (app) reply.getChild('error')?.cnode(app);
    // Replies come from the JID that was addressed, or from the server when that was not a JID.
    if (tryParseJid(reply.attrs.from ?? '') === undefined) reply.attrs.from = this.d.config.hosts[0];
    if (!reply.attrs.to) return;
    await this.route(reply);
  }

  private async toServer(stanza: Element, to: Jid): Promise<void> {
    if (to.resource !== undefined) {
      // RFC 6120 §10.4.2 leaves a server's full JIDs to the server; we have none.
      if (stanza.name === 'iq') return this.bounce(stanza, 'service-unavailable');
      return;
    }
    if (stanza.name === 'iq') return this.answerIq(stanza, 'server', to);
    if (stanza.name === 'message') return this.bounce(stanza, 'service-unavailable');
    // Presence to the server itself: nothing to do without rosters or directed-presence tracking.
  }

  private async answerIq(iq: Element, target: 'server' | 'account', to: Jid): Promise<void> {
    const type = iq.attrs.type;
    if (type !== 'get' && type !== 'set') return; // results and errors addressed to us end here
    const query = iqPayload(iq);
    if (!query) return this.bounce(iq, 'bad-request'); // RFC 6120 §8.2.3: exactly one child
    const from = tryParseJid(iq.attrs.from ?? '');
    if (!from) return; // not from a session: nobody to answer
    const self = target === 'account' && from.bare().equals(to);
    let answer;
    try {
      answer = await this.d.iq.answer(type, query, { target, domain: to.domain, node: query.attrs.node, mucDomain: this.d.config.mucDomain, from, to, self, iq });
    } catch (err) {
      this.d.log.error({ err, xmlns: query.attrs.xmlns }, 'iq handler failed');
      return this.bounce(iq, 'internal-server-error');
    }
    if ('error' in answer) return this.bounce(iq, answer.error, answer.text, answer.type, answer.app);
    await this.route(iqResult(iq, answer.payload));
    await answer.afterReply?.().catch((err: unknown) => this.d.log.error({ err, xmlns: query.attrs.xmlns }, 'iq follow-up failed'));
  }

  private async toFullJid(stanza: Element, to: Jid, hops: number): Promise<void> {
    // RFC 6121 §3.1.3, §4.3: subscription stanzas and probes are for the account (bare JID).
    if (stanza.name === 'presence' && this.presence && isRosterPresence(stanza.attrs.type)) return this.toBareJid(stanza, to.bare(), hops);
    const record = await this.d.registry.lookup(to);
    if (!record) return this.unknownResource(stanza, to, hops);
    // XEP-0313: the recipient's archive, and its stanza-id on what it receives (§3.5).
    if (hops === 0 && stanza.name === 'message' && this.archive) stanza = await this.archive.incoming(stanza, to);
    await this.deliverTo(to.toString(), record, stanza, hops);
    // XEP-0280 §7: the account's other Carbons-enabled resources get a copy.
    if (hops === 0 && this.carbons && stanza.name === 'message') await this.carbons.received(stanza, to, [to.resource ?? '']);
  }

  /** RFC 6121 §8.5.3.2: a full JID whose resource is not bound. */
  private async unknownResource(stanza: Element, to: Jid, hops: number): Promise<void> {
    const type = stanza.attrs.type;
    // XEP-0280 §10.3: a carbon copy whose session has gone is dropped (not re-routed, not bounced).
    if (this.carbons?.isCopy(stanza, to)) return;
    if (stanza.name === 'message') {
      // §8.5.3.2.1: normal and chat are treated as if sent to the bare JID; groupchat
      // gets service-unavailable; headline and error are silently ignored.
      if (type === undefined || type === 'normal' || type === 'chat') return this.toBareJid(stanza, to.bare(), hops);
      if (type === 'groupchat') return this.bounce(stanza, 'service-unavailable');
      return;
    }
    if (stanza.name === 'iq' && (type === 'get' || type === 'set')) return this.bounce(stanza, 'service-unavailable');
    // §8.5.3.2.2: presence to an unbound resource is silently ignored.
  }

  /** RFC 6121 §8.5.2: a bare JID on a served domain. */
  private async toBareJid(stanza: Element, to: Jid, hops: number): Promise<void> {
    const bare = to.toString();
    const sessions = await this.d.registry.sessionsOf(bare);
    if (sessions.length === 0 && !(await this.d.accounts.exists(bare))) return this.noSuchUser(stanza);
    const type = stanza.attrs.type;
    if (stanza.name === 'iq') return this.answerIq(stanza, 'account', to);
    // RFC 6121 §3, §4.3.2: the account's server handles these against the account's roster.
    if (stanza.name === 'presence' && this.presence && isRosterPresence(stanza.attrs.type)) return this.presence.inbound(stanza, to);
    const available = sessions.filter((s) => s.record.available && s.record.priority >= 0);
    if (stanza.name === 'presence') {
      // §8.5.2.1.2: presence goes to every available resource. Probes are the server's to
      // answer from the roster, which this server does not have yet.
      if (type === 'probe') return;
      const targets = sessions.filter((s) => s.record.available);
      await Promise.all(targets.map((s) => this.deliverTo(`${bare}/${s.resource}`, s.record, stanza, hops)));
      return;
    }
    // Messages, §8.5.2.1.1.
    if (type === 'groupchat') return this.bounce(stanza, 'service-unavailable');
    if (type === 'error') return;
    if (type === 'headline') {
      await Promise.all(available.map((s) => this.deliverTo(`${bare}/${s.resource}`, s.record, stanza, hops)));
      return;
    }
    // XEP-0313: the recipient's archive (delivered now or stored offline), with its stanza-id (§3.5).
    if (hops === 0 && this.archive) stanza = await this.archive.incoming(stanza, to);
    if (available.length > 0) {
      const top = Math.max(...available.map((s) => s.record.priority));
      const chosen: RegisteredSession[] = available.filter((s) => s.record.priority === top);
      await Promise.all(chosen.map((s) => this.deliverTo(`${bare}/${s.resource}`, s.record, stanza, hops)));
      // XEP-0280 §7: Carbons-enabled resources that did not get the message get a copy.
      if (hops === 0 && this.carbons) await this.carbons.received(stanza, to, chosen.map((s) => s.resource), sessions);
      return;
    }
    // XEP-0334 §4.2/§4.4: a message with <no-store/>, or without a body and without
    // <store/> (chat states, receipts), is not kept offline: dropped silently (RFC 6121
    // §8.5.2.1.1 lets the server ignore what it does not store). Prosody stores them all.
    if (!keepForOffline(stanza)) return;
    if (!this.d.config.offline.enabled) return this.bounce(stanza, 'service-unavailable');
    const stored = await this.d.offline.push(bare, stanza, to.domain, this.d.now());
    if (!stored) return this.bounce(stanza, 'service-unavailable', 'offline storage is full');
    if (hops === 0 && this.carbons) await this.carbons.received(stanza, to, [], sessions);
  }

  /** RFC 6121 §8.5.1: no account with that JID. */
  private async noSuchUser(stanza: Element): Promise<void> {
    const type = stanza.attrs.type;
    if (stanza.name === 'presence') return; // silently ignored (subscription states would need a roster)
    if (stanza.name === 'iq' && type !== 'get' && type !== 'set') return;
    return this.bounce(stanza, 'service-unavailable');
  }

  private async deliverTo(fullJid: string, record: SessionRecord, stanza: Element, hops: number): Promise<void> {
    if (record.gateway === this.d.gatewayId) return this.deliverLocal(fullJid, record.sessionId, stanza, hops);
    await this.d.redis.xadd(
      this.d.keys.gatewayDelivery(record.gateway),
      '*',
      ...encodeEnvelope({ kind: 'stanza', to: fullJid, sessionId: record.sessionId, xml: serialize(stanza) }),
    );
  }

  /** Asks whichever gateway holds a session to end it (resource conflict, RFC 6120 §7.7.2.2). */
  async kick(fullJid: string, record: SessionRecord, condition: string, text?: string): Promise<void> {
    if (record.gateway === this.d.gatewayId) {
      const session = this.d.local.get(fullJid);
      if (session && session.sessionId === record.sessionId) session.kick(condition, text);
      return;
    }
    await this.d.redis.xadd(
      this.d.keys.gatewayDelivery(record.gateway),
      '*',
      ...encodeEnvelope(text === undefined
        ? { kind: 'kick', to: fullJid, sessionId: record.sessionId, condition }
        : { kind: 'kick', to: fullJid, sessionId: record.sessionId, condition, text }),
    );
  }
}

