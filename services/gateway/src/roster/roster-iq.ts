import { Element } from 'ltx';
import { NS_ROSTER, parseRosterSet, rosterIsCurrent, rosterQuery, sendsPresenceTo, receivesPresenceFrom, type RosterBounds } from '@parley/roster';
import type { IqAnswer, IqHandler, IqHandlers } from '../server/iq-handlers.js';
import type { LocalSessions } from '../routing/local-sessions.js';
import type { Router } from '../routing/router.js';
import type { SessionRegistry } from '../routing/session-registry.js';
import type { PresenceService } from './presence.js';
import { RosterFullError, type RosterStore } from './roster-store.js';

export interface RosterIqDeps {
  roster: RosterStore;
  presence: PresenceService;
  router: Router;
  registry: SessionRegistry;
  local: LocalSessions;
  bounds: RosterBounds;
}

/**
 * Registers the `jabber:iq:roster` get and set handlers (RFC 6121 §2.1–§2.5) on the
 * accounts' bare JIDs. Only the account itself may use them: a request addressed to another
 * account's bare JID gets `forbidden` (RFC 6121 §2.1.5: "MUST NOT ... from an entity other
 * than the user"; Prosody answers `service-unavailable` there). Errors:
 * - get: none; the result carries `ver` (RFC 6121 §2.6), and a request whose `ver` is the
 *   current version gets an empty result (§2.6.3; Prosody does both the same way);
 * - set: `bad-request` / `not-acceptable` / `not-allowed` from {@link parseRosterSet},
 *   `item-not-found` for removing an unknown item (§2.5.3), `resource-constraint` when the
 *   roster holds `limits.maxRosterItems` items (§2.3.3 lets a server bound it).
 */
export function registerRosterHandlers(iq: IqHandlers, d: RosterIqDeps): void {
  const get: IqHandler = async (query, ctx): Promise<IqAnswer> => {
    if (!ctx.self) return { error: 'forbidden', text: 'only the account itself may read its roster' };
    // §2.1.6: from now on this resource is "interested" and gets roster pushes (the flag is
    // in the session registry, so gateways holding the account's other sessions see it).
    await d.local.get(ctx.from.toString())?.updateRecord({ interested: true });
    const owner = ctx.to.bare().toString();
    const { items, ver } = await d.roster.roster(owner);
    if (rosterIsCurrent(query.attrs.ver, ver)) return {};
    return { payload: rosterQuery(items, ver) };
  };

  const set: IqHandler = async (query, ctx): Promise<IqAnswer> => {
    if (!ctx.self) return { error: 'forbidden', text: 'only the account itself may change its roster' };
    const owner = ctx.to.bare().toString();
    const parsed = parseRosterSet(query, owner, d.bounds);
    if ('error' in parsed) return parsed;
    if (parsed.kind === 'update') {
      try {
        const u = await d.roster.update(owner, parsed.jid, (cur) => ({
          item: {
            ...(cur.item ?? { jid: parsed.jid, subscription: 'none' as const, ask: false, approved: false }),
            groups: parsed.groups,
            ...(parsed.name === undefined ? { name: undefined } : { name: parsed.name }),
          },
          pending: 'keep',
        }));
        // §2.3.2: pushed to every interested resource, the one that sent the set included
        // (after the result, like Prosody).
        return { afterReply: () => d.presence.push(owner, u.after.item!, u.ver) };
      } catch (err) {
        if (err instanceof RosterFullError) return { error: 'resource-constraint', text: err.message };
        throw err;
      }
    }
    // §2.5: removal. Unknown item: item-not-found (§2.5.3).
    const u = await d.roster.update(owner, parsed.jid, () => ({ item: undefined, pending: 'clear' }));
    const before = u.before;
    if (!before.item && before.pending === undefined) return { error: 'item-not-found', type: 'modify' }; // type as in §2.5.3 (and Prosody)
    const sub = before.item?.subscription ?? 'none';
    // §2.5.2: cancel both subscriptions: `unsubscribed` where the contact was subscribed or
    // asked, with unavailable presence from each of the user's available resources where it
    // received presence, and `unsubscribe` where the user was subscribed or asked (Prosody's
    // order); then the result and the push.
    if (sendsPresenceTo(sub) || before.pending !== undefined) {
      await d.router.route(new Element('presence', { from: owner, to: parsed.jid, type: 'unsubscribed' }));
    }
    if (sendsPresenceTo(sub)) {
      for (const s of (await d.registry.sessionsOf(owner)).filter((x) => x.record.available)) {
        await d.router.route(new Element('presence', { from: `${owner}/${s.resource}`, to: parsed.jid, type: 'unavailable' }));
      }
    }
    if (receivesPresenceFrom(sub) || before.item?.ask) {
      await d.router.route(new Element('presence', { from: owner, to: parsed.jid, type: 'unsubscribe' }));
    }
    if (!before.item) return {};
    return { afterReply: () => d.presence.push(owner, { jid: parsed.jid, subscription: 'remove' }, u.ver) };
  };

  iq.on('get', NS_ROSTER, 'query', ['account'], get).on('set', NS_ROSTER, 'query', ['account'], set).feature(NS_ROSTER, ['account']);
}

