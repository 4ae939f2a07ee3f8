import type { Redis } from 'ioredis';
import type { Element } from 'ltx';
import type { Logger } from 'pino';
import { decodeEnvelope, DeliveryMarks, DELIVERY_GROUP, nextStreamId, parseDeliveryMark, streamIdMs, type KeySpace } from '@parley/bus';
import { tryParseJid, type Jid } from '@parley/jid';
import { NS, parseOwnElement } from '@parley/xml';
import type { BlocklistCache } from '../blocking/blocklist-cache.js';
import { blockKeys } from '../blocking/jid-match.js';
import type { LocalSessions } from './local-sessions.js';
import type { Router } from './router.js';
import { SharedStanza } from './shared-stanza.js';
import { smWrites } from '../sm/sm-store.js';
import type { DeliveryPressure } from './delivery-pressure.js';
import { extendHopTrace, hopNowUs, hopTracing, type HopTrace } from '@parley/bus';
import { deliveryTrace } from '../metrics/hop-trace.js';
import { flushQueuedWrites } from '../transport/tcp-transport.js';

/** The sender of a room's stanza, with its XEP-0191 §6 match keys computed once. */
interface RoomSender {
  jid: Jid;
  keys: readonly string[];
}

/**
 * The id of the delivery stream entry being handled right now (undefined outside of that).
 * A XEP-0198 session records it with what it queues in Redis, so that a reaper of this
 * gateway does not queue that entry a second time (services/gateway/src/sm/sm-store.ts).
 * Set only around the synchronous hand-over of one entry's stanza to a session.
 */
export const deliveryInProgress: { id: string | undefined } = { id: undefined };

/** Runs `f` with {@link deliveryInProgress} set to `id` (only its synchronous part sees it). */
function during<T>(id: string, f: () => T): T {
  deliveryInProgress.id = id;
  try {
    return f();
  } finally {
    deliveryInProgress.id = undefined;
  }
}

/** Entries read per XREADGROUP call. */
const BATCH = 256;
/** How long one XREADGROUP blocks waiting for entries, ms. */
const BLOCK_MS = 1000;
/**
 * Longest stretch of handling before the event loop gets a turn, ms: sockets (a client's
 * input, a ping's answer) and timers are not kept waiting behind a whole batch of fan-outs.
 */
const SLICE_MS = 5;

/**
 * Reads this gateway's delivery stream with a consumer group and hands each envelope to
 * the session it names. Entries are read with `NOACK` (the stream has one reader, this
 * gateway, whose sessions end with it: nothing is left to redeliver to) and the stream is
 * trimmed past what was handled (`XTRIM MINID`, exact) in the same round trip as the next
 * read, so it stays short without MAXLEN trimming (which could drop entries not yet read).
 * What is trimmed has been handed to the sessions; what is left when the gateway dies is
 * re-routed by its reaper (liveness.ts), so the last batch may be delivered twice, never lost.
 * Envelopes from room workers carry delivery marks; one already seen is dropped, which
 * makes a shard's replay after a failover invisible to clients.
 * Uses its own connection, since XREADGROUP BLOCK holds it.
 */
export class DeliveryConsumer {
  private running = false;
  /** Last room-worker mark per shard: repeats after a shard failover are dropped (see @parley/bus DeliveryMarks). */
  private readonly marks = new DeliveryMarks();
  private done: Promise<void> | undefined;
  /**
   * Called with each entry's wait in ms, from its XADD (its stream id: Redis time) to the
   * start of its handling here (this gateway's clock): the delivery hop's queueing delay.
   */
  onWait: ((ms: number) => void) | undefined;
  /** Standing-queue detection (delivery-pressure.ts): told each entry's wait, room and fan-out. */
  pressure: DeliveryPressure | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly keys: KeySpace,
    private readonly gatewayId: string,
    private readonly router: Router,
    private readonly local: LocalSessions,
    private readonly log: Logger,
    /** XEP-0191 §3.3 filtering of what rooms deliver (see {@link roomSender}); none when absent. */
    private readonly blocking?: { mucDomain: string; cache: BlocklistCache },
  ) {}

  get stream(): string {
    return this.keys.gatewayDelivery(this.gatewayId);
  }

  async start(): Promise<void> {
    await this.ensureGroup();
    this.running = true;
    this.done = this.loop();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.done;
  }

  /** Creates the stream and its group again (after a reaper renamed them away); a no-op when they exist. */
  async restartGroup(): Promise<void> {
    await this.ensureGroup();
  }

  private async ensureGroup(): Promise<void> {
    try {
      await this.redis.xgroup('CREATE', this.stream, DELIVERY_GROUP, '0', 'MKSTREAM');
    } catch (err) {
      if (!String((err as Error).message).includes('BUSYGROUP')) throw err;
    }
  }

  private async loop(): Promise<void> {
    /** Where the stream is trimmed to next: past the last entry handled. */
    let trimTo: string | undefined;
    while (this.running) {
      let reply: unknown;
      try {
        const read = ['GROUP', DELIVERY_GROUP, this.gatewayId, 'COUNT', BATCH, 'BLOCK', BLOCK_MS, 'NOACK', 'STREAMS', this.stream, '>'] as const;
        if (trimTo === undefined) {
          reply = await this.redis.xreadgroup(...read);
        } else {
          // The trim of what was handled goes out with the next read: one write and one round
          // trip when the connection batches a turn's writes (gateway.ts), and no ioredis
          // Pipeline per batch (issue #15). Redis runs the two in this order.
          this.redis.xtrim(this.stream, 'MINID', trimTo).catch((err: unknown) => {
            if (this.running) this.log.warn({ err }, 'trimming the delivery stream failed');
          });
          trimTo = undefined;
          reply = await this.redis.xreadgroup(...read);
        }
      } catch (err) {
        if (!this.running) return;
        if (String((err as Error).message).includes('NOGROUP')) {
          // Our stream was removed (we were taken for dead during a pause): start it again.
          await this.ensureGroup().catch(() => undefined);
          continue;
        }
        this.log.error({ err }, 'reading the delivery stream failed');
        await new Promise((r) => setTimeout(r, 500));
        continue;
      }
      if (!reply) continue;
      const [[, entries] = ['', []]] = reply as Array<[string, Array<[string, string[]]>]>;
      // debug.hopTrace (issue #15): `gd.read`, when this XREADGROUP's reply came.
      if (hopTracing.on) this.readAtUs = hopNowUs();
      let slice = performance.now();
      for (const [id, fields] of entries) {
        const now = Date.now();
        const waited = now - streamIdMs(id);
        this.onWait?.(waited);
        if (hopTracing.on) this.handleAtUs = hopNowUs();
        const handled = await this.handle(fields, id).catch((err: unknown) => this.log.error({ err, id }, 'delivery failed'));
        this.pressure?.record(now, waited, handled?.room, handled?.deliveries ?? 1);
        if (performance.now() - slice >= SLICE_MS) {
          await new Promise<void>((resolve) => setImmediate(resolve));
          slice = performance.now();
        }
      }
      // What the batch queued for sessions goes out now, not at the next check phase (issue #15).
      if (entries.length) flushQueuedWrites();
      const last = entries[entries.length - 1];
      if (last) {
        // XEP-0198: trimmed only once what the sessions queued in Redis for these entries is there (see WriteBarrier).
        const gen = smWrites.issued;
        if (await smWrites.settledUpTo(gen, BLOCK_MS)) trimTo = nextStreamId(last[0]);
        else trimTo = undefined;
      }
    }
  }

  /**
   * Handles one entry. Returns, for a room's fan-out or stanza, the room's bare JID and how
   * many stanzas it handed on (for {@link pressure}); undefined for anything else.
   */
  /** debug.hopTrace: when the current batch was read and the current entry's handling started (µs). */
  private readAtUs = 0;
  private handleAtUs = 0;

  /** debug.hopTrace: a delivered trace with `gd.read` and `gd.handle` appended; undefined when untraced. */
  private hopOf(hop: HopTrace | undefined): HopTrace | undefined {
    return hop === undefined ? undefined : extendHopTrace(hop, this.readAtUs, this.handleAtUs);
  }

  private async handle(fields: string[], id: string): Promise<{ room: string; deliveries: number } | undefined> {
    const env = decodeEnvelope(fields);
    if (!env) {
      this.log.warn({ fields: fields.filter((_, i) => i % 2 === 0) }, 'malformed delivery envelope');
      return;
    }
    if (env.kind === 'blocklist') {
      this.blocking?.cache.invalidate(env.owner);
      return;
    }
    if (env.kind === 'sm-takeover') {
      // XEP-0198 §5: a resumption on gateway env.gateway takes this session over; the answer
      // (its state, or {} when it is not here) goes onto the list the resuming stream polls.
      const session = this.local.get(env.to);
      const state = session && session.sessionId === env.sessionId && session.takeOver ? await session.takeOver(env.smId, env.gateway) : undefined;
      await this.redis.multi().rpush(env.reply, state ?? '{}').expire(env.reply, 60).exec();
      return;
    }
    if (env.kind === 'kick') {
      const session = this.local.get(env.to);
      if (session && session.sessionId === env.sessionId) session.kick(env.condition, env.text);
      return;
    }
    if (env.mark !== undefined) {
      const mark = parseDeliveryMark(env.mark);
      if (!mark) {
        this.log.warn({ mark: env.mark }, 'malformed delivery mark');
        return;
      }
      if (!this.marks.accept(mark)) {
        this.log.debug({ mark: env.mark }, 'dropping a repeated room delivery');
        return;
      }
    }
    if (env.kind === 'stanza') {
      const el = parseOwnElement(env.xml, NS.CLIENT);
      const sender = this.roomSender(el.attrs.from);
      if (sender && (await this.blockedBy(env.to, sender))) {
        await this.refuse(el, env.to);
        return;
      }
      // The trace is set only around the synchronous part (the write to a local session).
      deliveryTrace.current = this.hopOf(env.hop);
      let delivered: Promise<void>;
      try {
        delivered = during(id, () => this.router.deliverLocal(env.to, env.sessionId, el));
      } finally {
        deliveryTrace.current = undefined;
      }
      await delivered;
      return env.mark === undefined ? undefined : { room: bareOf(el.attrs.from ?? ''), deliveries: 1 };
    }
    if (env.kind === 'route') {
      // A room's stanza for an account (e.g. an occupant's vCard, XEP-0045 §17.4): routed
      // as a stanza received from the room (blocking applies, XEP-0191).
      await this.router.route(parseOwnElement(env.xml, NS.CLIENT));
      return;
    }
    if (env.kind === 'stanzas') {
      // One session's stanzas in order (a joiner's view of the room): written as they came,
      // with `to` spliced in; a session gone takes the router's path (RFC 6121 §8.5.3).
      const hop = this.hopOf(env.hop);
      for (const xml of env.xml) {
        const shared = SharedStanza.fromText(xml);
        const sender = this.roomSender(shared.from);
        if (sender && (await this.blockedBy(env.to, sender))) continue;
        if (!during(id, () => this.writeTraced(hop, shared, env.to, env.sessionId))) await this.router.deliverLocal(env.to, env.sessionId, shared.element(env.to));
      }
      return;
    }
    // A fanout (a room's broadcast): written to each recipient with its own `to`.
    const shared = SharedStanza.fromText(env.xml);
    const sender = this.roomSender(shared.from);
    const hop = this.hopOf(env.hop);
    for (const { to, sessionId } of env.recipients) {
      if (sender) {
        const blocked = this.blockedBy(to, sender);
        if (blocked === true || (blocked !== false && (await blocked))) continue;
      }
      if (!during(id, () => this.writeTraced(hop, shared, to, sessionId))) await this.router.deliverLocal(to, sessionId, shared.element(to));
    }
    return env.mark === undefined ? undefined : { room: bareOf(shared.from ?? ''), deliveries: env.recipients.length };
  }

  /**
   * The sender of a stanza a room delivers (a room's bare JID, an occupant JID
   * room@service/nick, or the service itself), or undefined when the stanza is not from
   * the MUC service: stanzas routed by gateways were checked by their router already.
   */
  private roomSender(from: string | undefined): RoomSender | undefined {
    if (!this.blocking || from === undefined || !from.includes(this.blocking.mucDomain)) return undefined;
    const jid = tryParseJid(from);
    return jid && jid.domain === this.blocking.mucDomain ? { jid, keys: blockKeys(jid) } : undefined;
  }

  /**
   * XEP-0191 §3.3: whether the account of the full JID `to` blocks `from` (the occupant
   * JID, the room's bare JID or the service domain, §6 matching), from the gateway's cache
   * (no Redis round trip once loaded). When the list cannot be read the stanza is delivered
   * (logged): failing closed would hide a room from everyone during a Redis outage.
   */
  private blockedBy(to: string, from: RoomSender): boolean | Promise<boolean> {
    const slash = to.indexOf('/');
    const owner = slash < 0 ? to : to.slice(0, slash);
    const cached = this.blocking!.cache.check(owner, from.keys);
    if (cached !== undefined) return cached;
    return this.blocking!.cache.blocks(owner, from.jid).catch((err: unknown) => {
      this.log.warn({ err, owner }, 'reading a blocklist failed; delivering');
      return false;
    });
  }

  /**
   * A room's stanza for a user who blocks its sender is not delivered (XEP-0191 §3.3).
   * iq get/set are answered `service-unavailable` (§3.3, as the router does); messages and
   * presence are dropped without an error, since a room may remove an occupant whose client
   * bounces its messages (Prosody does), and Prosody 0.12 drops them too.
   */
  private async refuse(stanza: Element, to: string): Promise<void> {
    const type = stanza.attrs.type;
    if (stanza.name !== 'iq' || (type !== 'get' && type !== 'set')) return;
    stanza.attrs.to = to;
    await this.router.bounce(stanza, 'service-unavailable');
  }

  /** {@link writeLocal} with {@link deliveryTrace} set to `hop` (debug.hopTrace) during the hand-over. */
  private writeTraced(hop: HopTrace | undefined, shared: SharedStanza, to: string, sessionId: string): boolean {
    if (hop === undefined) return this.writeLocal(shared, to, sessionId);
    deliveryTrace.current = hop;
    try {
      return this.writeLocal(shared, to, sessionId);
    } finally {
      deliveryTrace.current = undefined;
    }
  }

  /** Writes `shared` to the session (`to`, `sessionId`) when it is on this gateway; false when it is gone. */
  private writeLocal(shared: SharedStanza, to: string, sessionId: string): boolean {
    const session = this.local.get(to);
    if (!session || session.sessionId !== sessionId) return false;
    session.deliverShared(shared, to);
    return true;
  }
}

/** The bare part of a JID string (everything before the first `/`). */
function bareOf(jid: string): string {
  const slash = jid.indexOf('/');
  return slash < 0 ? jid : jid.slice(0, slash);
}
