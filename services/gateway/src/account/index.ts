// Account services (issue #11 items 5 and 6): vCards and avatars, last activity, entity
// time, private storage, in-band registration, entity capabilities. Each module registers
// its iq handlers and disco features in the gateway's IqHandlers table.
import type { Redis } from 'ioredis';
import type { Element } from 'ltx';
import type { AccountStore } from '@parley/accounts';
import type { KeySpace } from '@parley/bus';
import type { Config } from '@parley/config';
import type { IqHandlers } from '../server/iq-handlers.js';
import { capsElement } from './caps.js';
import { registerEntityTime } from './entity-time.js';
import { LastActivityStore, registerLastActivity, type MaySeePresence } from './last-activity.js';
import { PrivateStore, registerPrivateStorage, type BookmarksBridge } from './private-storage.js';
import { Registration } from './register.js';
import { registerVcard, VcardStore } from './vcard.js';

export { stampAvatar } from './vcard.js';
export { isRemove, REGISTER_FEATURE_NS, REGISTER_NS } from './register.js';

/** What the account services need from the gateway. */
export interface AccountServicesDeps {
  config: Config;
  redis: Redis;
  keys: KeySpace;
  accounts: AccountStore;
  /** Whether the account has any bound resource (session registry). */
  connected: (bareJid: string) => Promise<boolean>;
  /** Whether a requester may see an account's presence (its roster; RFC 6121 §4.2.2). */
  maySee: MaySeePresence;
  now: () => number;
  /** Ends every session of an account with the stream error `not-authorized` (after XEP-0077 removal). */
  kickAll: (bareJid: string) => Promise<void>;
  /** Routes a stanza made by the server (the router's `route`; resolved at call time). */
  route: (stanza: Element) => Promise<void>;
  /** XEP-0402 §5.3 legacy bookmarks over PEP (resolved at call time); none: private storage only. */
  bookmarks?: () => BookmarksBridge | undefined;
}

/** The account services of one gateway, registered into its IqHandlers table. */
export class AccountServices {
  readonly vcards: VcardStore;
  readonly privateXml: PrivateStore;
  readonly lastActivity: LastActivityStore;
  readonly registration: Registration;

  constructor(private readonly table: IqHandlers, d: AccountServicesDeps) {
    const limits = d.config.limits;
    this.vcards = new VcardStore(d.redis, d.keys, limits.maxVcardBytes);
    this.privateXml = new PrivateStore(d.redis, d.keys, { maxBytes: limits.maxPrivateBytes, maxItems: limits.maxPrivateItems });
    this.lastActivity = new LastActivityStore(d.redis, d.keys);
    this.registration = new Registration(d.redis, d.keys, d.accounts, { ...d.config.register, tombstoneTtlMs: d.config.jobs.tombstoneTtlMs }, (bare) => this.forget(bare), d.route);
    registerVcard(table, this.vcards);
    registerPrivateStorage(table, this.privateXml, d.bookmarks);
    registerLastActivity(table, { store: this.lastActivity, connected: d.connected, maySee: d.maySee, startedAt: d.now(), now: d.now });
    registerEntityTime(table, d.now);
    this.registration.registerHandlers(table, d.kickAll);
  }

  /** Deletes what these services store for a removed account. */
  private async forget(bareJid: string): Promise<void> {
    await Promise.all([this.vcards.delete(bareJid), this.privateXml.delete(bareJid), this.lastActivity.delete(bareJid)]);
  }

  /** XEP-0115 `<c/>` for the post-authentication stream features, from the server's disco#info (computed once, lazily). */
  capsFeature(): Element {
    return capsElement(this.table.capsVer('server'));
  }
}
