// XEP-0359 (Unique and Stable Stanza IDs) 0.7.0 for groupchat messages: the room puts
// `<stanza-id xmlns='urn:xmpp:sid:0' id='…' by='room@service'/>` into every groupchat
// message it reflects (§3: "In groupchats the assigning entity is the room"), one id per
// message, the same for every recipient, and the history copy sent at join keeps the id
// the message got when it was reflected (the history stores the message as broadcast).
// §3: the id "MUST be unique and stable"; §6 "SHOULD be unpredictable" and "MUST NOT" let
// observers infer anything (e.g. the archive's size): a random UUID v4 from the worker
// (`RoomContext.newId`), as Prosody 0.12 uses, usable later as a XEP-0313 archive id.
// §5: a `<stanza-id/>` whose `by` is the room's JID in what a client sent is removed
// ("MUST delete that element even if they are not adding their own stanza ID"), other
// stanza-ids and `<origin-id/>` are kept (§3.2 "MUST preserve the content of the
// origin-id element"). §7 (Service Discovery): `urn:xmpp:sid:0` in the room's disco#info.
// Prosody 0.12 adds a stanza-id only to messages its archive (mod_muc_mam) keeps; here
// every reflected groupchat message (including subject changes) gets one.
import { Element } from 'ltx';
import { tryParseJid } from '@parley/jid';
import type { RoomContext } from '../room-input.js';
import type { Feature } from './feature.js';

/** XEP-0359 namespace and disco#info feature. */
export const SID_NS = 'urn:xmpp:sid:0';

/** Advertises XEP-0359 on every room (§7). */
export const stanzaIds: Feature = {
  name: 'stanza-id',
  discoFeatures() {
    return [SID_NS];
  },
};

let fallbackCounter = 0;

/**
 * A fresh id from `ctx.newId` (the room worker: `crypto.randomUUID()`). Without it (unit
 * tests that do not care) a process-unique but predictable id: `<now, base 36>-<n>`.
 */
export function newId(ctx: RoomContext): string {
  if (ctx.newId !== undefined) return ctx.newId();
  fallbackCounter += 1;
  return `${ctx.now.toString(36)}-${fallbackCounter.toString(36)}`;
}

/**
 * Whether `child` must not be reflected by the room `roomJid`: a `<stanza-id/>` claiming
 * to be the room's (XEP-0359 §5; `by` compared as a JID, RFC 7622).
 */
export function isForgedStanzaId(child: Element, roomJid: string): boolean {
  if (child.name !== 'stanza-id' || child.getNS() !== SID_NS) return false;
  const by: unknown = child.attrs.by;
  if (typeof by !== 'string') return false;
  return (tryParseJid(by)?.toString() ?? by) === roomJid;
}

/** Appends the room's `<stanza-id/>` with a fresh id to `message`; returns the id. */
export function addStanzaId(message: Element, roomJid: string, ctx: RoomContext): string {
  const id = newId(ctx);
  message.cnode(new Element('stanza-id', { xmlns: SID_NS, id, by: roomJid }));
  return id;
}
