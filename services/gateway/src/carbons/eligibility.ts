import { clone, Element } from 'ltx';
import { HINTS_NS } from '@parley/stanza';
import { NS } from '@parley/xml';

/** XEP-0280 Message Carbons (§4) and XEP-0297 Stanza Forwarding (§3) namespaces. */
export const NS_CARBONS = 'urn:xmpp:carbons:2';
export const NS_FORWARD = 'urn:xmpp:forward:0';

/** Payloads "typically used in IM" (XEP-0280 §6.1): receipts (XEP-0184), chat states (XEP-0085), markers (XEP-0333). */
const IM_PAYLOADS = new Set(['urn:xmpp:receipts', 'http://jabber.org/protocol/chatstates', 'urn:xmpp:chat-markers:0']);
const MUC_USER = 'http://jabber.org/protocol/muc#user';
const CONFERENCE = 'jabber:x:conference';

/**
 * Whether a message is copied to the user's other Carbons-enabled resources (XEP-0280 §6.1,
 * §9). Not copied: anything with `<private xmlns='urn:xmpp:carbons:2'/>` (§9) or a XEP-0334
 * `<no-copy/>` hint (§4.3: not to be copied to addresses other than the one it is addressed
 * to); `groupchat`; received private messages from a room occupant (a `muc#user` `<x/>`
 * sent to a full JID: the room already gives them to every joined resource). Copied:
 * `chat`; `normal` with a `<body/>`, with receipts, chat states or chat markers, or with a
 * XEP-0249 or mediated (XEP-0045 §7.8.2) invitation; received errors (the error to a
 * message a resource sent: §6.1 asks for errors to eligible messages, which cannot be told
 * from the error alone, and XEP-0280 §10.3 that bounced copies never produce one).
 * `headline` is not copied.
 * Prosody 0.12 copies a `normal` message only with a body or an invitation (not one that
 * only carries a receipt or chat state, which §6.1 lists).
 * @param direction - `sent`: the user's own resource sent it; `received`: it is addressed to the user
 */
export function carbonEligible(message: Element, direction: 'sent' | 'received'): boolean {
  if (message.name !== 'message') return false;
  let body = false;
  let imPayload = false;
  let mucUser: Element | undefined;
  let invite = false;
  for (const child of message.children) {
    if (typeof child === 'string') continue;
    const ns = child.getNS();
    if (ns === NS_CARBONS && (child.name === 'private' || child.name === 'sent' || child.name === 'received')) return false;
    if (ns === HINTS_NS && child.name === 'no-copy') return false;
    if (child.name === 'body' && (ns === NS.CLIENT || ns === undefined || ns === '')) body = true;
    else if (ns !== undefined && IM_PAYLOADS.has(ns)) imPayload = true;
    else if (child.name === 'x' && ns === MUC_USER) {
      mucUser = child;
      if (child.getChild('invite') !== undefined) invite = true;
    } else if (child.name === 'x' && ns === CONFERENCE) invite = true;
  }
  const type = message.attrs.type ?? 'normal';
  if (type === 'groupchat' || type === 'headline') return false;
  const to = String(message.attrs.to ?? '');
  if (direction === 'received' && mucUser !== undefined && !invite && to.includes('/')) return false;
  if (type === 'error') return direction === 'received';
  if (type === 'chat') return true;
  return type === 'normal' && (body || imPayload || invite);
}

/**
 * The copy one resource gets (XEP-0280 §7 received, §8 sent): a message of the original's
 * type (`normal` when it had none, as Prosody writes it) from the user's bare JID to that
 * resource, holding `<received|sent xmlns='urn:xmpp:carbons:2'><forwarded
 * xmlns='urn:xmpp:forward:0'>` and the original message (XEP-0297 §3) in `jabber:client`.
 * @param userBare - the Carbons-enabled user's bare JID (§7, §8: the copy's `from`)
 * @param toFull - the full JID of the resource receiving the copy
 */
export function wrapCarbon(kind: 'sent' | 'received', original: Element, userBare: string, toFull: string): Element {
  const inner = clone(original);
  inner.attrs = { ...inner.attrs, xmlns: NS.CLIENT };
  const wrapper = new Element('message', { from: userBare, to: toFull, type: original.attrs.type ?? 'normal' });
  wrapper.c(kind, { xmlns: NS_CARBONS }).c('forwarded', { xmlns: NS_FORWARD }).cnode(inner);
  return wrapper;
}

/** True for a copy made by {@link wrapCarbon} for `to`'s own account (so that a copy whose session is gone is dropped, §10.3). */
export function isCarbonCopy(stanza: Element, to: string): boolean {
  if (stanza.name !== 'message') return false;
  const bare = to.split('/')[0];
  if (stanza.attrs.from !== bare) return false;
  return stanza.getChild('sent', NS_CARBONS) !== undefined || stanza.getChild('received', NS_CARBONS) !== undefined;
}
