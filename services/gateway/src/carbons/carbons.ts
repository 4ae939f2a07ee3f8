import type { Element } from 'ltx';
import type { SessionRecord } from '@parley/bus';
import type { Jid } from '@parley/jid';
import type { IqAnswer, IqHandler, IqHandlers } from '../server/iq-handlers.js';
import type { LocalSessions } from '../routing/local-sessions.js';
import type { RegisteredSession, SessionRegistry } from '../routing/session-registry.js';
import { carbonEligible, isCarbonCopy, NS_CARBONS, wrapCarbon } from './eligibility.js';

export interface CarbonsDeps {
  registry: SessionRegistry;
  local: LocalSessions;
  /** The domains served here: only their accounts get copies. */
  hosts: readonly string[];
  /** Resolved at call time (the router is built after this module). */
  router: () => { deliverToSession(fullJid: string, record: SessionRecord, stanza: Element): Promise<void> };
}

/**
 * XEP-0280 Message Carbons: enable/disable per session (§4, §5; the flag is kept in the
 * session's registry record, so every gateway sees it) and the copies: `received` (§7) of a
 * message delivered to some resources of a user to its other enabled resources, `sent` (§8)
 * of a message one resource sends to the user's other enabled resources, whatever gateway
 * each is on. Which messages are copied: {@link carbonEligible} (§6.1, §9).
 */
export class Carbons {
  constructor(private readonly d: CarbonsDeps) {}

  /**
   * Registers enable/disable (answered for the requester's own account: an iq without `to`
   * or to its bare JID; anyone else's gets `service-unavailable`, as in Prosody 0.12) and the
   * `urn:xmpp:carbons:2` feature on the server (§3: clients ask their server). The
   * `urn:xmpp:carbons:rules:0` feature (§6.2) is not advertised: copies of what rooms deliver
   * directly (mediated invitations) are not made.
   */
  register(iq: IqHandlers): void {
    iq.feature(NS_CARBONS, ['server'])
      .on('set', NS_CARBONS, 'enable', ['account'], this.toggle(true))
      .on('set', NS_CARBONS, 'disable', ['account'], this.toggle(false));
  }

  /** §4/§5, §10.1: repeated enable or disable requests are answered with a result too. */
  private toggle(on: boolean): IqHandler {
    return async (_query, ctx): Promise<IqAnswer> => {
      if (!ctx.self) return { error: 'service-unavailable' };
      const session = this.d.local.get(ctx.from.toString());
      // The requester is a session of this gateway (it sent the iq); gone meanwhile: nothing to change.
      await session?.updateRecord({ carbons: on });
      return {};
    };
  }

  /**
   * §8: a message a client of ours sent goes, wrapped in `<sent/>`, to every other
   * Carbons-enabled resource of its account (whether or not the sender enabled Carbons).
   * @param from - the sender's full JID (stamped by its session)
   */
  async sent(stanza: Element, from: Jid): Promise<void> {
    if (from.local === undefined || !this.d.hosts.includes(from.domain) || !carbonEligible(stanza, 'sent')) return;
    const bare = from.bare().toString();
    const sessions = await this.d.registry.sessionsOf(bare);
    await this.copyTo(bare, sessions, from.resource === undefined ? [] : [from.resource], 'sent', stanza);
  }

  /**
   * §7: after a message to an account here was delivered under RFC 6121 §8.5 to
   * `deliveredTo` (resources; none when it went to offline storage), every other
   * Carbons-enabled resource of the account gets it wrapped in `<received/>`.
   * @param sessions - the account's registry entries when the caller has them (saves a read)
   */
  async received(stanza: Element, to: Jid, deliveredTo: readonly string[], sessions?: RegisteredSession[]): Promise<void> {
    if (to.local === undefined || !carbonEligible(stanza, 'received')) return;
    const bare = to.bare().toString();
    await this.copyTo(bare, sessions ?? (await this.d.registry.sessionsOf(bare)), deliveredTo, 'received', stanza);
  }

  /** §10.3: a copy whose session has gone is dropped, never re-routed or bounced to the original sender. */
  isCopy(stanza: Element, to: Jid): boolean {
    return isCarbonCopy(stanza, to.toString());
  }

  private async copyTo(bare: string, sessions: readonly RegisteredSession[], except: readonly string[], kind: 'sent' | 'received', stanza: Element): Promise<void> {
    const targets = sessions.filter((s) => s.record.carbons && !except.includes(s.resource));
    await Promise.all(
      targets.map((s) => {
        const full = `${bare}/${s.resource}`;
        return this.d.router().deliverToSession(full, s.record, wrapCarbon(kind, stanza, bare, full));
      }),
    );
  }
}
