// XEP-0012 last activity: of an account (since its last session went unavailable), of the server (uptime).
import type { Redis } from 'ioredis';
import { Element } from 'ltx';
import type { KeySpace } from '@parley/bus';
import type { IqAnswer, IqHandler, IqHandlers } from '../server/iq-handlers.js';

/** The jabber:iq:last namespace (XEP-0012 §1), also its disco#info feature (§6). */
export const LAST_NS = 'jabber:iq:last';

/** Longest status text kept with the last unavailable presence, in UTF-16 code units (longer is cut). */
export const MAX_LAST_STATUS_CHARS = 1024;

/**
 * Whether `requester` (a bare JID) may see `owner`'s presence, i.e. `owner`'s roster item
 * for it has subscription `from` or `both` (RFC 6121 §4.2.2; XEP-0012 §3 authorisation).
 */
export type MaySeePresence = (owner: string, requester: string) => Promise<boolean>;

/** The last time one of an account's sessions went unavailable, and that presence's status. */
export interface LastActivity {
  /** ms since epoch */
  at: number;
  status: string;
}

// KEYS[1] the last-activity hash, KEYS[2] the account hash; ARGV[1] time, ARGV[2] status.
const RECORD_SCRIPT = `if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('HSET', KEYS[1], 't', ARGV[1], 'status', ARGV[2]) end return 0`;

/** Last activity per account in the hash {@link KeySpace.lastActivity} (`t`, `status`), in its slot. */
export class LastActivityStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: KeySpace,
  ) {}

  /**
   * Records that a session of `bareJid` went unavailable at `at` (ms since epoch) with
   * `status` (cut to {@link MAX_LAST_STATUS_CHARS}), only while the account exists (its
   * hash, same slot), so that the last session of a removed account leaves nothing behind.
   */
  async record(bareJid: string, at: number, status: string): Promise<void> {
    await this.redis.eval(RECORD_SCRIPT, 2, this.keys.lastActivity(bareJid), this.keys.account(bareJid), String(at), status.slice(0, MAX_LAST_STATUS_CHARS));
  }

  /** The last recorded activity of `bareJid`, or undefined when none was recorded. */
  async get(bareJid: string): Promise<LastActivity | undefined> {
    const h = await this.redis.hmget(this.keys.lastActivity(bareJid), 't', 'status');
    const at = Number(h[0]);
    if (h[0] === null || !Number.isFinite(at)) return undefined;
    return { at, status: h[1] ?? '' };
  }

  /** Forgets the record of a deleted account. */
  async delete(bareJid: string): Promise<void> {
    await this.redis.del(this.keys.lastActivity(bareJid));
  }
}

/** The XEP-0012 answer `<query xmlns='jabber:iq:last' seconds='…'>status</query>`. Pure. */
export function lastQuery(seconds: number, status = ''): Element {
  const q = new Element('query', { xmlns: LAST_NS, seconds: String(Math.max(0, Math.floor(seconds))) });
  if (status !== '') q.t(status);
  return q;
}

/** What {@link registerLastActivity} needs. */
export interface LastActivityDeps {
  store: LastActivityStore;
  /** Whether the account has a connected session (any resource bound), per the session registry. */
  connected: (bareJid: string) => Promise<boolean>;
  maySee: MaySeePresence;
  /** When this server process started, ms since epoch (XEP-0012 §5 uptime). */
  startedAt: number;
  now: () => number;
}

/**
 * Registers XEP-0012 get on the server and on accounts' bare JIDs, and the `jabber:iq:last`
 * feature on both.
 * - Server (§5): seconds since this gateway process started (the server a client talks to);
 *   no text.
 * - Account (§3): `forbidden` unless the requester is the account itself or may see its
 *   presence (a roster subscription `from`/`both`). `0` and no text when the account has a
 *   connected or available resource (§3 "MUST ... '0'"; Prosody 0.12 answers the time since
 *   the last logout even then). Otherwise the seconds since a session of it last went
 *   unavailable, with that presence's status text; `0` when nothing was ever recorded (as Prosody).
 */
export function registerLastActivity(table: IqHandlers, d: LastActivityDeps): void {
  const server: IqHandler = () => ({ payload: lastQuery((d.now() - d.startedAt) / 1000) });
  const account: IqHandler = async (_query, ctx): Promise<IqAnswer> => {
    const owner = ctx.to.toString();
    if (!ctx.self && !(await d.maySee(owner, ctx.from.bare().toString()))) return { error: 'forbidden' };
    if (await d.connected(owner)) return { payload: lastQuery(0) };
    const last = await d.store.get(owner);
    if (!last) return { payload: lastQuery(0) };
    return { payload: lastQuery((d.now() - last.at) / 1000, last.status) };
  };
  table.on('get', LAST_NS, 'query', ['server', 'account'], async (q, ctx) => (ctx.target === 'server' ? server(q, ctx) : account(q, ctx)));
  table.feature(LAST_NS, ['server', 'account']);
}
