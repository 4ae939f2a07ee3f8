import { Element } from 'ltx';
import type { Logger } from 'pino';
import { parseSessionRecord, type KeySpace, type SessionRecord } from '@parley/bus';
import { NS, parseOwnElement, serialize } from '@parley/xml';
import type { LocalSession, LocalSessions } from '../routing/local-sessions.js';
import type { Router } from '../routing/router.js';
import type { ScriptedRedis } from '../routing/scripts.js';
import type { SharedStanza } from '../routing/shared-stanza.js';
import type { SmTakeover } from './sm-takeover.js';
import { parseItem, type StoredItem } from './sm-store.js';

/** XEP-0203 delayed delivery. */
const DELAY_NS = 'urn:xmpp:delay';
/** The kick condition a claim sends the adopting gateway's sink (not a stream error: the sink has no stream). */
export const CLAIMED = 'sm-claimed';
/** Orphans ended per sweep. */
const SWEEP_BATCH = 32;

export interface SmOrphansDeps {
  redis: ScriptedRedis;
  keys: KeySpace;
  gatewayId: string;
  router: Router;
  local: LocalSessions;
  takeover: SmTakeover;
  log: Logger;
  /** `sm.maxUnacked`: an orphan whose queue grows past it is ended at the next sweep. */
  maxUnacked: number;
  now: () => number;
  /** RFC 6121 §4.5.2, §4.6.3: unavailable presence to contacts and directed-presence targets. */
  presence?: { sessionGone(full: string, record: SessionRecord): Promise<void> };
  /** XEP-0012 §3: the account's last logout. */
  lastActivity?: { record(bareJid: string, at: number, status: string): Promise<void> };
}

/** The state a claim took over (XEP-0198 §5). */
export interface Claimed {
  record: SessionRecord;
  /** The gateway that had adopted the orphan. */
  holder: string;
  inbound: number;
  acked: number;
  windowSec: number;
  items: StoredItem[];
  rooms: string[];
}

const member = (bare: string, smId: string, resource: string) => JSON.stringify([bare, smId, resource]);

/**
 * Stands, on the gateway that adopted it, for an orphaned XEP-0198 session (its gateway died):
 * every stanza delivered to it joins the session's queue in Redis, in arrival order
 * (lua/sm-append-2.lua). While its reaper still queues the dead gateway's delivery entries
 * (older than anything routed here since), what arrives is held in memory ({@link release}).
 * Once the session was claimed or ended elsewhere the append fails and the stanza is routed
 * again by its `to` (it reaches the resumed session, or RFC 6121 §8.5.3.2 applies).
 */
export class OrphanSink implements LocalSession {
  readonly rooms = new Set<string>();
  private held: Array<{ xml: string; at: number }> | undefined = [];
  private chain: Promise<void> = Promise.resolve();
  private gone = false;

  constructor(
    readonly fullJid: string,
    readonly sessionId: string,
    readonly bare: string,
    readonly smId: string,
    private readonly d: SmOrphansDeps,
  ) {}

  deliver(stanza: Element): void {
    this.queue(serialize(stanza));
  }

  deliverShared(stanza: SharedStanza, to: string): void {
    this.queue(stanza.text(to, false));
  }

  private queue(xml: string): void {
    const at = this.d.now();
    if (this.held) {
      this.held.push({ xml, at });
      return;
    }
    this.chain = this.chain.then(async () => void (await this.append(xml, at, '')));
  }

  /**
   * Queues the stanzas of one entry of the dead gateway's delivery stream (the reaper, in
   * stream order, before what is held); skipped when the dead gateway had queued it.
   */
  appendEntry(xmls: readonly string[], entryId: string): Promise<void> {
    this.chain = this.chain.then(async () => {
      const at = this.d.now();
      for (let i = 0; i < xmls.length; i++) {
        if ((await this.append(xmls[i]!, at, i === 0 ? entryId : '')) === -1) return;
      }
    });
    return this.chain;
  }

  /** The reaper queued every entry of the dead gateway: what arrived meanwhile follows, in order. */
  release(): Promise<void> {
    const held = this.held ?? [];
    this.held = undefined;
    for (const { xml, at } of held) this.chain = this.chain.then(async () => void (await this.append(xml, at, '')));
    return this.chain;
  }

  /** @returns the script's answer (-1: queued already), or 0 when it was routed instead */
  private async append(xml: string, at: number, entryId: string): Promise<number> {
    const k = this.d.keys;
    try {
      const n = this.gone ? 0 : await this.d.redis.smAppend(k.smState(this.bare, this.smId), k.smQueue(this.bare, this.smId), this.d.gatewayId, JSON.stringify({ x: xml, t: at }), entryId);
      if (n > this.d.maxUnacked) {
        // Bounded like a detached session's queue: it ends at the next sweep.
        await this.d.redis.zadd(k.smExpiring(), 0, member(this.bare, this.smId, this.fullJid.slice(this.fullJid.indexOf('/') + 1)));
      }
      if (n !== 0) return n;
      // Claimed or ended meanwhile: the stanza follows the registry (hops 1: archived and carbon-copied once already).
      this.detach();
      await this.d.router.route(parseOwnElement(xml, NS.CLIENT), 1);
    } catch (err) {
      this.d.log.warn({ err, to: this.fullJid }, 'queueing a stanza for an orphaned XEP-0198 session failed');
    }
    return 0;
  }

  /** Leaves the local table (claimed elsewhere, ended, or its resource bound anew). */
  private detach(): void {
    this.gone = true;
    this.d.local.delete(this.fullJid, this);
  }

  kick(condition: string): void {
    this.detach();
    // Claimed or ended elsewhere, or this gateway was reaped while alive (`reset`: its reaper
    // adopted the orphan again): only the sink goes. Otherwise its resource was bound by a new
    // session (RFC 6120 §7.7.2.2 `conflict`) or an admin ended it: the orphan ends at once.
    if (condition !== CLAIMED && condition !== 'reset') {
      void this.d.redis
        .zadd(this.d.keys.smExpiring(), 0, member(this.bare, this.smId, this.fullJid.slice(this.fullJid.indexOf('/') + 1)))
        .catch(() => undefined);
    }
  }

  async updateRecord(): Promise<void> {
    // The session has no client to change its flags.
  }
}

/**
 * XEP-0198 §5 resumption after the gateway holding the session died (issue #13):
 * - {@link adopt}: the reaper keeps each resumable session of the dead gateway (its registry
 *   record now names this gateway and is marked detached; rooms are told `session-moved`
 *   to this gateway, so they neither drop the occupant nor send to the dead gateway), and an
 *   {@link OrphanSink} here queues what arrives for it;
 * - {@link claim}: a resuming stream on any gateway takes an orphan over in one script;
 * - {@link sweep}: any live gateway ends the orphans whose window is over, as a logout
 *   (rooms' `session-ended`, queued stanzas routed per RFC 6121 §8.5.3.2, unavailable presence).
 */
export class SmOrphans {
  constructor(private readonly d: SmOrphansDeps) {}

  /**
   * Adopts the resumable sessions among a dead gateway's (`members`: full JIDs of its
   * session set). Sinks start holding; call {@link finishAdoption} once its delivery stream
   * was queued. Sessions not adopted are left for the reaper's normal path.
   */
  async adopt(deadId: string, members: readonly string[]): Promise<Map<string, OrphanSink>> {
    const k = this.d.keys;
    const out = new Map<string, OrphanSink>();
    for (const full of members) {
      const slash = full.indexOf('/');
      if (slash < 0) continue;
      const bare = full.slice(0, slash);
      const resource = full.slice(slash + 1);
      try {
        const raw = await this.d.redis.hget(k.userSessions(bare), resource);
        const record = parseSessionRecord(raw);
        if (!raw || !record || record.gateway !== deadId || record.sm === undefined) continue;
        const smId = record.sm;
        const [sid, gw, det, win] = await this.d.redis.hmget(k.smState(bare, smId), 'sid', 'gw', 'det', 'win');
        if (sid !== record.sessionId || gw !== deadId) continue;
        const now = this.d.now();
        const detached = det ? Number(det) : now;
        const deadline = Math.max(now, detached + Number(win ?? 0) * 1000);
        const sink = new OrphanSink(full, record.sessionId, bare, smId, this.d);
        // A stream on this gateway already resuming it keeps the local entry (it claims the queue later).
        if (!this.d.local.get(full)) this.d.local.set(full, sink);
        const next: SessionRecord = { ...record, gateway: this.d.gatewayId, detached };
        const ok = await this.d.redis.smOrphan(k.userSessions(bare), k.smState(bare, smId), resource, raw, JSON.stringify(next), deadId, this.d.gatewayId, detached);
        if (ok !== 1) {
          this.d.local.delete(full, sink);
          continue;
        }
        await this.d.redis.sadd(k.gatewaySessions(this.d.gatewayId), full);
        await this.d.redis.zadd(k.smExpiring(), deadline, member(bare, smId, resource));
        // XEP-0045: the rooms address the occupant through this gateway from now on (no leave).
        const rooms = await this.d.redis.smembers(k.smRooms(bare, smId));
        await this.d.takeover.moved(full, record.sessionId, rooms);
        out.set(full, sink);
      } catch (err) {
        this.d.log.warn({ err, full }, 'keeping a dead gateway\'s resumable session failed; it ends');
      }
    }
    if (out.size > 0) this.d.log.info({ deadGateway: deadId, orphans: out.size }, 'kept the resumable sessions of a dead gateway');
    return out;
  }

  /** After the reaper queued the dead gateway's entries: held stanzas follow, and the orphans become claimable. */
  async finishAdoption(sinks: Map<string, OrphanSink>): Promise<void> {
    for (const sink of sinks.values()) {
      try {
        await sink.release();
        await this.d.redis.hdel(this.d.keys.smState(sink.bare, sink.smId), 'reaping');
      } catch (err) {
        this.d.log.warn({ err, full: sink.fullJid }, 'finishing the adoption of an orphaned session failed');
      }
    }
  }

  /**
   * Whether `smId` names an orphan (claimable now or once its reaper is done) and whether the
   * gateway that held it before is gone; `gone` when no such session exists any more.
   */
  async state(bare: string, smId: string, sessionId: string): Promise<'orphan' | 'held' | 'gone'> {
    const [sid, orphan] = await this.d.redis.hmget(this.d.keys.smState(bare, smId), 'sid', 'orphan');
    if (sid !== sessionId) return 'gone';
    return orphan === '1' ? 'orphan' : 'held';
  }

  /**
   * XEP-0198 §5: takes the orphan `smId` of `full` over for this gateway: the registry record
   * names this gateway (not detached), the Redis state and queue are this gateway's; its
   * adopter's sink is dismissed; `undefined` when it is not claimable now.
   */
  async claim(bare: string, resource: string, smId: string, transport: SessionRecord['transport']): Promise<Claimed | undefined> {
    const k = this.d.keys;
    const raw = await this.d.redis.hget(k.userSessions(bare), resource);
    const record = parseSessionRecord(raw);
    if (!raw || !record || record.sm !== smId) return undefined;
    const next: SessionRecord = { ...record, gateway: this.d.gatewayId, transport };
    delete next.detached;
    const got = await this.d.redis.smClaim(k.userSessions(bare), k.smState(bare, smId), k.smQueue(bare, smId), k.smRooms(bare, smId), resource, raw, JSON.stringify(next), record.gateway, this.d.gatewayId);
    if (!got) return undefined;
    const [h, acked, win, rawItems, rooms] = got;
    const full = `${bare}/${resource}`;
    await this.d.redis.sadd(k.gatewaySessions(this.d.gatewayId), full);
    if (record.gateway !== this.d.gatewayId) {
      await this.d.redis.srem(k.gatewaySessions(record.gateway), full);
      await this.d.router.kick(full, record, CLAIMED);
    }
    await this.d.redis.zrem(k.smExpiring(), member(bare, smId, resource));
    const items: StoredItem[] = [];
    for (const r of rawItems) {
      const item = parseItem(r);
      if (item) items.push(item);
    }
    return { record: next, holder: record.gateway, inbound: Number(h) % 2 ** 32, acked: Number(acked) % 2 ** 32, windowSec: Number(win), items, rooms };
  }

  /** Ends every orphan whose window is over (any live gateway, every heartbeat). */
  async sweep(): Promise<number> {
    const k = this.d.keys;
    const due = await this.d.redis.zrangebyscore(k.smExpiring(), '-inf', String(this.d.now()), 'LIMIT', 0, SWEEP_BATCH);
    let ended = 0;
    for (const m of due) {
      let bare: string, smId: string, resource: string;
      try {
        [bare, smId, resource] = JSON.parse(m) as [string, string, string];
      } catch {
        await this.d.redis.zrem(k.smExpiring(), m);
        continue;
      }
      try {
        if (await this.end(bare, smId, resource)) ended += 1;
      } catch (err) {
        this.d.log.warn({ err, bare }, 'ending an orphaned XEP-0198 session failed; retried at the next sweep');
        continue;
      }
      await this.d.redis.zrem(k.smExpiring(), m);
    }
    return ended;
  }

  /** One orphan's window is over: a logout (see the class comment). False when it was claimed or ended already. */
  private async end(bare: string, smId: string, resource: string): Promise<boolean> {
    const k = this.d.keys;
    const got = await this.d.redis.smEnd(k.userSessions(bare), k.smState(bare, smId), k.smQueue(bare, smId), k.smRooms(bare, smId), resource);
    if (!got) return false;
    const [raw, holder, sessionId, items, rooms] = got;
    const full = `${bare}/${resource}`;
    const record = parseSessionRecord(raw);
    if (holder) {
      await this.d.redis.srem(k.gatewaySessions(holder), full);
      await this.d.router.kick(full, { gateway: holder, sessionId, available: false, priority: 0, since: 0, transport: 'tcp' }, CLAIMED);
    }
    this.d.log.info({ full, queued: items.length }, 'resumption window of an orphaned session over; ending it');
    // XEP-0045 §7.14: the rooms remove the occupant (first: an error bounced for a queued groupchat message finds it gone).
    await this.d.router.sessionEnded(full, sessionId, rooms);
    // RFC 6121 §8.5.3.2: what it did not get goes to other resources or offline storage, with its time (XEP-0203).
    const domain = bare.slice(bare.indexOf('@') + 1);
    for (const rawItem of items) {
      const item = parseItem(rawItem);
      if (!item) continue;
      try {
        const el = parseOwnElement(item.x, NS.CLIENT);
        if (el.attrs.to === undefined) continue;
        if (el.name === 'message' && !el.getChild('delay', DELAY_NS)) el.c('delay', { xmlns: DELAY_NS, from: domain, stamp: new Date(item.t).toISOString() }).up();
        await this.d.router.route(el, 1);
      } catch (err) {
        this.d.log.warn({ err }, 're-routing a stanza of an orphaned session failed');
      }
    }
    if (record) {
      if (record.available) {
        await this.d.router.broadcastToOwnResources(bare, new Element('presence', { from: full, to: bare, type: 'unavailable' }), full);
      }
      await this.d.presence?.sessionGone(full, record).catch((err: unknown) => this.d.log.warn({ err }, 'unavailable presence of an ended orphan failed'));
      await this.d.lastActivity?.record(bare, this.d.now(), '').catch(() => undefined);
    }
    return true;
  }
}
