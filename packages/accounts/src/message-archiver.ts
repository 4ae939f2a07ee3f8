/*
 * XEP-0313 account archiving of one-to-one messages, the one code path for every message that
 * reaches an account: the gateways' router (what clients send) and the admin API
 * (`POST /v1/messages`, delivered or stored offline) both call it.
 *
 * Both directions are archived where the message is routed: the outgoing copy in a local
 * sender's archive ({@link MessageArchiver.outgoing}, before routing), the incoming one in a
 * local recipient's archive ({@link MessageArchiver.incoming}, before it is delivered to a
 * session or stored offline), under one archive id (a random UUID) when both accounts archive
 * it. The recipient's copy carries `<stanza-id by=recipient bare JID>` (XEP-0313 §3.5), so the
 * stanza delivered, stored offline (RFC 6121 §8.5.2.2) or carbon-copied names the archive entry.
 */
import { randomUUID } from 'node:crypto';
import type { Element } from 'ltx';
import { tryParseJid, type Jid } from '@parley/jid';
import { serialize } from '@parley/xml';
import { archivable, prefsVerdict, withStanzaId } from './archive.js';
import type { MamStore } from './archive-store.js';

/** What the archiver needs of a logger (pino's shape). */
export interface ArchiverLog {
  warn(obj: object, msg: string): void;
}

export interface MessageArchiverDeps {
  store: MamStore;
  /** The domains served here: only their accounts have archives. */
  hosts: readonly string[];
  log: ArchiverLog;
}

/** Archives one-to-one messages in the sender's and the recipient's account archives. */
export class MessageArchiver {
  /** The archive id given to a message by its sender's archive, for the recipient's to reuse. */
  private readonly ids = new WeakMap<Element, string>();

  constructor(private readonly d: MessageArchiverDeps) {}

  /**
   * A message an account of ours sends (`from` its full or bare JID) to `to`: archived in the
   * sender's archive when {@link archivable}, addressed to an account of a served domain, and
   * allowed by the sender's preferences. Returns the stanza for the sender's `<sent/>` carbons
   * (XEP-0280): with the sender's stanza-id when archived, without any forged one. A sender
   * that is not an account of a served domain (a server JID) has no archive: `stanza` is
   * returned as it is. Never throws: an archive failure is logged and the message goes on
   * unarchived. Pass the same element to {@link incoming} afterwards so that both archives
   * share one archive id.
   */
  async outgoing(stanza: Element, from: Jid, to: Jid): Promise<Element> {
    if (from.local === undefined || !this.d.hosts.includes(from.domain)) return stanza;
    const owner = from.bare().toString();
    if (!archivable(stanza) || to.local === undefined || !this.d.hosts.includes(to.domain)) return withStanzaId(stanza, owner);
    try {
      if (!(await this.allows(owner, to))) return withStanzaId(stanza, owner);
      const id = randomUUID();
      const stored = await this.d.store.append(owner, id, to.toString(), serialize(withStanzaId(stanza, owner)));
      if (stored === undefined) return withStanzaId(stanza, owner);
      this.ids.set(stanza, id);
      return withStanzaId(stanza, owner, id);
    } catch (err) {
      this.d.log.warn({ err, owner }, 'archiving an outgoing message failed');
      return withStanzaId(stanza, owner);
    }
  }

  /**
   * A message for a local account `to` about to be delivered (to sessions or offline
   * storage): stanza-ids claiming to be by the account are removed (XEP-0359 §3 rule 2);
   * when {@link archivable} and allowed by the account's preferences it is archived and the
   * returned copy carries `<stanza-id by=account id=archive id/>`. Never throws.
   */
  async incoming(stanza: Element, to: Jid): Promise<Element> {
    const owner = to.bare().toString();
    if (stanza.name !== 'message' || to.local === undefined) return stanza;
    const clean = withStanzaId(stanza, owner);
    if (!archivable(stanza)) return clean;
    const from = tryParseJid(stanza.attrs.from ?? '');
    try {
      if (!(await this.allows(owner, from))) return clean;
      // One id for both archives, unless the sender is the owner (a message to oneself is
      // archived twice, as sent and as received: two ids in one archive).
      const shared = this.ids.get(stanza);
      const id = shared !== undefined && from?.bare().toString() !== owner ? shared : randomUUID();
      const stored = await this.d.store.append(owner, id, from?.toString() ?? '', serialize(clean));
      return stored === undefined ? clean : withStanzaId(clean, owner, id);
    } catch (err) {
      this.d.log.warn({ err, owner }, 'archiving an incoming message failed');
      return clean;
    }
  }

  /** Whether `owner`'s preferences archive messages exchanged with `other`. */
  private async allows(owner: string, other: Jid | undefined): Promise<boolean> {
    const verdict = prefsVerdict(await this.d.store.prefs(owner), other);
    if (verdict !== 'roster') return verdict;
    return other !== undefined && (await this.d.store.inRoster(owner, other.bare().toString()));
  }
}
