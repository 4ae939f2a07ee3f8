/*
 * XEP-0313 Message Archive Management for accounts (issue #13 item 2): what the router
 * archives, and the queries and preferences an account sends to its own bare JID.
 *
 * Both directions of a one-to-one message are archived by the gateway that routes it (the
 * sender's): the outgoing copy in the sender's archive (`outgoing`, before routing), the
 * incoming one in a local recipient's archive (`incoming`, as the router delivers it to a
 * session or to offline storage), under one archive id (a random UUID) when both accounts
 * archive it. The archiving itself is @parley/accounts' MessageArchiver, which the admin API
 * uses for `POST /v1/messages` too. The recipient's copy carries `<stanza-id by=recipient bare JID>` (§3.5), and so
 * do its carbons (the router copies what it delivers); the sender's other resources get the
 * sender's stanza-id inside the `<sent/>` carbon (§3.5: "as a child of the forwarded
 * message"), never the recipient.
 */
import { Element } from 'ltx';
import type { Logger } from 'pino';
import { tryParseJid, type Jid } from '@parley/jid';
import { mamQueryForm, parseArchiveQuery } from '@parley/muc';
import { MessageArchiver } from '@parley/accounts';
import type { IqAnswer, IqHandler, IqHandlers } from '../server/iq-handlers.js';
import type { LocalSessions } from '../routing/local-sessions.js';
import { SID_NS, type AccountArchiveQuery, type MamStore } from '@parley/accounts';
import { accountArchiveResults, MAM_NS, parsePrefs, prefsElement } from './account-archive.js';

/** XEP-0313 §7: the disco feature of before-id/after-id/ids, flipped pages and archive metadata. */
export const MAM_EXTENDED = 'urn:xmpp:mam:2#extended';

export interface AccountArchiveDeps {
  store: MamStore;
  local: LocalSessions;
  /** The domains served here: only their accounts have archives. */
  hosts: readonly string[];
  /** `mam.maxQueryResults`: results per page without `<max/>`, and the cap on it. */
  maxQueryResults: number;
  log: Logger;
  /** ms since epoch. */
  now: () => number;
}

/** Account archives: archiving in the router and the iq handlers on accounts' bare JIDs. */
export class AccountArchive {
  private readonly archiver: MessageArchiver;

  constructor(private readonly d: AccountArchiveDeps) {
    this.archiver = new MessageArchiver({ store: d.store, hosts: d.hosts, log: d.log });
  }

  /**
   * Registers, on accounts' bare JIDs only (§3.3.1): the query (`iq set`, §4) and its form
   * (`iq get`, §4.1.5), the archive metadata (§5), the preferences (`<prefs/>` get and set,
   * XEP-0441), and the disco#info features `urn:xmpp:mam:2`, `urn:xmpp:mam:2#extended` (§7:
   * before-id, after-id, ids, flipped pages, metadata) and `urn:xmpp:sid:0` (XEP-0359 §5), as
   * Prosody 0.12 lists them on the account.
   */
  register(iq: IqHandlers): void {
    iq.feature(MAM_NS, ['account'])
      .feature(MAM_EXTENDED, ['account'])
      .feature(SID_NS, ['account'])
      .on('get', MAM_NS, 'metadata', ['account'], this.metadataGet)
      .on('get', MAM_NS, 'query', ['account'], this.formGet)
      .on('set', MAM_NS, 'query', ['account'], this.query)
      .on('get', MAM_NS, 'prefs', ['account'], this.prefsGet)
      .on('set', MAM_NS, 'prefs', ['account'], this.prefsSet);
  }

  /**
   * A message a client of ours sends (`from` its full JID) to `to`: archived in the sender's
   * archive (see MessageArchiver.outgoing of @parley/accounts). Returns the stanza for the
   * sender's `<sent/>` carbons. Never throws.
   */
  outgoing(stanza: Element, from: Jid, to: Jid): Promise<Element> {
    return this.archiver.outgoing(stanza, from, to);
  }

  /**
   * A message for a local account `to` about to be delivered (to sessions or offline
   * storage): archived in its archive, the returned copy with its stanza-id (see
   * MessageArchiver.incoming of @parley/accounts). Never throws.
   */
  incoming(stanza: Element, to: Jid): Promise<Element> {
    return this.archiver.incoming(stanza, to);
  }

  /**
   * §4.1.5: the query form. Only the account itself may use its archive: anyone else gets
   * `service-unavailable` (as for an account that does not exist; Prosody 0.12 answers the
   * same), not `forbidden`, which would confirm the account.
   */
  private readonly formGet: IqHandler = (_q, ctx) => (ctx.self ? { payload: mamQueryForm(true) } : { error: 'service-unavailable' });

  /**
   * §5 archive metadata: `<metadata xmlns='urn:xmpp:mam:2'>` with `<start id timestamp/>` and
   * `<end id timestamp/>` (the oldest and newest message kept), empty for an empty archive.
   * Others than the account: `service-unavailable`.
   */
  private readonly metadataGet: IqHandler = async (_q, ctx): Promise<IqAnswer> => {
    if (!ctx.self) return { error: 'service-unavailable' };
    const meta = await this.d.store.metadata(ctx.to.toString(), this.d.now());
    const el = new Element('metadata', { xmlns: MAM_NS });
    for (const [name, edge] of [
      ['start', meta.start],
      ['end', meta.end],
    ] as const) {
      if (edge) el.c(name, { id: edge.id, timestamp: new Date(edge.at).toISOString().replace(/\.\d{3}Z$/, 'Z') });
    }
    return { payload: el };
  };

  /**
   * §4 query on the account's own archive (`iq set` to its bare JID or without `to`): form
   * fields `start`, `end`, `with` (§4.1), RSM `max`/`after`/`before` (§4.3). The results
   * (§4.2) go to the requester's session before the iq result with `<fin/>`. Errors, as for
   * room archives (@parley/muc parseArchiveQuery): `bad-request` (modify) for a bad
   * FORM_TYPE, timestamp, `with` or `<max/>`, more `ids` than a page holds; `feature-not-implemented`
   * (cancel) for other fields and RSM `<index/>`; `item-not-found` (cancel) for an RSM id, an
   * `after-id`/`before-id` or one of `ids` not in the archive (§4.3.2, §4.1.3; Prosody 0.12
   * leaves unknown `ids` out instead); `service-unavailable` (cancel) for another entity.
   * #extended (§4.1.3, §4.3.3): `after-id`/`before-id` bound the page without turning it
   * (combinable with RSM), `ids` fetches those messages (oldest first), `<flip-page/>` sends
   * the page's results newest first (the `<fin/>` is the same).
   */
  private readonly query: IqHandler = async (q, ctx): Promise<IqAnswer> => {
    if (!ctx.self) return { error: 'service-unavailable' };
    const parsed = parseArchiveQuery(q, { maxResults: this.d.maxQueryResults, extended: true });
    if ('refusal' in parsed) {
      const { condition, type, text } = parsed.refusal;
      return text === undefined ? { error: condition, type } : { error: condition, type, text };
    }
    const query: AccountArchiveQuery = { max: parsed.max };
    if (parsed.start !== undefined) query.start = parsed.start;
    if (parsed.end !== undefined) query.end = parsed.end;
    if (parsed.after !== undefined) query.after = parsed.after;
    if (parsed.before !== undefined) query.before = parsed.before;
    if (parsed.afterId !== undefined) query.afterId = parsed.afterId;
    if (parsed.beforeId !== undefined) query.beforeId = parsed.beforeId;
    if (parsed.ids !== undefined) query.ids = parsed.ids;
    if (parsed.withJid !== undefined) query.with = tryParseJid(parsed.withJid)!.toString();
    const owner = ctx.to.toString();
    const page = await this.d.store.readPage(owner, query, this.d.now());
    if (page === 'item-not-found') return { error: 'item-not-found', type: 'cancel' };
    const requester = ctx.from.toString();
    const { messages, fin } = accountArchiveResults(parsed.queryId, requester, page);
    const session = this.d.local.get(requester);
    if (parsed.flip === true) messages.reverse();
    for (const m of messages) session?.deliver(m);
    return { payload: fin };
  };

  /** XEP-0441 preferences, read. Others than the account: `service-unavailable`. */
  private readonly prefsGet: IqHandler = async (_q, ctx): Promise<IqAnswer> => {
    if (!ctx.self) return { error: 'service-unavailable' };
    return { payload: prefsElement(await this.d.store.prefs(ctx.to.toString())) };
  };

  /**
   * XEP-0441 preferences, replaced; the answer holds them as stored. Errors: see
   * parsePrefs (`bad-request`, `jid-malformed`, `not-acceptable`, all modify);
   * `service-unavailable` for others than the account.
   */
  private readonly prefsSet: IqHandler = async (q, ctx): Promise<IqAnswer> => {
    if (!ctx.self) return { error: 'service-unavailable' };
    const prefs = parsePrefs(q);
    if ('error' in prefs) return { error: prefs.error, type: 'modify', text: prefs.text };
    await this.d.store.setPrefs(ctx.to.toString(), prefs);
    return { payload: prefsElement(prefs) };
  };
}
