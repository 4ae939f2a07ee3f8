import type { Element } from 'ltx';
import type { SessionRecord } from '@parley/bus';
import type { SharedStanza } from './shared-stanza.js';

/** What the router needs of a session held by this gateway. */
export interface LocalSession {
  /** Unique id of the session; a delivery names it so a replaced session gets nothing. */
  readonly sessionId: string;
  /** Bare JIDs of the rooms the session has sent presence to (XEP-0045 §7.2); told when it ends. */
  readonly rooms: Set<string>;
  /** Writes a stanza to the client. */
  deliver(stanza: Element): void;
  /** Writes a stanza shared by several recipients, with `to` set to this session's full JID. */
  deliverShared(stanza: SharedStanza, to: string): void;
  /** Ends the session with a stream error (e.g. `conflict`, RFC 6120 §4.9.3.3). */
  kick(condition: string, text?: string): void;
  /**
   * Merges per-session flags that other gateways must see into the session's registry record
   * (RFC 6121 §2.1.6 roster interest, XEP-0191 §3.2 blocklist interest, XEP-0280 §4/§5
   * carbons); a no-op once the session ended.
   */
  updateRecord(patch: SessionRecordPatch): Promise<void>;
  /**
   * XEP-0198 §5: hands the session whose SM-ID is `smId` to a resumption on gateway
   * `gateway`; resolves with its state (JSON), or undefined when it has no such SM-ID or
   * cannot be resumed. Absent: sessions of this kind are never resumed elsewhere.
   */
  takeOver?(smId: string, gateway: string): Promise<string | undefined>;
}

/** The registry record fields a module other than the session itself may set. */
export type SessionRecordPatch = Partial<Pick<SessionRecord, 'blocklist' | 'carbons' | 'interested' | 'notify'>>;

/** The sessions this gateway holds, by full JID. */
export class LocalSessions {
  private readonly byJid = new Map<string, LocalSession>();
  /** Local sessions per bare JID. */
  private readonly perAccount = new Map<string, number>();
  private readonly goneListeners: Array<(bareJid: string) => void> = [];

  /** Calls `listener` with a bare JID when the last session of that account on this gateway is deleted. */
  onAccountGone(listener: (bareJid: string) => void): void {
    this.goneListeners.push(listener);
  }

  /** Whether this gateway holds a session of the account `bareJid`. */
  hasAccount(bareJid: string): boolean {
    return this.perAccount.has(bareJid);
  }

  get size(): number {
    return this.byJid.size;
  }

  get(fullJid: string): LocalSession | undefined {
    return this.byJid.get(fullJid);
  }

  set(fullJid: string, session: LocalSession): void {
    if (!this.byJid.has(fullJid)) {
      const bare = bareOf(fullJid);
      this.perAccount.set(bare, (this.perAccount.get(bare) ?? 0) + 1);
    }
    this.byJid.set(fullJid, session);
  }

  /** Removes the entry only if it is still this session (a newer one may have replaced it). */
  delete(fullJid: string, session: LocalSession): void {
    if (this.byJid.get(fullJid) !== session) return;
    this.byJid.delete(fullJid);
    const bare = bareOf(fullJid);
    const left = (this.perAccount.get(bare) ?? 1) - 1;
    if (left > 0) {
      this.perAccount.set(bare, left);
      return;
    }
    this.perAccount.delete(bare);
    for (const listener of this.goneListeners) listener(bare);
  }

  entries(): IterableIterator<[string, LocalSession]> {
    return this.byJid.entries();
  }
}

function bareOf(fullJid: string): string {
  const slash = fullJid.indexOf('/');
  return slash < 0 ? fullJid : fullJid.slice(0, slash);
}
