// XEP-0054 vcard-temp storage and its XEP-0153 avatar hash, kept next to the account in Redis.
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { Element } from 'ltx';
import type { KeySpace } from '@parley/bus';
import { parseOwnElement, serialize } from '@parley/xml';
import type { IqAnswer, IqHandler, IqHandlers } from '../server/iq-handlers.js';

/** The vcard-temp namespace (XEP-0054 §2), also its disco#info feature (XEP-0054 §5). */
export const VCARD_NS = 'vcard-temp';

/**
 * XEP-0153 §4.1: the avatar hash is the lowercase hex SHA-1 of the image data, i.e. of the
 * vCard's PHOTO/BINVAL decoded from base64 (whitespace ignored, §4.6 "any whitespace
 * characters MUST be ignored"). Empty string when the vCard has no PHOTO with a non-empty
 * BINVAL (an empty `<photo/>` is then advertised, §4.2). Pure.
 */
export function photoHash(vcard: Element): string {
  const binval = vcard.getChild('PHOTO')?.getChild('BINVAL');
  const text = binval?.getText().replace(/\s+/g, '') ?? '';
  if (text === '') return '';
  return createHash('sha1').update(Buffer.from(text, 'base64')).digest('hex');
}

/** Outcome of {@link VcardStore.set}. */
export type VcardSetResult = 'stored' | 'too-large';

/**
 * One vCard per account in the hash {@link KeySpace.vcard} (the account's slot): `xml`, the
 * serialised `<vCard xmlns='vcard-temp'>` as the account set it, and `photo`, its XEP-0153
 * hash ('' for none), read on every available presence the account sends.
 */
export class VcardStore {
  /**
   * @param maxBytes - largest serialised vCard stored (`limits.maxVcardBytes`)
   */
  constructor(
    private readonly redis: Redis,
    private readonly keys: KeySpace,
    private readonly maxBytes: number,
  ) {}

  /** The stored vCard of `bareJid`, or undefined when it has none. */
  async get(bareJid: string): Promise<Element | undefined> {
    const xml = await this.redis.hget(this.keys.vcard(bareJid), 'xml');
    return xml === null ? undefined : parseOwnElement(xml);
  }

  /**
   * The XEP-0153 photo hash of `bareJid`'s vCard: lowercase hex SHA-1, '' when the vCard has
   * no photo or there is no vCard.
   */
  async photoHash(bareJid: string): Promise<string> {
    return (await this.redis.hget(this.keys.vcard(bareJid), 'photo')) ?? '';
  }

  /**
   * Replaces the vCard of `bareJid` (XEP-0054 §3.2: a set replaces the whole vCard).
   * @returns 'too-large' (nothing stored) when its serialisation exceeds `maxBytes`
   */
  async set(bareJid: string, vcard: Element): Promise<VcardSetResult> {
    const copy = new Element('vCard', { ...vcard.attrs, xmlns: VCARD_NS });
    copy.children = vcard.children;
    const xml = serialize(copy);
    if (Buffer.byteLength(xml, 'utf8') > this.maxBytes) return 'too-large';
    await this.redis.hset(this.keys.vcard(bareJid), { xml, photo: photoHash(copy) });
    return 'stored';
  }

  /** Forgets the vCard of a deleted account. */
  async delete(bareJid: string): Promise<void> {
    await this.redis.del(this.keys.vcard(bareJid));
  }
}

/**
 * Registers XEP-0054 get and set on accounts' bare JIDs, and the `vcard-temp` feature on
 * the server (XEP-0054 §5: the server supports vCards for its accounts) and on accounts.
 *
 * - get, by the account itself: its vCard, or an empty `<vCard/>` when it has none
 *   (§3.1 allows that or `item-not-found`; Prosody 0.12 answers the empty vCard).
 * - get, by anyone else: the vCard, or `service-unavailable` when there is none (§3.3:
 *   the same error as for a user that does not exist, against directory harvesting).
 * - set: only by the account itself (§3.2), others get `forbidden` (§3.2 "SHOULD be
 *   forbidden or not-allowed"; Prosody answers `service-unavailable`); a vCard larger than
 *   `limits.maxVcardBytes` gets `not-acceptable` (RFC 6120 §8.3.3.9) and changes nothing.
 */
export function registerVcard(table: IqHandlers, store: VcardStore): void {
  const get: IqHandler = async (_query, ctx): Promise<IqAnswer> => {
    const bare = ctx.to.toString();
    const vcard = await store.get(bare);
    if (vcard) return { payload: vcard };
    if (ctx.self) return { payload: new Element('vCard', { xmlns: VCARD_NS }) };
    return { error: 'service-unavailable' };
  };
  const set: IqHandler = async (query, ctx): Promise<IqAnswer> => {
    if (!ctx.self) return { error: 'forbidden', text: "only the account itself may change its vCard" };
    const result = await store.set(ctx.to.toString(), query);
    if (result === 'too-large') return { error: 'not-acceptable', text: 'the vCard is larger than this server stores' };
    return {};
  };
  table.on('get', VCARD_NS, 'vCard', ['account'], get).on('set', VCARD_NS, 'vCard', ['account'], set).feature(VCARD_NS, ['server', 'account']);
}

/**
 * XEP-0153 §4.2 / XEP-0398 §4: adds the account's photo hash to an available presence it
 * sends, as `<x xmlns='vcard-temp:x:update'><photo>hash</photo></x>` (an empty `<photo/>`
 * without an avatar). As Prosody 0.12 does: when the client already put a `<photo/>` (empty
 * or not) in its first update element, that is left as it is (XEP-0153 §4.2 makes the
 * client responsible for it, e.g. while it resolves §4.4's multi-resource conflicts);
 * otherwise (no update element, or one without `<photo/>`, a client "not yet ready")
 * the photo goes into the client's first update element, or a new one. Mutates `presence`. Pure.
 * @param hash - lowercase hex SHA-1, '' when the account has no avatar
 */
export function stampAvatar(presence: Element, hash: string): void {
  let update = presence.getChild('x', VCARD_UPDATE_NS);
  if (update?.getChild('photo')) return;
  if (!update) {
    update = new Element('x', { xmlns: VCARD_UPDATE_NS });
    presence.cnode(update);
  }
  const photo = new Element('photo');
  if (hash !== '') photo.t(hash);
  update.cnode(photo);
}

/** The XEP-0153 presence extension namespace. */
export const VCARD_UPDATE_NS = 'vcard-temp:x:update';
