import { randomBytes } from 'node:crypto';
import { clone, Element } from 'ltx';
import type { Logger } from 'pino';
import type { KeySpace, SessionRecord } from '@parley/bus';
import type { Config } from '@parley/config';
import { tryParseJid, type Jid } from '@parley/jid';
import {
  inbound,
  isSubscriptionType,
  outbound,
  receivesPresenceFrom,
  rosterPush,
  sendsPresenceTo,
  stateOf,
  withState,
  worthKeeping,
  type InboundResult,
  type OutboundResult,
  type RosterItem,
  type SubscriptionType,
} from '@parley/roster';
import type { StanzaErrorCondition } from '@parley/stanza';
import { NS, parseOwnElement, serialize } from '@parley/xml';
import type { ScriptedRedis } from '../routing/scripts.js';
import type { Router } from '../routing/router.js';
import type { SessionRegistry } from '../routing/session-registry.js';
import { RosterFullError, type RosterStore } from './roster-store.js';

export interface PresenceDeps {
  config: Config;
  redis: ScriptedRedis;
  keys: KeySpace;
  registry: SessionRegistry;
  roster: RosterStore;
  router: Router;
  log: Logger;
  /** Current time in ms since epoch. */
  now: () => number;
}

const newId = () => randomBytes(9).toString('base64url');

/** KEYS[1] the key to set, KEYS[2] the account hash; ARGV[1] the value: set only while the account exists. */
const SET_IF_ACCOUNT = `if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('SET', KEYS[1], ARGV[1]) end return 0`;

/**
 * Presence with rosters (RFC 6121 §3, §4) for accounts of this cluster: subscription
 * stanzas applied to both rosters (Appendix A; the contact's roster is in Redis too, so the
 * sender's gateway handles both sides), roster pushes (§2.1.6) to interested resources,
 * presence broadcast to contacts, probes and their answers, directed presence and
 * unavailable presence when a session ends or its gateway dies. Holds no state: everything
 * is read from the roster store and the session registry.
 */
export class PresenceService {
  constructor(private readonly d: PresenceDeps) {}

  /** Whether the domain is one this cluster serves (no server-to-server yet: others are unreachable). */
  private served(jid: string): boolean {
    const j = tryParseJid(jid);
    return j !== undefined && (this.d.config.hosts.includes(j.domain) || j.domain === this.d.config.mucDomain);
  }

  /**
   * Roster push (RFC 6121 §2.1.6): the changed item, with the roster version (§2.6.3), to
   * every interested resource of `owner` (one that asked for the roster, on any gateway).
   */
  async push(owner: string, item: RosterItem | { jid: string; subscription: 'remove' }, ver: string): Promise<void> {
    const sessions = await this.d.registry.sessionsOf(owner);
    await Promise.all(
      sessions
        .filter((s) => s.record.interested)
        .map((s) => {
          const iq = rosterPush(item, ver, newId());
          iq.attrs.to = `${owner}/${s.resource}`;
          return this.d.router.deliverToSession(iq.attrs.to, s.record, iq);
        }),
    );
  }

  /**
   * A subscription stanza (`subscribe`, `subscribed`, `unsubscribe`, `unsubscribed`) sent
   * by a local session (RFC 6121 §3.1.2, §3.2.2, §3.3.2, §3.4.1): stamped with the user's
   * bare JID (and addressed to the contact's bare JID), applied to the user's roster
   * (Appendix A.2), pushed, then routed to the contact when the table says so.
   * @returns a stanza error condition for the sender (`resource-constraint` when the roster
   *   is full), or undefined
   */
  async outboundSubscription(from: Jid, stanza: Element): Promise<StanzaErrorCondition | undefined> {
    const type = stanza.attrs.type as SubscriptionType;
    const user = from.bare().toString();
    const to = tryParseJid(stanza.attrs.to ?? '');
    if (!to) return 'jid-malformed';
    const contact = to.bare().toString();
    if (contact === user) return undefined; // no subscription to oneself (like Prosody)
    stanza.attrs.from = user;
    stanza.attrs.to = contact;
    let result: OutboundResult | undefined;
    let updated;
    try {
      updated = await this.d.roster.update(user, contact, (cur) => {
        const r = outbound(stateOf(cur.item, cur.pending !== undefined), type);
        result = r;
        const keep = cur.item !== undefined || worthKeeping(r.state);
        return { item: keep ? withState(cur.item, contact, r.state) : undefined, pending: r.state.pendingIn ? 'keep' : 'clear' };
      });
    } catch (err) {
      if (err instanceof RosterFullError) return 'resource-constraint';
      throw err;
    }
    if (updated.itemChanged && updated.after.item) await this.push(user, updated.after.item, updated.ver);
    if (!result!.route) return undefined;
    await this.d.router.route(stanza, 0, 'client');
    if (result!.sendPresence === 'available') await this.sendCurrentPresence(user, contact, false);
    else if (result!.sendPresence === 'unavailable') await this.sendUnavailableOfResources(user, contact);
    return undefined;
  }

  /**
   * A probe or subscription stanza that arrived for the local account `to` (RFC 6121
   * §3.1.3, §3.1.6, §3.2.3, §3.3.3, §4.3.2), from anywhere: applied to the account's roster
   * (Appendix A.3), pushed, delivered as the table says, auto-answered when the sender is
   * subscribed or pre-approved already.
   */
  async inbound(stanza: Element, to: Jid): Promise<void> {
    const from = tryParseJid(stanza.attrs.from ?? '');
    if (!from) return;
    const owner = to.bare().toString();
    const sender = from.bare().toString();
    const type = stanza.attrs.type;
    if (type === 'probe') return this.answerProbe(owner, from);
    if (!isSubscriptionType(type) || sender === owner) return;
    stanza.attrs.from = sender;
    stanza.attrs.to = owner;
    let result: InboundResult | undefined;
    let updated;
    try {
      updated = await this.d.roster.update(owner, sender, (cur) => {
        const r = inbound(stateOf(cur.item, cur.pending !== undefined), type);
        result = r;
        const keep = cur.item !== undefined || worthKeeping(r.state);
        // §3.1.3: the request is kept whole (extensions included) until answered.
        const pending = r.state.pendingIn ? (cur.pending !== undefined ? 'keep' : serialize(stanza)) : 'clear';
        return { item: keep ? withState(cur.item, sender, r.state) : undefined, pending };
      });
    } catch (err) {
      // Too many unanswered requests (bounded like the roster): refused.
      if (err instanceof RosterFullError) return this.d.router.bounce(stanza, 'resource-constraint');
      throw err;
    }
    const r = result!;
    if (r.autoReply) {
      if (updated.itemChanged && updated.after.item) await this.push(owner, updated.after.item, updated.ver);
      const wasSubscribed = updated.before.item !== undefined && sendsPresenceTo(updated.before.item.subscription);
      await this.d.router.route(new Element('presence', { from: owner, to: sender, type: 'subscribed' }));
      await this.sendCurrentPresence(owner, sender, wasSubscribed);
      return;
    }
    if (r.deliver) {
      // §3.1.3: a request goes to every available resource (and is kept for the next ones);
      // the other three go to the interested resources (§3.1.6, §3.2.3, §3.3.3).
      const sessions = await this.d.registry.sessionsOf(owner);
      const targets = sessions.filter((s) => (type === 'subscribe' ? s.record.available : s.record.interested));
      await Promise.all(targets.map((s) => this.d.router.deliverToSession(`${owner}/${s.resource}`, s.record, stanza)));
    }
    // Then the push (Prosody's order: the stanza first).
    if (updated.itemChanged && updated.after.item) await this.push(owner, updated.after.item, updated.ver);
  }

  /**
   * RFC 6121 §4.3.2: answers a probe for `owner` from `from`. A subscriber (`from`/`both`)
   * gets the last presence of each available resource, or, with none available, the
   * account's last unavailable presence (from the bare JID, with a XEP-0203 delay stamp) or a
   * bare unavailable; anyone else gets `unsubscribed` (like Prosody).
   */
  private async answerProbe(owner: string, from: Jid): Promise<void> {
    const prober = from.bare().toString();
    if (prober === owner) return;
    const sub = await this.d.roster.subscriptionOf(owner, prober);
    if (!sendsPresenceTo(sub)) {
      await this.d.router.route(new Element('presence', { from: owner, to: prober, type: 'unsubscribed' }));
      return;
    }
    const sent = await this.sendCurrentPresence(owner, from.toString(), false);
    if (sent > 0) return;
    await this.d.router.route(await this.lastUnavailable(owner, from.toString()));
  }

  /** The account's stored last unavailable presence (§4.3.2), addressed to `to`; a bare unavailable when none is stored. */
  private async lastUnavailable(owner: string, to: string): Promise<Element> {
    const raw = await this.d.redis.get(this.d.keys.lastUnavailable(owner));
    const nl = raw?.indexOf('\n') ?? -1;
    if (raw && nl > 0) {
      try {
        const el = parseOwnElement(raw.slice(nl + 1), NS.CLIENT);
        el.attrs.from = owner;
        el.attrs.to = to;
        el.c('delay', { xmlns: NS.DELAY, from: owner, stamp: new Date(Number(raw.slice(0, nl))).toISOString() }).up();
        return el;
      } catch {
        // Written by us: fall through to a bare unavailable.
      }
    }
    return new Element('presence', { from: owner, to, type: 'unavailable' });
  }

  /**
   * Sends `to` the last available presence of each available resource of `owner` (from
   * their full JIDs), but for the resource `except`. With none and `unavailableIfNone`, a
   * bare unavailable from `owner`.
   * @returns how many presences were sent
   */
  private async sendCurrentPresence(owner: string, to: string, unavailableIfNone: boolean, except?: string): Promise<number> {
    const sessions = (await this.d.registry.sessionsOf(owner)).filter((s) => s.record.available && s.record.presence && s.resource !== except);
    let sent = 0;
    for (const s of sessions) {
      let el: Element;
      try {
        el = parseOwnElement(s.record.presence!, NS.CLIENT);
      } catch {
        continue;
      }
      el.attrs.from = `${owner}/${s.resource}`;
      el.attrs.to = to;
      await this.d.router.route(el);
      sent += 1;
    }
    if (sent === 0 && unavailableIfNone) await this.d.router.route(new Element('presence', { from: owner, to, type: 'unavailable' }));
    return sent;
  }

  /** §3.2.2: after cancelling a contact's subscription, unavailable presence from each available resource. */
  private async sendUnavailableOfResources(owner: string, to: string): Promise<void> {
    const sessions = (await this.d.registry.sessionsOf(owner)).filter((s) => s.record.available);
    for (const s of sessions) await this.d.router.route(new Element('presence', { from: `${owner}/${s.resource}`, to, type: 'unavailable' }));
  }

  /**
   * RFC 6121 §4.2: initial presence of the local session `full`. The presence of the
   * account's other available resources to this one, a broadcast to every contact with
   * `from`/`both` (§4.2.2), probes from the session's full JID to every contact with
   * `to`/`both` (§4.2.1; from the full JID like Prosody, so only this resource gets the
   * answers), then the unanswered subscription requests to this session (§3.1.3).
   * @param deliver - writes a stanza to the session itself
   */
  async initialPresence(full: Jid, presence: Element, deliver: (el: Element) => void): Promise<void> {
    const owner = full.bare().toString();
    // An account is subscribed to itself (§4.2.2): the new resource gets the presence of the
    // account's other available resources, as in Prosody. The caller stored this session as
    // available and broadcast its presence to them first, so that of two resources becoming
    // available at once (on two gateways) each learns of the other at least once: from the
    // other's broadcast, or from here.
    await this.sendCurrentPresence(owner, full.toString(), false, full.resource);
    const { items } = await this.d.roster.roster(owner);
    await this.broadcastTo(items.filter((i) => sendsPresenceTo(i.subscription)).map((i) => i.jid), full, presence);
    for (const item of items) {
      if (!receivesPresenceFrom(item.subscription) || !this.served(item.jid)) continue;
      await this.d.router.route(new Element('presence', { type: 'probe', from: full.toString(), to: item.jid }));
    }
    for (const xml of await this.d.roster.pendingRequests(owner)) {
      try {
        deliver(parseOwnElement(xml, NS.CLIENT));
      } catch {
        // Written by us; an entry that no longer parses is skipped.
      }
    }
  }

  /** RFC 6121 §4.4.2: a presence update goes to the contacts with `from`/`both`. */
  async update(full: Jid, presence: Element): Promise<void> {
    const { items } = await this.d.roster.roster(full.bare().toString());
    await this.broadcastTo(items.filter((i) => sendsPresenceTo(i.subscription)).map((i) => i.jid), full, presence);
  }

  /**
   * RFC 6121 §4.5.2, §4.6.3: a session that was available became unavailable (explicitly,
   * by disconnecting, or because its gateway died): its unavailable presence goes to the
   * contacts with `from`/`both` and to every JID it sent directed presence to; the account's
   * last unavailable presence is stored for probes (§4.3.2).
   * @param directed - the session's directed-presence targets ({@link SessionRecord.directed})
   */
  async unavailable(full: Jid, presence: Element, directed: readonly string[], wasAvailable = true): Promise<void> {
    const owner = full.bare().toString();
    const targets = new Set<string>();
    if (wasAvailable) {
      const { items } = await this.d.roster.roster(owner);
      for (const i of items) if (sendsPresenceTo(i.subscription)) targets.add(i.jid);
      const stored = clone(presence);
      delete stored.attrs.to;
      // Only while the account exists (same slot): the sessions of a removed account end
      // after its keys were deleted and must not leave this behind.
      await this.d.redis.eval(SET_IF_ACCOUNT, 2, this.d.keys.lastUnavailable(owner), this.d.keys.account(owner), `${this.d.now()}\n${serialize(stored)}`);
    }
    for (const j of directed) targets.add(j);
    await this.broadcastTo([...targets], full, presence);
  }

  /**
   * A session ended without saying unavailable (disconnect, or its gateway died, called by
   * the reaper): {@link unavailable} on its behalf, from its full JID.
   */
  async sessionGone(full: string, record: SessionRecord): Promise<void> {
    if (!record.available && !record.directed?.length) return;
    const jid = tryParseJid(full);
    if (!jid) return;
    await this.unavailable(jid, new Element('presence', { type: 'unavailable' }), record.directed ?? [], record.available);
  }

  /** Whether `contact` gets `owner`'s presence broadcasts (`from`/`both`, RFC 6121 §4.2.2), so directed presence to it needs no tracking. */
  async getsBroadcasts(owner: string, contact: string): Promise<boolean> {
    return sendsPresenceTo(await this.d.roster.subscriptionOf(owner, contact));
  }

  private async broadcastTo(targets: readonly string[], full: Jid, presence: Element): Promise<void> {
    const from = full.toString();
    await Promise.all(
      targets
        .filter((t) => this.served(t))
        .map((t) => {
          const copy = clone(presence);
          copy.attrs.from = from;
          copy.attrs.to = t;
          return this.d.router.route(copy);
        }),
    );
  }
}
