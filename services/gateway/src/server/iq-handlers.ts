import { Element } from 'ltx';
import type { Jid } from '@parley/jid';
import { NS } from '@parley/xml';
import type { StanzaErrorCondition, StanzaErrorType } from '@parley/stanza';
import { SOFTWARE } from './version.js';
import { CAPS_NODE, capsVer } from '../account/caps.js';

/**
 * What a handler answers: a result payload (or none), or a stanza error condition with optional
 * text. `afterReply` runs once the result has been routed to the requester (e.g. XEP-0191
 * blocklist pushes, which follow the result); its failure is logged, the result stands.
 * (Handlers returning `{}` on one path and an error on another need `Promise<IqAnswer>` as
 * their declared return type.)
 */
export type IqAnswer =
  | { payload?: Element; afterReply?: () => Promise<void> }
  /** `app`: an application-specific condition added to the `<error/>` (RFC 6120 §8.3.2, e.g. XEP-0060's `<precondition-not-met/>`). */
  | { error: StanzaErrorCondition; text?: string; type?: StanzaErrorType; app?: Element };

/** Context of one request: who asked, which JID was asked. */
export interface IqContext {
  /** The entity addressed: a served domain (the server) or an account's bare JID. */
  target: 'server' | 'account';
  /** The domain the request is addressed to (or the account's domain). */
  domain: string;
  /** The node attribute of the query, if any (XEP-0030 §3.1). */
  node: string | undefined;
  /** The multi-user chat service's JID (XEP-0045 §6.1), listed as an item of the server. */
  mucDomain: string;
  /** The requester's full JID (stamped by its session, RFC 6120 §8.1.2.1). */
  from: Jid;
  /** The JID addressed: the domain, or the account's bare JID. */
  to: Jid;
  /**
   * True when the requester is the account addressed (its own bare JID, or no `to` at all,
   * RFC 6120 §10.3.3): what only the account itself may read or change (roster, private
   * storage, blocklist) checks this and answers others with `forbidden` or `service-unavailable`.
   */
  self: boolean;
  /** The whole iq stanza (its `id`, `from`, `to` are already normalised). */
  iq: Element;
}

/** Answers one query; may read Redis. Throwing makes the router answer `internal-server-error`. */
export type IqHandler = (query: Element, ctx: IqContext) => IqAnswer | Promise<IqAnswer>;

/** Where a handler answers, and so which disco#info lists its feature (XEP-0030 §3.1). */
export type IqTarget = 'server' | 'account';

interface Registration {
  handler: IqHandler;
  targets: ReadonlySet<IqTarget>;
}

/**
 * The iq requests the gateway answers itself (addressed to a served domain or to an
 * account's bare JID), keyed `"<type>/<namespace>:<element>"`. Anything not registered for
 * the addressed entity gets `service-unavailable` (RFC 6120 §8.4). Each module registers its
 * own handlers and features, so the features disco#info advertises (XEP-0030 §3.1) are
 * exactly what is answered there.
 */
export class IqHandlers {
  private readonly handlers = new Map<string, Registration>();
  private readonly features = new Map<IqTarget, Set<string>>([
    ['server', new Set()],
    ['account', new Set()],
  ]);
  private readonly identities = new Map<IqTarget, Array<Record<string, string>>>([
    ['server', []],
    ['account', []],
  ]);

  /**
   * Registers a handler for `type` iq requests whose payload is `<name xmlns=xmlns>`.
   * @param targets - where it answers: the server's domain, accounts' bare JIDs, or both
   * @throws Error when the same request is registered twice (a programming error)
   */
  on(type: 'get' | 'set', xmlns: string, name: string, targets: readonly IqTarget[], handler: IqHandler): this {
    const key = `${type}/${xmlns}:${name}`;
    if (this.handlers.has(key)) throw new Error(`iq handler registered twice: ${key}`);
    this.handlers.set(key, { handler, targets: new Set(targets) });
    return this;
  }

  /** Adds `feature` to the disco#info of each target (XEP-0030 §3.1). Duplicates are ignored. */
  feature(feature: string, targets: readonly IqTarget[]): this {
    for (const t of targets) this.features.get(t)!.add(feature);
    return this;
  }

  /** Adds a disco#info identity (XEP-0030 §3.1: category, type, optional name) to a target. */
  identity(target: IqTarget, attrs: { category: string; type: string; name?: string }): this {
    this.identities.get(target)!.push({ ...attrs });
    return this;
  }

  private readonly itemProviders: Array<(ctx: IqContext) => Promise<Element[]>> = [];

  /**
   * Adds a source of disco#items `<item/>`s of accounts' bare JIDs (XEP-0030 §4, without a
   * node), e.g. XEP-0163 PEP nodes; each gets the request's context (who asks).
   */
  accountItems(provider: (ctx: IqContext) => Promise<Element[]>): this {
    this.itemProviders.push(provider);
    return this;
  }

  /** The `<item/>`s every {@link accountItems} provider gives for this request, in registration order. */
  async accountItemsFor(ctx: IqContext): Promise<Element[]> {
    const lists = await Promise.all(this.itemProviders.map((p) => p(ctx)));
    return lists.flat();
  }

  /** The features advertised for `target`, sorted by name (XEP-0115 §5.1 hashes sort them too). */
  featuresOf(target: IqTarget): string[] {
    return [...this.features.get(target)!].sort();
  }

  private readonly vers = new Map<IqTarget, string>();

  /**
   * The XEP-0115 §5.1 verification string (SHA-1) of `target`'s disco#info, computed once
   * on first use: call it only after every module registered (the Gateway constructor).
   */
  capsVer(target: IqTarget): string {
    let ver = this.vers.get(target);
    if (ver === undefined) {
      ver = capsVer(this.identitiesOf(target), this.featuresOf(target));
      this.vers.set(target, ver);
    }
    return ver;
  }

  /** The identities advertised for `target`, in registration order. */
  identitiesOf(target: IqTarget): ReadonlyArray<Readonly<Record<string, string>>> {
    return this.identities.get(target)!;
  }

  /** Answers one iq get/set; `service-unavailable` when nothing is registered for the target. */
  async answer(type: string, query: Element, ctx: IqContext): Promise<IqAnswer> {
    const entry = this.handlers.get(`${type}/${query.attrs.xmlns ?? ''}:${query.name}`);
    if (!entry || !entry.targets.has(ctx.target)) return { error: 'service-unavailable' };
    return entry.handler(query, ctx);
  }
}

/**
 * Who may discover an account (its bare JID's disco#info and disco#items): the account itself
 * and the contacts it shares presence with. Anyone else gets `service-unavailable`, as if the
 * account did not exist (RFC 6121 §8.5.1 / §8.5.2.1.3: no presence leak, no account probing),
 * which is also what Prosody 0.12 answers.
 */
export type AccountDiscoveryGuard = (owner: string, requester: string) => Promise<boolean>;

/** XEP-0030 §3.1: identities and features of the entity addressed. */
function discoInfo(table: IqHandlers, mayDiscover: AccountDiscoveryGuard): IqHandler {
  return async (_query, ctx) => {
    if (ctx.target === 'account' && !ctx.self && !(await mayDiscover(ctx.to.toString(), ctx.from.bare().toString()))) return { error: 'service-unavailable' };
    // XEP-0030 §3.1: "If the JID ... does not support the node, item-not-found". The one
    // node answered is XEP-0115 §6.2's `node#ver` of the entity's own capabilities.
    if (ctx.node !== undefined && ctx.node !== `${CAPS_NODE}#${table.capsVer(ctx.target)}`) return { error: 'item-not-found' };
    const reply = new Element('query', ctx.node === undefined ? { xmlns: NS.DISCO_INFO } : { xmlns: NS.DISCO_INFO, node: ctx.node });
    for (const identity of table.identitiesOf(ctx.target)) reply.c('identity', { ...identity }).up();
    for (const f of table.featuresOf(ctx.target)) reply.c('feature', { var: f }).up();
    return { payload: reply };
  };
}

const discoItems = (table: IqHandlers, mayDiscover: AccountDiscoveryGuard): IqHandler => async (_query, ctx) => {
  if (ctx.target === 'account' && !ctx.self && !(await mayDiscover(ctx.to.toString(), ctx.from.bare().toString()))) return { error: 'service-unavailable' };
  if (ctx.node !== undefined) return { error: 'item-not-found' };
  const reply = new Element('query', { xmlns: NS.DISCO_ITEMS });
  // XEP-0045 §6.1: the server lists its MUC service among its items.
  if (ctx.target === 'server') reply.c('item', { jid: ctx.mucDomain, name: 'Chatrooms' }).up();
  else for (const item of await table.accountItemsFor(ctx)) reply.cnode(item);
  return { payload: reply };
};

/** XEP-0199 §4.2: a pong is an empty result; §4.3: the server answers for its own accounts too. */
const ping: IqHandler = () => ({});

/** XEP-0092 §2: the server's software name and version. */
const version: IqHandler = () => {
  const reply = new Element('query', { xmlns: NS.VERSION });
  reply.c('name').t(SOFTWARE.name).up();
  reply.c('version').t(SOFTWARE.version).up();
  return { payload: reply };
};

/**
 * The handlers every gateway has: disco#info and disco#items (XEP-0030), ping (XEP-0199),
 * software version (XEP-0092), and the `msgoffline` feature (XEP-0160 §5). Other modules
 * add theirs to the returned table.
 * @param mayDiscover - whether a requester other than the account itself may discover it;
 *   default: nobody (see {@link AccountDiscoveryGuard})
 */
export function coreIqHandlers(mayDiscover: AccountDiscoveryGuard = async () => false): IqHandlers {
  const table = new IqHandlers();
  table
    .identity('server', { category: 'server', type: 'im', name: SOFTWARE.name })
    .identity('account', { category: 'account', type: 'registered' })
    .on('get', NS.DISCO_INFO, 'query', ['server', 'account'], discoInfo(table, mayDiscover))
    .feature(NS.DISCO_INFO, ['server', 'account'])
    .on('get', NS.DISCO_ITEMS, 'query', ['server', 'account'], discoItems(table, mayDiscover))
    .feature(NS.DISCO_ITEMS, ['server', 'account'])
    .on('get', NS.PING, 'ping', ['server', 'account'], ping)
    .feature(NS.PING, ['server', 'account'])
    .on('get', NS.VERSION, 'query', ['server'], version)
    .feature(NS.VERSION, ['server'])
    .feature('msgoffline', ['server']);
  return table;
}
