import { Element } from 'ltx';
import { NS } from '@parley/xml';
import type { StanzaErrorCondition } from '@parley/stanza';
import { SOFTWARE } from './version.js';

/** What a handler answers: a result payload (or none), or a stanza error condition. */
export type IqAnswer = { payload?: Element } | { error: StanzaErrorCondition };

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
}

type Handler = (query: Element, ctx: IqContext) => IqAnswer;

/** Features the server advertises in disco#info (XEP-0030 §3.1), sorted as the spec lists them. */
export const SERVER_FEATURES = [NS.DISCO_INFO, NS.DISCO_ITEMS, NS.PING, NS.VERSION, 'msgoffline'];

const discoInfo: Handler = (query, ctx) => {
  // XEP-0030 §3.1: "If the JID ... does not support the node, item-not-found".
  if (ctx.node !== undefined) return { error: 'item-not-found' };
  const reply = new Element('query', { xmlns: NS.DISCO_INFO });
  if (ctx.target === 'server') {
    reply.c('identity', { category: 'server', type: 'im', name: SOFTWARE.name }).up();
    for (const f of SERVER_FEATURES) reply.c('feature', { var: f }).up();
  } else {
    // XEP-0030 §3.1 / RFC 6121: the server answers for an account's bare JID.
    reply.c('identity', { category: 'account', type: 'registered' }).up();
    reply.c('feature', { var: NS.DISCO_INFO }).up();
  }
  void query;
  return { payload: reply };
};

const discoItems: Handler = (_query, ctx) => {
  if (ctx.node !== undefined) return { error: 'item-not-found' };
  const reply = new Element('query', { xmlns: NS.DISCO_ITEMS });
  // XEP-0045 §6.1: the server lists its MUC service among its items.
  if (ctx.target === 'server') reply.c('item', { jid: ctx.mucDomain, name: 'Chatrooms' }).up();
  return { payload: reply };
};

/** XEP-0199 §4.2: a pong is an empty result; §4.3: the server answers for its own accounts too. */
const ping: Handler = () => ({});

const version: Handler = (_query, ctx) => {
  if (ctx.target !== 'server') return { error: 'service-unavailable' };
  const reply = new Element('query', { xmlns: NS.VERSION });
  reply.c('name').t(SOFTWARE.name).up();
  reply.c('version').t(SOFTWARE.version).up();
  return { payload: reply };
};

/**
 * iq requests the server answers itself, as one table: `"<type>/<namespace>:<element>"`.
 * Anything not listed gets `service-unavailable` (RFC 6120 §8.4).
 */
export const IQ_HANDLERS: ReadonlyMap<string, Handler> = new Map<string, Handler>([
  [`get/${NS.DISCO_INFO}:query`, discoInfo],
  [`get/${NS.DISCO_ITEMS}:query`, discoItems],
  [`get/${NS.PING}:ping`, ping],
  [`get/${NS.VERSION}:query`, version],
]);

/** Answers one iq get/set addressed to the server or to an account's bare JID. */
export function answerIq(type: string, query: Element, ctx: IqContext): IqAnswer {
  const handler = IQ_HANDLERS.get(`${type}/${query.attrs.xmlns ?? ''}:${query.name}`);
  return handler ? handler(query, ctx) : { error: 'service-unavailable' };
}
