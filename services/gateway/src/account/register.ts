// XEP-0077 in-band registration: account creation before authentication (off by default),
// password change and account removal after it.
import type { Redis } from 'ioredis';
import { Element } from 'ltx';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { AccountStore } from '@parley/accounts';
import type { KeySpace } from '@parley/bus';
import { tryParseJid, type Jid } from '@parley/jid';
import type { StanzaErrorCondition } from '@parley/stanza';
import type { IqAnswer, IqHandler, IqHandlers } from '../server/iq-handlers.js';

/** The jabber:iq:register namespace (XEP-0077 §3), also its disco#info feature. */
export const REGISTER_NS = 'jabber:iq:register';
/** The pre-authentication stream feature (XEP-0077 §4). */
export const REGISTER_FEATURE_NS = 'http://jabber.org/features/iq-register';

/** Settings (`register.*`, `jobs.tombstoneTtlMs`). */
export interface RegisterOptions {
  enabled: boolean;
  maxPerAddress: number;
  windowMs: number;
  maxPasswordBytes: number;
  /** How long a removed account's name stays refused (its tombstone). */
  tombstoneTtlMs: number;
}

/** A reply to a registration request: a result payload (or none), or a stanza error. */
export type RegisterAnswer = { payload?: Element } | { error: StanzaErrorCondition; text?: string };

/** The registration form of XEP-0077 §3.1 (username and password only). Pure. */
export function registrationForm(): Element {
  const q = new Element('query', { xmlns: REGISTER_NS });
  q.c('instructions').t('Choose a username and password for use with this service.').up();
  q.c('username').up();
  q.c('password').up();
  return q;
}

/** The §3.1 answer to an already registered entity: `<registered/>` and its username (as Prosody 0.12). Pure. */
export function registeredForm(account: Jid): Element {
  const q = new Element('query', { xmlns: REGISTER_NS });
  q.c('registered').up();
  q.c('username').t(account.local ?? '').up();
  q.c('password').up();
  return q;
}

/** True when `query` is a §3.2 cancellation: a `<remove/>` child. Pure. */
export function isRemove(query: Element): boolean {
  return query.getChild('remove') !== undefined;
}

/**
 * In-band registration for the gateways. Accounts are created through
 * {@link AccountStore} (SCRAM credentials derived as `xmppctl user add` does); removal
 * tombstones the name first (as the admin API's delete-user job does), then deletes the
 * account and what is stored with it.
 */
export class Registration {
  private readonly perAddress: RateLimiterRedis;

  /**
   * @param forget - deletes what other modules store for an account (vCard, private XML, ...)
   * @param route - routes a stanza from the server (the router's `route`), for the
   *   subscription cancellations of a removed account
   */
  constructor(
    redis: Redis,
    keys: KeySpace,
    private readonly accounts: AccountStore,
    private readonly opts: RegisterOptions,
    private readonly forget: (bareJid: string) => Promise<void>,
    private readonly route: (stanza: Element) => Promise<void>,
  ) {
    this.perAddress = new RateLimiterRedis({
      storeClient: redis,
      keyPrefix: keys.registrations(),
      points: opts.maxPerAddress,
      duration: Math.max(1, Math.ceil(opts.windowMs / 1000)),
    });
  }

  /** Whether the pre-authentication feature and requests are offered (`register.enabled`). */
  get enabled(): boolean {
    return this.opts.enabled;
  }

  /**
   * A jabber:iq:register iq before authentication, on a stream to `domain` from `address`
   * (XEP-0077 §3.1). get: the form. set: creates `<username>@domain`.
   * Errors: `service-unavailable` when registration is off (§3.1); `not-acceptable` when
   * username or password is missing or empty, the password is longer than
   * `register.maxPasswordBytes`, or the address made `register.maxPerAddress` attempts in the
   * window (§3.1 "too many times"), or for a username that is not a valid localpart
   * (RFC 7622 §3.3; as Prosody 0.12); `conflict` when the account exists or its name was
   * removed recently (tombstone); `registration-required` for `<remove/>` (§3.2 table: not
   * registered; as Prosody); `bad-request` for a type other than get/set. The form has the
   * legacy fields only (Prosody adds the same fields as a XEP-0004 form, §3.4's option).
   */
  async preAuth(iq: Element, query: Element, domain: string, address: string): Promise<RegisterAnswer> {
    if (!this.opts.enabled) return { error: 'service-unavailable' };
    if (iq.attrs.type === 'get') return { payload: registrationForm() };
    if (iq.attrs.type !== 'set') return { error: 'bad-request' };
    if (isRemove(query)) return { error: 'registration-required', text: 'nobody is registered on this stream' };
    const username = query.getChildText('username') ?? '';
    const password = query.getChildText('password') ?? '';
    if (username === '' || password === '') return { error: 'not-acceptable', text: 'a username and a password are required' };
    if (Buffer.byteLength(password, 'utf8') > this.opts.maxPasswordBytes) return { error: 'not-acceptable', text: 'the password is too long' };
    const jid = tryParseJid(`${username}@${domain}`);
    if (!jid || jid.local === undefined || jid.resource !== undefined || jid.domain !== domain) return { error: 'not-acceptable', text: 'that username is not valid' };
    try {
      await this.perAddress.consume(address, 1);
    } catch (err) {
      if (err instanceof RateLimiterRes) return { error: 'not-acceptable', text: 'too many registrations from your address; try later' };
      throw err;
    }
    const bare = jid.toString();
    if ((await this.accounts.deletedAt(bare)) !== undefined) return { error: 'conflict', text: 'this username was in use recently' };
    if (!(await this.accounts.create(bare, password))) return { error: 'conflict', text: 'that username is taken' };
    return {};
  }

  /**
   * Removes the account `bareJid` (XEP-0077 §3.2): tombstone; then every presence
   * subscription cancelled (§3.2 "SHOULD also cancel all existing presence subscriptions":
   * `AccountStore.departure`, the same stanzas as the admin API's delete-user job, routed
   * here so each contact's roster is updated and pushed, and contacts who saw it online get
   * unavailable presence); then the account, its offline messages and roster, then what
   * other modules stored. The caller answers the iq and ends the account's sessions with the
   * stream error `not-authorized`.
   */
  async remove(bareJid: string): Promise<void> {
    if ((await this.accounts.deletedAt(bareJid)) === undefined) await this.accounts.markDeleted(bareJid, this.opts.tombstoneTtlMs);
    for (const stanza of await this.accounts.departure(bareJid)) await this.route(stanza);
    await this.accounts.delete(bareJid);
    await this.forget(bareJid);
  }

  /**
   * Registers jabber:iq:register for authenticated users on the server and on their own
   * bare JID (the feature on both): get answers `<registered/>` with the username; set with
   * username and password changes the password (§3.3); a set with `<remove/>` as its only
   * child removes the account (§3.2; `bad-request` when not alone), answers the result and
   * then ends every session of the account with the stream error `not-authorized` (§3.2,
   * as the admin API's delete-user job does; `kick` does that).
   * Errors: another account's bare JID: `service-unavailable`; a username other than the
   * requester's: `not-allowed`; missing or empty password: `bad-request` (§3.3: the password
   * is never set to nothing); longer than `register.maxPasswordBytes`: `not-acceptable`.
   */
  registerHandlers(table: IqHandlers, kick: (bareJid: string) => Promise<void>): void {
    const target = (ctx: Parameters<IqHandler>[1]): Jid | undefined => (ctx.target === 'server' ? ctx.from.bare() : ctx.self ? ctx.to : undefined);
    const get: IqHandler = (_query, ctx) => {
      const account = target(ctx);
      if (!account || account.domain !== ctx.domain) return { error: 'service-unavailable' };
      return { payload: registeredForm(account) };
    };
    const set: IqHandler = async (query, ctx): Promise<IqAnswer> => {
      const account = target(ctx);
      if (!account || account.domain !== ctx.domain) return { error: 'service-unavailable' };
      if (isRemove(query)) {
        if (query.children.some((c) => typeof c !== 'string' && c.name !== 'remove')) return { error: 'bad-request', text: '<remove/> must be the only child' };
        const bare = account.toString();
        await this.remove(bare);
        return { afterReply: () => kick(bare) };
      }
      const username = query.getChildText('username');
      const password = query.getChildText('password') ?? '';
      if (username === null || password === '') return { error: 'bad-request', text: 'username and a non-empty password are required' };
      const asked = tryParseJid(`${username}@${account.domain}`);
      if (!asked || !asked.equals(account)) return { error: 'not-allowed', text: 'you can only change your own password' };
      if (Buffer.byteLength(password, 'utf8') > this.opts.maxPasswordBytes) return { error: 'not-acceptable', text: 'the password is too long' };
      if (!(await this.accounts.setPassword(account.toString(), password))) return { error: 'service-unavailable' };
      return {};
    };
    table.on('get', REGISTER_NS, 'query', ['server', 'account'], get).on('set', REGISTER_NS, 'query', ['server', 'account'], set).feature(REGISTER_NS, ['server', 'account']);
  }
}
