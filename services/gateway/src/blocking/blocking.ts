import { randomBytes } from 'node:crypto';
import { clone, Element } from 'ltx';
import type { Logger } from 'pino';
import type { SessionRecord } from '@parley/bus';
import { tryParseJid, type Jid } from '@parley/jid';
import { errorReply } from '@parley/stanza';
import { NS, parseOwnElement } from '@parley/xml';
import type { IqAnswer, IqHandler, IqHandlers } from '../server/iq-handlers.js';
import type { LocalSessions } from '../routing/local-sessions.js';
import type { SessionRegistry } from '../routing/session-registry.js';
import type { BlocklistCache } from './blocklist-cache.js';
import type { BlocklistStore } from './blocklist-store.js';
import { isBlockedBy, NS_BLOCKING, NS_BLOCKING_ERRORS, readItems } from './jid-match.js';

/** What blocking needs of the router: routing replies and delivering to one registered session. */
export interface BlockingRouter {
  bounce(stanza: Element, condition: 'service-unavailable'): Promise<void>;
  deliverToSession(fullJid: string, record: SessionRecord, stanza: Element): Promise<void>;
}

export interface BlockingDeps {
  store: BlocklistStore;
  registry: SessionRegistry;
  local: LocalSessions;
  /** The domains served here: only their accounts have blocklists. */
  hosts: readonly string[];
  /** Whether `contact` may receive `owner`'s presence (bare JIDs; RFC 6121: subscription `from` or `both`). */
  maySee: (owner: string, contact: string) => Promise<boolean>;
  /** Resolved at call time (the router is built after this module). */
  router: () => BlockingRouter;
  log: Logger;
  /** This gateway's copies of blocklists, for filtering room deliveries; told of every change. */
  cache?: BlocklistCache;
  /** This gateway's id, and how to tell another gateway that `owner`'s list changed (a `blocklist` envelope). */
  gatewayId?: string;
  notifyGateway?: (gatewayId: string, owner: string) => Promise<void>;
}

/**
 * XEP-0191 Blocking Command: the blocklist iq handlers (§3.2–§3.5) with pushes to every
 * resource that asked for the list, and the routing checks (§3.3): stanzas from a blocked
 * JID are dropped or refused, stanzas to one are answered with `not-acceptable` +
 * `<blocked xmlns='urn:xmpp:blocking:errors'/>`. The list lives in Redis
 * ({@link BlocklistStore}); whether a session asked for it is kept in its registry record,
 * so a change on one gateway reaches resources on every gateway. What rooms deliver does
 * not pass through the router: the delivery consumer filters it against each gateway's
 * {@link BlocklistCache}, which every change here invalidates (`changed`).
 */
export class Blocking {
  constructor(private readonly d: BlockingDeps) {}

  /** Registers the blocklist handlers (answered at the account, §3.2–§3.5) and the `urn:xmpp:blocking` feature. */
  register(iq: IqHandlers): void {
    // §3.1 has clients look for the feature at their server; we answer at the account (an iq
    // without `to`), so it is listed there too. Prosody 0.12 lists it at the server only.
    iq.feature(NS_BLOCKING, ['server', 'account'])
      .on('get', NS_BLOCKING, 'blocklist', ['account'], this.getList)
      .on('set', NS_BLOCKING, 'block', ['account'], this.block)
      .on('set', NS_BLOCKING, 'unblock', ['account'], this.unblock);
  }

  /** §3.2: the list; the requesting session gets pushes from now on. Others' lists: service-unavailable. */
  private readonly getList: IqHandler = async (_query, ctx): Promise<IqAnswer> => {
    if (!ctx.self) return { error: 'service-unavailable' };
    const owner = ctx.to.toString();
    const [jids] = await Promise.all([this.d.store.list(owner), this.d.local.get(ctx.from.toString())?.updateRecord({ blocklist: true })]);
    const list = new Element('blocklist', { xmlns: NS_BLOCKING });
    for (const jid of jids) list.c('item', { jid }).up();
    return { payload: list };
  };

  /**
   * §3.3: blocks one or more JIDs. No item: `bad-request`; an invalid JID: `jid-malformed`;
   * past `limits.maxBlocklistItems`: `policy-violation` (nothing changes). After the result:
   * a push to every resource that asked for the list, then unavailable presence to each newly
   * blocked JID that receives the user's presence (subscription `from` or `both`).
   */
  private readonly block: IqHandler = async (query, ctx): Promise<IqAnswer> => {
    if (!ctx.self) return { error: 'service-unavailable' };
    const read = readItems(query, this.d.store.maxItems);
    if ('error' in read) return read;
    if (read.jids.length === 0) return { error: 'bad-request', text: 'block at least one item' };
    const owner = ctx.to.toString();
    const added = await this.d.store.add(owner, read.jids);
    if (added === 'full') return { error: 'policy-violation', text: `the blocklist holds at most ${this.d.store.maxItems} items` };
    if (added.length > 0) await this.changed(owner);
    return {
      afterReply: async () => {
        await this.push(owner, 'block', read.jids);
        await this.presenceOnChange(owner, added, 'block');
      },
    };
  };

  /** §3.4 (named items) and §3.5 (no item: unblock all); pushes, then current presence to the unblocked JIDs. */
  private readonly unblock: IqHandler = async (query, ctx): Promise<IqAnswer> => {
    if (!ctx.self) return { error: 'service-unavailable' };
    const read = readItems(query, this.d.store.maxItems);
    if ('error' in read) return read;
    const owner = ctx.to.toString();
    const removed = read.jids.length === 0 ? await this.d.store.clear(owner) : await this.d.store.remove(owner, read.jids);
    if (removed.length > 0) await this.changed(owner);
    return {
      afterReply: async () => {
        await this.push(owner, 'unblock', read.jids);
        await this.presenceOnChange(owner, removed, 'unblock');
      },
    };
  };

  /**
   * `owner`'s list changed: before the iq result, this gateway's cached copy is dropped and
   * every other gateway holding a session of `owner` is told to drop its own (whether or not
   * those sessions asked for the list), so room deliveries are filtered by the new list.
   */
  private async changed(owner: string): Promise<void> {
    this.d.cache?.invalidate(owner);
    if (!this.d.notifyGateway) return;
    const gateways = new Set((await this.d.registry.sessionsOf(owner)).map((s) => s.record.gateway));
    gateways.delete(this.d.gatewayId ?? '');
    await Promise.all([...gateways].map((g) => this.d.notifyGateway!(g, owner)));
  }

  /** §3.3/§3.4/§3.5: an iq set with the change to every resource of `owner` that asked for the blocklist. */
  private async push(owner: string, kind: 'block' | 'unblock', jids: readonly string[]): Promise<void> {
    const sessions = await this.d.registry.sessionsOf(owner);
    await Promise.all(
      sessions
        .filter((s) => s.record.blocklist)
        .map((s) => {
          const full = `${owner}/${s.resource}`;
          const push = new Element('iq', { type: 'set', id: `blocklist-push-${randomBytes(6).toString('base64url')}`, to: full });
          const change = push.c(kind, { xmlns: NS_BLOCKING });
          for (const jid of jids) change.c('item', { jid }).up();
          return this.d.router().deliverToSession(full, s.record, push);
        }),
    );
  }

  /**
   * §3.3: on block, unavailable presence from each available resource to each newly blocked
   * JID; §3.4: on unblock, each available resource's current presence. Only to JIDs that may
   * receive the user's presence (RFC 6121: subscription `from` or `both`) and are accounts here
   * (no server-to-server yet); a JID that blocks the user in turn gets nothing.
   */
  private async presenceOnChange(owner: string, jids: readonly string[], kind: 'block' | 'unblock'): Promise<void> {
    if (jids.length === 0) return;
    const local = jids.map((raw) => tryParseJid(raw)).filter((j): j is Jid => j !== undefined && j.local !== undefined && this.d.hosts.includes(j.domain));
    const sees = await Promise.all(local.map((j) => this.d.maySee(owner, j.bare().toString())));
    const targets = local.filter((_, i) => sees[i]);
    if (targets.length === 0) return;
    const mine = (await this.d.registry.sessionsOf(owner)).filter((s) => s.record.available);
    await Promise.all(
      targets.map(async (target) => {
        for (const s of mine) {
          const from = `${owner}/${s.resource}`;
          const fromJid = tryParseJid(from);
          if (!fromJid || (await this.d.store.blocks(target.bare().toString(), fromJid))) continue;
          const presence = kind === 'block' ? new Element('presence', { type: 'unavailable' }) : this.currentPresence(s.record);
          presence.attrs.from = from;
          presence.attrs.to = target.toString();
          await this.deliverPresence(target, presence);
        }
      }),
    );
  }

  /** The session's last available presence (kept in its record by the presence module), or a bare `<presence/>`. */
  private currentPresence(record: SessionRecord): Element {
    if (record.presence) {
      try {
        const el = clone(parseOwnElement(record.presence, NS.CLIENT));
        delete el.attrs.xmlns;
        return el;
      } catch (err) {
        this.d.log.warn({ err }, 'stored presence unreadable');
      }
    }
    return new Element('presence');
  }

  /** Presence to a local JID: every available resource of a bare JID (RFC 6121 §8.5.2.1.2), or that one resource. */
  private async deliverPresence(target: Jid, presence: Element): Promise<void> {
    const bare = target.bare().toString();
    const sessions = await this.d.registry.sessionsOf(bare);
    await Promise.all(
      sessions
        .filter((s) => s.record.available && (target.resource === undefined || s.resource === target.resource))
        .map((s) => this.d.router().deliverToSession(`${bare}/${s.resource}`, s.record, clone(presence))),
    );
  }

  /**
   * The XEP-0191 §3.3 routing checks for one stanza entering routing (called once, at hops 0).
   * Outbound, from a client to a JID its account blocks: errors and iq results are dropped,
   * anything else is answered `not-acceptable` (cancel) with `<blocked/>`. Server-generated
   * presence from an account (broadcasts, probe answers) to a JID it blocks is dropped.
   * Inbound, to an account that blocks the sender: presence dropped; chat and normal
   * messages answered `service-unavailable`, other messages dropped; iq get/set answered
   * `service-unavailable`, other iqs dropped. Between resources of one account nothing is
   * blocked (XEP-0191 §5).
   * @param fromClient - the stanza was sent by a client session of ours (not made by the server)
   * @returns true when the stanza must not be routed (it was answered or dropped here)
   */
  async refuses(stanza: Element, to: Jid, fromClient: boolean): Promise<boolean> {
    const from = tryParseJid(stanza.attrs.from ?? '');
    if (!from) return false;
    const fromBare = from.bare();
    if (to.local !== undefined && fromBare.equals(to.bare())) return false;
    const fromAccount = from.local !== undefined && this.d.hosts.includes(from.domain);
    const toAccount = to.local !== undefined && this.d.hosts.includes(to.domain);
    const type = stanza.attrs.type;
    const outboundChecked = fromAccount && (fromClient || (stanza.name === 'presence' && type !== 'error'));
    const [outbound, inbound] = await Promise.all([
      outboundChecked ? this.blocks(fromBare.toString(), to, fromClient) : false,
      toAccount ? this.blocks(to.bare().toString(), from, false) : false,
    ]);
    if (outbound) {
      if (!fromClient || type === 'error' || (stanza.name === 'iq' && type === 'result')) return true;
      this.refuseOutbound(stanza);
      return true;
    }
    if (!inbound) return false;
    // The user appears offline to the blocked JID. Prosody 0.12 drops (does not bounce) a
    // message to a *full* JID that is online (its issue #690): that tells a blocked sender
    // which resources are online, so we answer every chat/normal message alike, as §3.3 says.
    const bounce =
      (stanza.name === 'message' && (type === undefined || type === 'normal' || type === 'chat')) ||
      (stanza.name === 'iq' && (type === 'get' || type === 'set'));
    if (bounce) await this.d.router().bounce(stanza, 'service-unavailable');
    return true;
  }

  /**
   * Whether `owner` blocks `jid`. The gateway's {@link BlocklistCache} answers without a Redis
   * round trip when `owner` has a session here (`ownerIsLocal`: the sender of a client stanza;
   * or a list already cached, which the cache keeps only while the account has sessions here,
   * invalidated by every change): so a client's groupchat flood costs no Redis read here.
   */
  private async blocks(owner: string, jid: Jid, ownerIsLocal: boolean): Promise<boolean> {
    const cache = this.d.cache;
    const cached = cache?.peek(owner);
    if (cached) return isBlockedBy(cached, jid);
    if (cache && ownerIsLocal) return isBlockedBy(await cache.get(owner), jid);
    return this.d.store.blocks(owner, jid);
  }

  /** §3.3 example: `not-acceptable` (cancel) + `<blocked xmlns='urn:xmpp:blocking:errors'/>`, straight to the local sender. */
  private refuseOutbound(stanza: Element): void {
    const reply = errorReply(stanza, 'not-acceptable', { type: 'cancel' });
    const session = this.d.local.get(stanza.attrs.from ?? '');
    if (!reply || !session) return;
    reply.getChild('error')?.c('blocked', { xmlns: NS_BLOCKING_ERRORS });
    session.deliver(reply);
  }
}
