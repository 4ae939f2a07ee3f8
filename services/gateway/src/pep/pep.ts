// XEP-0163 Personal Eventing Protocol on accounts' bare JIDs: publish (with XEP-0060 §7.1.5
// publish options), retract, items, node deletion, notifications filtered by the
// recipients' XEP-0115 `+notify` features, and the last items sent when a session becomes
// available (§6.2). XEP-0402 bookmarks are a PEP node like any other (whitelist, max items).
// The specs (XEP-0060, XEP-0163, XEP-0115, XEP-0402) are not in ../shared/specs: written
// from the published versions named in docs/xeps.md.
import { randomBytes, randomUUID } from 'node:crypto';
import { clone, Element } from 'ltx';
import type { Logger } from 'pino';
import type { Config } from '@parley/config';
import type { Jid } from '@parley/jid';
import { tryParseJid } from '@parley/jid';
import { receivesPresenceFrom, sendsPresenceTo } from '@parley/roster';
import { parseOwnElement, serialize } from '@parley/xml';
import type { IqAnswer, IqContext, IqHandler, IqHandlers } from '../server/iq-handlers.js';
import type { SessionRecordPatch } from '../routing/local-sessions.js';
import type { RegisteredSession, SessionRegistry } from '../routing/session-registry.js';
import type { RosterStore } from '../roster/roster-store.js';
import { LEGACY_BOOKMARKS_NS, type BookmarksBridge } from '../account/private-storage.js';
import { announcedCaps, CapsCache, capsVerified, notifyNodes, type AnnouncedCaps } from './caps-features.js';
import {
  configFor,
  DEFAULT_NODE_CONFIG,
  isOptionsError,
  nodeConfigForm,
  parseNodeConfigForm,
  parsePublishOptions,
  PUBSUB_ERRORS_NS,
  PUBSUB_EVENT_NS,
  PUBSUB_NS,
  PUBSUB_OWNER_NS,
  type NodeConfig,
} from './pep-config.js';
import type { PepStore } from './pep-store.js';

const DISCO_INFO_NS = 'http://jabber.org/protocol/disco#info';
const DATA_FORMS_NS = 'jabber:x:data';
/** XEP-0402 §2: the bookmarks node (and its payload namespace). */
export const BOOKMARKS_NODE = 'urn:xmpp:bookmarks:1';
/** XEP-0402 §5.3: the server keeps XEP-0048 private-XML bookmarks and the PEP node in step. */
export const BOOKMARKS_COMPAT_FEATURE = 'urn:xmpp:bookmarks:1#compat';
/** XEP-0292 (0.12.0): the PEP node of an account's vCard4 (item id `current`, as clients and Prosody 0.12 publish it). */
export const VCARD4_NODE = 'urn:xmpp:vcard4';
/** XEP-0292 / RFC 6351: the vCard4 XML namespace, also the iq form's element and disco feature. */
export const VCARD4_NS = 'urn:ietf:params:xml:ns:vcard-4.0';
/** Longest node name or item id accepted, in UTF-16 code units; longer gets `bad-request`. */
export const MAX_NAME_LENGTH = 1024;
/** How long the gateway waits for a client's disco#info answer (XEP-0115 §6.2), ms. */
export const CAPS_QUERY_TIMEOUT_MS = 10_000;

/**
 * What PEP needs of a client session (implemented by `ClientSession`): its JID, a way to ask
 * the client something (the disco#info of its caps) and its registry record.
 */
export interface PepSession {
  readonly fullJid: Jid | undefined;
  /** Sends an iq get to the client and resolves with its answer, or undefined (timeout, session gone, too many pending). */
  request(iq: Element, timeoutMs: number): Promise<Element | undefined>;
  updateRecord(patch: SessionRecordPatch): Promise<void>;
}

export interface PepDeps {
  config: Config;
  store: PepStore;
  registry: SessionRegistry;
  roster: RosterStore;
  /** Routes a stanza made by the server (resolved at call time: the router is built first). */
  route: (stanza: Element) => Promise<void>;
  log: Logger;
}

/** The XEP-0060 features advertised on accounts' bare JIDs (XEP-0163 §6.1, §8). */
export const PEP_FEATURES: readonly string[] = [
  'access-open',
  'access-presence',
  'access-whitelist',
  'auto-create',
  'config-node',
  'config-node-max',
  'create-and-configure',
  'create-nodes',
  'delete-nodes',
  'filtered-notifications',
  'instant-nodes',
  'item-ids',
  'last-published',
  'multi-items',
  'persistent-items',
  'presence-notifications',
  'publish',
  'publish-options',
  'purge-nodes',
  'retract-items',
  'retrieve-affiliations',
  'retrieve-default',
  'retrieve-items',
  'retrieve-subscriptions',
].map((f) => `${PUBSUB_NS}#${f}`);

type PubsubError = Extract<IqAnswer, { error: unknown }>;

/** A stanza error with a `http://jabber.org/protocol/pubsub#errors` condition (XEP-0060 §7, §6.5.9). */
function pubsubError(error: PubsubError['error'], app: string, text?: string, attrs: Record<string, string> = {}): PubsubError {
  return { error, app: new Element(app, { xmlns: PUBSUB_ERRORS_NS, ...attrs }), ...(text === undefined ? {} : { text }) };
}

const isTrue = (v: string | undefined) => v === 'true' || v === '1';
const isFalse = (v: string | undefined) => v === 'false' || v === '0';
const elementChildren = (el: Element) => el.children.filter((c): c is Element => typeof c !== 'string');

/** The XEP-0163 PEP service of one gateway (state in Redis: {@link PepStore}; per-session caps in the registry records). */
export class PepService implements BookmarksBridge {
  /** Verified caps hash → notify nodes (XEP-0115 §5.4), shared by this gateway's sessions. */
  private readonly capsCache: CapsCache;
  /** The caps each session last announced (`hash node#ver`, '' for none). */
  private readonly capsOf = new WeakMap<PepSession, string>();
  private readonly limits: Config['limits'];

  constructor(private readonly d: PepDeps) {
    this.limits = d.config.limits;
    this.capsCache = new CapsCache(this.limits.maxNotifyNodes);
  }

  /** Registers the handlers, the `pubsub/pep` identity and the features on accounts' bare JIDs. */
  register(table: IqHandlers): void {
    table
      .identity('account', { category: 'pubsub', type: 'pep' })
      .on('set', PUBSUB_NS, 'pubsub', ['account'], (q, ctx) => this.set(q, ctx))
      .on('get', PUBSUB_NS, 'pubsub', ['account'], (q, ctx) => this.get(q, ctx))
      .on('set', PUBSUB_OWNER_NS, 'pubsub', ['account'], (q, ctx) => this.ownerSet(q, ctx))
      .on('get', PUBSUB_OWNER_NS, 'pubsub', ['account'], (q, ctx) => this.ownerGet(q, ctx))
      .on('get', VCARD4_NS, 'vcard', ['account'], (q, ctx) => this.vcard4Get(q, ctx))
      .on('set', VCARD4_NS, 'vcard', ['account'], (q, ctx) => this.vcard4Set(q, ctx));
    table.feature(VCARD4_NS, ['account']);
    for (const f of PEP_FEATURES) table.feature(f, ['account']);
    table.feature(BOOKMARKS_COMPAT_FEATURE, ['account']);
    table.accountItems((ctx) => this.discoItems(ctx));
  }

  /**
   * XEP-0060 §5.2 as PEP uses it: the account's nodes as disco#items of its bare JID
   * (`<item jid=account node=…/>`), those the requester may read (all for the account
   * itself; whitelist nodes for nobody else; presence nodes for subscribers).
   */
  private async discoItems(ctx: IqContext): Promise<Element[]> {
    const owner = ctx.to.toString();
    const nodes = await this.d.store.nodes(owner);
    const requester = ctx.from.bare().toString();
    const subscribed = !ctx.self && [...nodes.values()].some((c) => c.access === 'presence') ? await this.d.roster.sendsPresenceTo(owner, requester) : false;
    const out: Element[] = [];
    for (const [node, config] of nodes) {
      if (!ctx.self && (config.access === 'whitelist' || (config.access === 'presence' && !subscribed))) continue;
      out.push(new Element('item', { jid: owner, node }));
    }
    return out;
  }

  // ---- XEP-0402 §5.3: XEP-0048 bookmarks in private storage <-> the PEP node ------------

  /** A legacy `<conference jid=…/>` as the PEP item (id = the room's bare JID); undefined when its jid is not a bare JID. */
  private nativeBookmark(conf: Element): { id: string; payload: string } | undefined {
    const jid = tryParseJid(String(conf.attrs.jid ?? ''));
    if (!jid || jid.resource !== undefined || jid.local === undefined) return undefined;
    const attrs: Record<string, string> = { xmlns: BOOKMARKS_NODE };
    if (typeof conf.attrs.name === 'string') attrs.name = conf.attrs.name;
    if (isTrue(conf.attrs.autojoin)) attrs.autojoin = 'true';
    const el = new Element('conference', attrs);
    const nick = conf.getChildText('nick');
    if (nick !== null) el.c('nick').t(nick).up();
    const password = conf.getChildText('password');
    if (password !== null) el.c('password').t(password).up();
    return { id: jid.toString(), payload: serialize(el) };
  }

  /** Refuses legacy bookmarks the PEP node could not hold: too many rooms, a bad room JID, an item too large. */
  refuseLegacy(storage: Element): string | undefined {
    const confs = storage.getChildren('conference');
    if (confs.length > this.limits.maxPepItems) return `at most ${this.limits.maxPepItems} room bookmarks`;
    for (const c of confs) {
      const native = this.nativeBookmark(c);
      if (!native) return `not a room JID: ${String(c.attrs.jid ?? '')}`;
      if (Buffer.byteLength(native.payload) > this.limits.maxPepItemBytes) return 'a bookmark is too large';
    }
    return undefined;
  }

  /**
   * Publishes each room of a legacy `<storage xmlns='storage:bookmarks'/>` to the bookmarks
   * node (created with XEP-0402 §3's options: whitelist, persistent, max items, never sent as
   * last item) and retracts the rooms it no longer lists, notifying the owner's resources.
   */
  async syncLegacy(owner: string, storage: Element): Promise<void> {
    const wanted = new Map<string, string>();
    for (const c of storage.getChildren('conference')) {
      const native = this.nativeBookmark(c);
      if (native) wanted.set(native.id, native.payload);
    }
    const initial = configFor({ access: 'whitelist', persist: true, maxItems: this.limits.maxPepItems, sendLast: 'never' });
    for (const [id, payload] of wanted) {
      const outcome = await this.d.store.publish(owner, BOOKMARKS_NODE, id, payload, initial, {});
      if (outcome.result !== 'ok') {
        this.d.log.warn({ owner, result: outcome.result }, 'legacy bookmarks not fully copied to PEP');
        return;
      }
      await this.notify(owner, BOOKMARKS_NODE, outcome.config, (items) => items.c('item', { id }).cnode(parseOwnElement(payload)));
    }
    const config = await this.d.store.config(owner, BOOKMARKS_NODE);
    if (!config) return;
    for (const item of await this.d.store.items(owner, BOOKMARKS_NODE)) {
      if (wanted.has(item.id) || (await this.d.store.retract(owner, BOOKMARKS_NODE, item.id)) !== 'ok') continue;
      if (config.notifyRetract) await this.notify(owner, BOOKMARKS_NODE, config, (items) => items.c('retract', { id: item.id }));
    }
  }

  /**
   * The PEP bookmarks as a legacy `<storage xmlns='storage:bookmarks'/>` (XEP-0048 §3.2
   * conferences; `<url/>` bookmarks have no PEP form and are kept from `stored`); undefined
   * when the account has no bookmarks node.
   */
  async legacyBookmarks(owner: string, stored: Element | undefined): Promise<Element | undefined> {
    if (!(await this.d.store.config(owner, BOOKMARKS_NODE))) return undefined;
    const out = new Element('storage', { xmlns: LEGACY_BOOKMARKS_NS });
    for (const item of await this.d.store.items(owner, BOOKMARKS_NODE)) {
      let conf: Element;
      try {
        conf = parseOwnElement(item.payload);
      } catch {
        continue;
      }
      if (conf.name !== 'conference' || conf.getNS() !== BOOKMARKS_NODE) continue;
      const attrs: Record<string, string> = { jid: item.id, autojoin: isTrue(conf.attrs.autojoin) ? 'true' : 'false' };
      if (typeof conf.attrs.name === 'string') attrs.name = conf.attrs.name;
      const legacy = out.c('conference', attrs);
      const nick = conf.getChildText('nick');
      if (nick !== null) legacy.c('nick').t(nick).up();
      const password = conf.getChildText('password');
      if (password !== null) legacy.c('password').t(password).up();
    }
    for (const url of stored?.getChildren('url') ?? []) out.cnode(clone(url));
    return out;
  }

  // ---- requests (XEP-0060 §6.5, §7.1, §7.2, §8.4 on the account's bare JID) --------------

  private readonly set: IqHandler = async (query, ctx) => {
    const children = elementChildren(query);
    if (children[0]?.name === 'create') return ctx.self ? this.create(children[0], children.slice(1), ctx) : { error: 'forbidden' };
    const [action, ...rest] = children.filter((c) => c.name !== 'publish-options');
    if (!action || rest.length > 0) return { error: 'bad-request', text: 'one publish or retract per request' };
    // XEP-0163 §7: only the account itself publishes to its PEP service (XEP-0060 §7.1.3.1).
    if (!ctx.self) return { error: 'forbidden' };
    if (action.name === 'publish') return this.publish(action, query.getChild('publish-options'), ctx);
    if (action.name === 'retract') return this.retract(action, ctx);
    return pubsubError('feature-not-implemented', 'unsupported', undefined, { feature: action.name === 'subscribe' ? 'subscribe' : action.name === 'purge' ? 'purge-nodes' : 'publish' });
  };

  /**
   * XEP-0060 §8.1 create a node on the account, with the default configuration (§8.1.2,
   * `<configure/>` empty or absent) or a submitted node_config form (§8.1.3); without a node
   * name an instant node named by a random UUID (§8.1.2, answered with `<create node/>`).
   * Errors: the node exists `conflict` (§8.1.3.x, as Prosody 0.12); `limits.maxPepNodes`
   * reached `not-acceptable`; a bad form `bad-request` / `not-acceptable` (parseNodeConfigForm).
   */
  private async create(create: Element, rest: Element[], ctx: IqContext): Promise<IqAnswer> {
    const configure = rest[0];
    if (rest.length > 1 || (configure && configure.name !== 'configure')) return { error: 'bad-request', text: 'create takes one configure element' };
    const instant = create.attrs.node === undefined || create.attrs.node === '';
    let node: string;
    if (instant) node = randomUUID();
    else {
      const named = this.nodeOf(create);
      if (typeof named !== 'string') return named;
      node = named;
    }
    const form = configure?.getChild('x', DATA_FORMS_NS);
    if (configure && !form && configure.getChildElements().length > 0) return { error: 'bad-request', text: 'configure holds a data form' };
    let requested = {};
    if (form) {
      if (form.attrs.type !== 'submit') return { error: 'bad-request', text: "the configuration form's type must be submit" };
      const parsed = parseNodeConfigForm(form, this.limits.maxPepItems);
      if (isOptionsError(parsed)) return { error: parsed.error, text: parsed.text };
      requested = parsed;
    }
    switch (await this.d.store.create(ctx.to.toString(), node, configFor(requested))) {
      case 'exists':
        return { error: 'conflict', text: 'the node exists' };
      case 'too-many-nodes':
        return { error: 'not-acceptable', text: `at most ${this.limits.maxPepNodes} PEP nodes per account` };
    }
    if (!instant) return {};
    const reply = new Element('pubsub', { xmlns: PUBSUB_NS });
    reply.c('create', { node });
    return { payload: reply };
  }

  private nodeOf(el: Element): string | PubsubError {
    const node = el.attrs.node;
    if (typeof node !== 'string' || node === '') return pubsubError('bad-request', 'nodeid-required');
    if (node.length > MAX_NAME_LENGTH) return { error: 'bad-request', text: 'node name too long' };
    return node;
  }

  /** XEP-0060 §7.1 publish, §7.1.5 publish options (a node is auto-created, XEP-0163 §4.2). */
  private async publish(publish: Element, options: Element | undefined, ctx: IqContext): Promise<IqAnswer> {
    const node = this.nodeOf(publish);
    if (typeof node !== 'string') return node;
    const items = publish.getChildren('item');
    // §7.1.3.6: no item; more than one item or payload: invalid-payload (XEP-0163 nodes take one).
    if (items.length === 0) return pubsubError('bad-request', 'item-required');
    if (items.length > 1) return pubsubError('bad-request', 'invalid-payload', 'one item per publish');
    const item = items[0]!;
    const payloads = elementChildren(item);
    if (payloads.length === 0) return pubsubError('bad-request', 'payload-required');
    if (payloads.length > 1) return pubsubError('bad-request', 'invalid-payload', 'one payload per item');
    const id = item.attrs.id === undefined || item.attrs.id === '' ? randomBytes(9).toString('base64url') : String(item.attrs.id);
    if (id.length > MAX_NAME_LENGTH) return { error: 'bad-request', text: 'item id too long' };
    return this.publishItem(ctx.to.toString(), node, id, payloads[0]!, options);
  }

  /**
   * Stores one item (its payload bounded by `limits.maxPepItemBytes`, `not-acceptable` +
   * `<payload-too-big/>`) after the §7.1.5 publish options check, and notifies after the reply.
   * Answers the XEP-0060 §7.1.2 `<publish><item id/></publish>` result.
   */
  private async publishItem(owner: string, node: string, id: string, original: Element, options: Element | undefined): Promise<IqAnswer> {
    const copy = new Element(original.name, { ...original.attrs, xmlns: original.getNS() ?? PUBSUB_NS });
    copy.children = original.children;
    const payload = serialize(copy);
    if (Buffer.byteLength(payload) > this.limits.maxPepItemBytes) return pubsubError('not-acceptable', 'payload-too-big');
    const requested = parsePublishOptions(options, this.limits.maxPepItems);
    if (isOptionsError(requested)) return { error: requested.error, text: requested.text };
    const outcome = await this.d.store.publish(owner, node, id, payload, configFor(requested), requested);
    switch (outcome.result) {
      case 'precondition':
        return pubsubError('conflict', 'precondition-not-met', `the node's ${outcome.field} differs from the publish options`);
      case 'too-many-nodes':
        return { error: 'not-acceptable', text: `at most ${this.limits.maxPepNodes} PEP nodes per account` };
      case 'too-large':
        return { error: 'not-acceptable', text: 'PEP storage of this account is full' };
    }
    const reply = new Element('pubsub', { xmlns: PUBSUB_NS });
    reply.c('publish', { node }).c('item', { id });
    const config = outcome.config;
    return {
      payload: reply,
      afterReply: () => this.notify(owner, node, config, (items) => items.c('item', { id }).cnode(parseOwnElement(payload))),
    };
  }

  /** XEP-0060 §7.2 retract (one item); notified per §7.2.2.1 (`notify`, else the node's `notify_retract`). */
  private async retract(retract: Element, ctx: IqContext): Promise<IqAnswer> {
    const node = this.nodeOf(retract);
    if (typeof node !== 'string') return node;
    const item = retract.getChild('item');
    const id = item?.attrs.id;
    if (typeof id !== 'string' || id === '') return pubsubError('bad-request', 'item-required');
    const owner = ctx.to.toString();
    const config = await this.d.store.config(owner, node);
    if (!config) return { error: 'item-not-found' };
    const r = await this.d.store.retract(owner, node, id);
    if (r !== 'ok') return { error: 'item-not-found' };
    const flag = retract.attrs.notify;
    const notify = isTrue(flag) || (!isFalse(flag) && config.notifyRetract);
    return notify ? { afterReply: () => this.notify(owner, node, config, (items) => items.c('retract', { id })) } : {};
  }

  /** Why the requester may not read a node of `owner` (its access model), or undefined when it may. */
  private async refusedReader(owner: string, config: NodeConfig, ctx: IqContext): Promise<'whitelist' | 'presence' | undefined> {
    if (ctx.self || config.access === 'open') return undefined;
    if (config.access === 'whitelist') return 'whitelist';
    return (await this.d.roster.sendsPresenceTo(owner, ctx.from.bare().toString())) ? undefined : 'presence';
  }

  /**
   * XEP-0292 vCard4 by iq on an account's bare JID (`<vcard xmlns='urn:ietf:params:xml:ns:vcard-4.0'/>`,
   * the iq form of XEP-0292 0.9 §4.1.1, which Prosody 0.12's mod_vcard4 still serves): the item `current` (else the newest) of the
   * account's `urn:xmpp:vcard4` PEP node, read under the node's access model (others:
   * `forbidden`, as Prosody); no node or no vCard item: `item-not-found`.
   */
  private readonly vcard4Get: IqHandler = async (_query, ctx) => {
    const owner = ctx.to.toString();
    const config = await this.d.store.config(owner, VCARD4_NODE);
    if (!config) return { error: 'item-not-found' };
    if ((await this.refusedReader(owner, config, ctx)) !== undefined) return { error: 'forbidden' };
    const [item] = (await this.d.store.items(owner, VCARD4_NODE, { ids: ['current'] })).concat(await this.d.store.items(owner, VCARD4_NODE, { max: 1 }));
    if (!item) return { error: 'item-not-found' };
    const vcard = parseOwnElement(item.payload);
    return vcard.name === 'vcard' && vcard.getNS() === VCARD4_NS ? { payload: vcard } : { error: 'item-not-found' };
  };

  /**
   * XEP-0292 vCard4 set by iq (0.9 §4.1.2, as Prosody 0.12's mod_vcard4): published as item `current` of
   * the account's `urn:xmpp:vcard4` node (auto-created with the default configuration),
   * notified like any publish; the same bounds. The account itself only: others get
   * `service-unavailable`, as from Prosody 0.12.
   */
  private readonly vcard4Set: IqHandler = async (query, ctx) => {
    if (!ctx.self) return { error: 'service-unavailable' };
    const answer = await this.publishItem(ctx.to.toString(), VCARD4_NODE, 'current', query, undefined);
    return 'error' in answer ? answer : { ...(answer.afterReply ? { afterReply: answer.afterReply } : {}) };
  };

  /** XEP-0060 §6.5 retrieve items: all, the `max_items` newest (§6.5.7), or by id (§6.5.8); oldest first, as Prosody 0.12. */
  private readonly get: IqHandler = async (query, ctx) => {
    const children = elementChildren(query);
    if (children.length === 1 && children[0]!.name === 'subscriptions') return ctx.self ? this.subscriptions(children[0]!, PUBSUB_NS) : { error: 'forbidden' };
    if (children.length === 1 && children[0]!.name === 'affiliations') return ctx.self ? this.affiliations(children[0]!, ctx) : { error: 'forbidden' };
    const itemsEl = query.getChild('items');
    if (!itemsEl || children.length !== 1) return { error: 'bad-request', text: 'one items, subscriptions or affiliations element' };
    const node = this.nodeOf(itemsEl);
    if (typeof node !== 'string') return node;
    const owner = ctx.to.toString();
    const config = await this.d.store.config(owner, node);
    if (!config) return { error: 'item-not-found' };
    const refused = await this.refusedReader(owner, config, ctx);
    // XEP-0060 §6.5.9.3 (presence), §6.5.9.5 (whitelist).
    if (refused === 'whitelist') return pubsubError('not-allowed', 'closed-node');
    if (refused === 'presence') return pubsubError('not-authorized', 'presence-subscription-required');
    let max: number | undefined;
    const maxAttr = itemsEl.attrs.max_items;
    if (maxAttr !== undefined) {
      if (!/^\d{1,9}$/.test(String(maxAttr)) || Number(maxAttr) < 1) return { error: 'bad-request', text: 'max_items must be a positive integer' };
      max = Number(maxAttr);
    }
    const ids = itemsEl
      .getChildren('item')
      .map((i) => i.attrs.id)
      .filter((id): id is string => typeof id === 'string');
    if (ids.length > this.limits.maxPepItems) return { error: 'bad-request', text: 'too many item ids' };
    const stored = await this.d.store.items(owner, node, ids.length > 0 ? { ids } : max !== undefined ? { max } : {});
    const reply = new Element('pubsub', { xmlns: PUBSUB_NS });
    const out = reply.c('items', { node });
    for (const it of stored) out.c('item', { id: it.id }).cnode(parseOwnElement(it.payload)).up();
    return { payload: reply };
  };

  /**
   * XEP-0060 §5.6 the requester's subscriptions (also §8.8.1 a node's subscribers, owner
   * namespace): PEP subscriptions are implicit (presence and `+notify`, XEP-0163 §4.3), so
   * there are no explicit ones to list: an empty `<subscriptions/>` (as Prosody 0.12).
   */
  private subscriptions(el: Element, ns: string): IqAnswer {
    const reply = new Element('pubsub', { xmlns: ns });
    reply.c('subscriptions', typeof el.attrs.node === 'string' ? { node: el.attrs.node } : {});
    return { payload: reply };
  }

  /**
   * XEP-0060 §5.7 the account's affiliations on its own PEP service: `owner` of each of its
   * nodes (or of the one named; none listed when it does not exist). Prosody 0.12 answers
   * `service-unavailable` here.
   */
  private async affiliations(el: Element, ctx: IqContext): Promise<IqAnswer> {
    const nodes = await this.d.store.nodes(ctx.to.toString());
    const only = typeof el.attrs.node === 'string' ? el.attrs.node : undefined;
    const reply = new Element('pubsub', { xmlns: PUBSUB_NS });
    const list = reply.c('affiliations', only === undefined ? {} : { node: only });
    for (const node of nodes.keys()) if (only === undefined || node === only) list.c('affiliation', { node, affiliation: 'owner' });
    return { payload: reply };
  }

  /**
   * Owner requests (XEP-0060 §8, `#owner` namespace), the account's own only (others:
   * `forbidden`, as Prosody 0.12): §8.2.1 the configuration form of a node, §8.3 the default
   * configuration form, §8.9.1 a node's affiliations (the account, `owner`), §8.8.1 its
   * subscriptions (none). A node that does not exist: `item-not-found`.
   */
  private readonly ownerGet: IqHandler = async (query, ctx) => {
    const [action, ...rest] = elementChildren(query);
    if (!ctx.self) return { error: 'forbidden' };
    if (!action || rest.length > 0) return { error: 'bad-request', text: 'one owner request per iq' };
    const reply = new Element('pubsub', { xmlns: PUBSUB_OWNER_NS });
    if (action.name === 'default') {
      reply.c('default').cnode(nodeConfigForm(DEFAULT_NODE_CONFIG, this.limits.maxPepItems));
      return { payload: reply };
    }
    if (action.name !== 'configure' && action.name !== 'affiliations' && action.name !== 'subscriptions') {
      return pubsubError('feature-not-implemented', 'unsupported', undefined, { feature: 'owner' });
    }
    const node = this.nodeOf(action);
    if (typeof node !== 'string') return node;
    const owner = ctx.to.toString();
    const config = await this.d.store.config(owner, node);
    if (!config) return { error: 'item-not-found' };
    if (action.name === 'subscriptions') return this.subscriptions(action, PUBSUB_OWNER_NS);
    if (action.name === 'configure') reply.c('configure', { node }).cnode(nodeConfigForm(config, this.limits.maxPepItems));
    else reply.c('affiliations', { node }).c('affiliation', { jid: owner, affiliation: 'owner' });
    return { payload: reply };
  };

  /**
   * Owner changes (XEP-0060 §8, the account's own only, others `forbidden`): §8.2.4 configure
   * (a submitted node_config form, merged into the node's configuration; `cancel` changes
   * nothing; no form `bad-request`), §8.5 purge (notified with `<purge/>`), §8.4 delete.
   * Changing affiliations (§8.9.2) or subscriptions (§8.8.2) is not offered:
   * `feature-not-implemented` + `<unsupported/>`.
   */
  private readonly ownerSet: IqHandler = async (query, ctx) => {
    const [action, ...rest] = elementChildren(query);
    if (!ctx.self) return { error: 'forbidden' };
    if (!action || rest.length > 0) return { error: 'bad-request', text: 'one owner request per iq' };
    if (action.name === 'configure') return this.configure(action, ctx);
    if (action.name === 'purge') return this.purge(action, ctx);
    if (action.name !== 'delete') {
      return pubsubError('feature-not-implemented', 'unsupported', undefined, {
        feature: action.name === 'affiliations' ? 'modify-affiliations' : action.name === 'subscriptions' ? 'manage-subscriptions' : 'owner',
      });
    }
    return this.deleteNode(action, ctx);
  };

  /** XEP-0060 §8.2.4 submit a node configuration; items past a smaller `max_items` (all of a now transient node) are dropped without notifications. */
  private async configure(action: Element, ctx: IqContext): Promise<IqAnswer> {
    const node = this.nodeOf(action);
    if (typeof node !== 'string') return node;
    const owner = ctx.to.toString();
    const config = await this.d.store.config(owner, node);
    if (!config) return { error: 'item-not-found' };
    const form = action.getChild('x', DATA_FORMS_NS);
    if (!form) return { error: 'bad-request', text: 'configure needs a data form' };
    if (form.attrs.type === 'cancel') return {};
    if (form.attrs.type !== 'submit') return { error: 'bad-request', text: "the configuration form's type must be submit or cancel" };
    const requested = parseNodeConfigForm(form, this.limits.maxPepItems);
    if (isOptionsError(requested)) return { error: requested.error, text: requested.text };
    if ((await this.d.store.configure(owner, node, { ...config, ...requested })) !== 'ok') return { error: 'item-not-found' };
    return {};
  }

  /** XEP-0060 §8.5 purge every item of a node; its readers' sessions get `<purge node/>` (§8.5.2). */
  private async purge(action: Element, ctx: IqContext): Promise<IqAnswer> {
    const node = this.nodeOf(action);
    if (typeof node !== 'string') return node;
    const owner = ctx.to.toString();
    const config = await this.d.store.config(owner, node);
    if (!config || (await this.d.store.purge(owner, node)) !== 'ok') return { error: 'item-not-found' };
    return {
      afterReply: () =>
        this.notify(owner, node, config, (_items, event) => {
          event.children = [];
          event.c('purge', { node });
        }),
    };
  }

  /** XEP-0060 §8.4 delete a node (owner namespace); subscribers are told with `<delete/>` (§8.4.2). */
  private async deleteNode(action: Element, ctx: IqContext): Promise<IqAnswer> {
    const node = this.nodeOf(action);
    if (typeof node !== 'string') return node;
    const owner = ctx.to.toString();
    const config = await this.d.store.config(owner, node);
    if (!config || (await this.d.store.deleteNode(owner, node)) !== 'ok') return { error: 'item-not-found' };
    return {
      afterReply: () =>
        this.notify(owner, node, config, (_items, event) => {
          event.children = [];
          event.c('delete', { node });
        }),
    };
  }

  // ---- notifications (XEP-0163 §4.3, XEP-0060 §7.1.2.1) -------------------------------

  /**
   * The sessions that get a node's notifications: the owner's available resources and, unless
   * the node is whitelist, those of its contacts with a `from`/`both` subscription (XEP-0163
   * §4.3.1: presence-based), in each case only resources whose caps say `<node>+notify`.
   */
  private async recipients(owner: string, node: string, config: NodeConfig): Promise<Array<{ jid: string; session: RegisteredSession }>> {
    const accounts = [owner];
    if (config.access !== 'whitelist') {
      const { items } = await this.d.roster.roster(owner);
      for (const i of items) {
        const j = tryParseJid(i.jid);
        if (sendsPresenceTo(i.subscription) && j?.local !== undefined && this.d.config.hosts.includes(j.domain)) accounts.push(i.jid);
      }
    }
    const out: Array<{ jid: string; session: RegisteredSession }> = [];
    const all = await Promise.all(accounts.map((a) => this.d.registry.sessionsOf(a)));
    accounts.forEach((a, i) => {
      for (const s of all[i]!) if (s.record.available && s.record.notify?.includes(node)) out.push({ jid: a, session: s });
    });
    return out;
  }

  /**
   * Sends `<message type=notification_type from=owner><event><items node>…</items></event>`
   * (XEP-0060 §7.1.2.1) to every recipient; `fill` adds the item, retraction, or replaces the
   * content (node deletion). Routed like any stanza from the owner (blocking applies).
   */
  private async notify(owner: string, node: string, config: NodeConfig, fill: (items: Element, event: Element) => void): Promise<void> {
    const recipients = await this.recipients(owner, node, config);
    if (recipients.length === 0) return;
    const template = this.event(owner, node, config, fill);
    await Promise.all(
      recipients.map(({ jid, session }) => {
        const msg = clone(template);
        msg.attrs.to = `${jid}/${session.resource}`;
        return this.d.route(msg);
      }),
    );
  }

  private event(owner: string, node: string, config: NodeConfig, fill: (items: Element, event: Element) => void): Element {
    const msg = new Element('message', { from: owner, type: config.notificationType, id: randomBytes(9).toString('base64url') });
    const event = msg.c('event', { xmlns: PUBSUB_EVENT_NS });
    const items = event.c('items', { node });
    fill(items, event);
    return msg;
  }

  // ---- sessions: caps and the last items (XEP-0163 §4.4, §6.2; XEP-0115 §6) ---------------

  /**
   * An available presence broadcast by a session (called from its stanza queue; does not wait
   * for the client). On initial presence, or when the caps changed, the session's notify nodes
   * come from the gateway's cache of verified caps or from a disco#info query to the client
   * (`from` the account's bare JID, `node#ver`); they are written to its registry record, then
   * the last item of each matching node of the account and of the contacts it is subscribed
   * to is sent to it (XEP-0163 §6.2).
   */
  async onAvailable(session: PepSession, presence: Element, initial: boolean): Promise<void> {
    const full = session.fullJid;
    if (!full) return;
    const caps = announcedCaps(presence);
    const key = caps ? `${caps.hash} ${caps.node}#${caps.ver}` : '';
    const previous = this.capsOf.get(session);
    if (!initial && previous === key) return;
    this.capsOf.set(session, key);
    if (!caps) {
      if (previous) await session.updateRecord({ notify: undefined });
      return;
    }
    const cached = caps.hash ? this.capsCache.get(CapsCache.key(caps)) : undefined;
    if (cached) return this.useNotify(session, full, cached);
    void this.discover(session, full, caps, key).catch((err: unknown) => this.d.log.warn({ err, jid: full.toString() }, 'caps discovery failed'));
  }

  private async discover(session: PepSession, full: Jid, caps: AnnouncedCaps, key: string): Promise<void> {
    const iq = new Element('iq', { type: 'get', from: full.bare().toString() });
    iq.c('query', { xmlns: DISCO_INFO_NS, node: `${caps.node}#${caps.ver}` });
    const reply = await session.request(iq, CAPS_QUERY_TIMEOUT_MS);
    // Gone, refused, or the caps changed meanwhile (a newer query is in charge).
    if (!reply || reply.attrs.type !== 'result' || this.capsOf.get(session) !== key) return;
    const query = reply.getChild('query', DISCO_INFO_NS);
    if (!query) return;
    const nodes = notifyNodes(query, this.limits.maxNotifyNodes);
    if (caps.hash && capsVerified(caps, query)) this.capsCache.set(CapsCache.key(caps), nodes);
    await this.useNotify(session, full, nodes);
  }

  private async useNotify(session: PepSession, full: Jid, nodes: readonly string[]): Promise<void> {
    await session.updateRecord({ notify: [...nodes] });
    if (nodes.length > 0) await this.sendLastItems(full, new Set(nodes));
  }

  /**
   * XEP-0163 §6.2: to a session that just became available with `+notify` for `wanted`, the
   * last item of each such node of its own account and of every contact whose presence it
   * receives (`to`/`both`) and may see it (the node's access model), unless the node says
   * `send_last_published_item` `never` or keeps no items.
   */
  async sendLastItems(full: Jid, wanted: ReadonlySet<string>): Promise<void> {
    const user = full.bare().toString();
    const { items } = await this.d.roster.roster(user);
    const publishers = [user];
    for (const i of items) {
      const j = tryParseJid(i.jid);
      if (receivesPresenceFrom(i.subscription) && j?.local !== undefined && this.d.config.hosts.includes(j.domain)) publishers.push(i.jid);
    }
    for (const publisher of publishers) {
      const nodes = await this.d.store.nodes(publisher);
      for (const [node, config] of nodes) {
        if (!wanted.has(node) || !config.persist || config.sendLast !== 'on_sub_and_presence') continue;
        if (publisher !== user) {
          if (config.access === 'whitelist') continue;
          if (config.access === 'presence' && !(await this.d.roster.sendsPresenceTo(publisher, user))) continue;
        }
        const [last] = await this.d.store.items(publisher, node, { max: 1 });
        if (!last) continue;
        const msg = this.event(publisher, node, config, (el) => el.c('item', { id: last.id }).cnode(parseOwnElement(last.payload)));
        msg.attrs.to = full.toString();
        await this.d.route(msg);
      }
    }
  }
}
