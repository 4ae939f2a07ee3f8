import type { Redis } from 'ioredis';
import { clone, type Element } from 'ltx';
import { encodeEnvelope, parseSessionRecord, type KeySpace, type SessionRecord } from '@parley/bus';
import { serialize } from '@parley/xml';

/** One online session, as the admin API shows it. */
export interface SessionInfo {
  /** Full JID. */
  jid: string;
  bareJid: string;
  resource: string;
  gateway: string;
  sessionId: string;
  /** When the resource was bound, ms since epoch. */
  since: number;
  transport: 'tcp' | 'websocket';
  /** Whether it has sent available presence (RFC 6121 §4.2), and with which priority. */
  available: boolean;
  priority: number;
}

/** A page of sessions, sorted by full JID; `next` is the cursor of the following page. */
export interface SessionPage {
  sessions: SessionInfo[];
  next?: string;
}

/**
 * Online sessions, read from the session registry (one hash per bare JID, and one set of full
 * JIDs per live gateway), and the two things an operator does to them: end them with a stream
 * error, or hand them a stanza. Both go through the gateway's delivery stream, so they work
 * whichever gateway holds the session.
 */
export class Sessions {
  constructor(
    private readonly redis: Redis,
    private readonly keys: KeySpace,
  ) {}

  /** The sessions of one account (bare JID, normalised), sorted by resource. */
  async ofUser(bareJid: string): Promise<SessionInfo[]> {
    const all = await this.redis.hgetall(this.keys.userSessions(bareJid));
    const out: SessionInfo[] = [];
    for (const resource of Object.keys(all).sort()) {
      const rec = parseSessionRecord(all[resource]);
      if (rec) out.push(info(bareJid, resource, rec));
    }
    return out;
  }

  /**
   * Every online session in the cluster, a page at a time, sorted by full JID.
   * @param opts.after - cursor: the last full JID of the previous page
   * @param opts.limit - page size (1..1000)
   * @param opts.match - keep only full JIDs containing this text (case-insensitive)
   */
  async list(opts: { after?: string; limit: number; match?: string }): Promise<SessionPage> {
    const gateways = await this.redis.zrange(this.keys.gateways(), '0', '-1');
    const pipeline = this.redis.pipeline();
    for (const gw of gateways) pipeline.smembers(this.keys.gatewaySessions(gw));
    const replies = (await pipeline.exec()) ?? [];
    const needle = opts.match?.toLowerCase();
    const fulls = [...new Set(replies.flatMap(([err, members]) => (err ? [] : (members as string[]))))]
      .filter((j) => (opts.after === undefined || j > opts.after) && (needle === undefined || j.toLowerCase().includes(needle)))
      .sort();
    const sessions: SessionInfo[] = [];
    let i = 0;
    // Records can vanish between the two reads (a logout): read until the page is full.
    while (sessions.length < opts.limit && i < fulls.length) {
      const batch = fulls.slice(i, i + opts.limit - sessions.length);
      i += batch.length;
      const read = this.redis.pipeline();
      for (const full of batch) {
        const { bare, resource } = split(full);
        read.hget(this.keys.userSessions(bare), resource);
      }
      const values = (await read.exec()) ?? [];
      batch.forEach((full, k) => {
        const [err, raw] = values[k] ?? [null, null];
        const rec = err ? undefined : parseSessionRecord(raw as string | null);
        const { bare, resource } = split(full);
        if (rec) sessions.push(info(bare, resource, rec));
      });
    }
    const last = sessions[sessions.length - 1];
    return i < fulls.length && last ? { sessions, next: last.jid } : { sessions };
  }

  /**
   * Ends a session with a stream error (RFC 6120 §4.9), e.g. `policy-violation` for an
   * operator's kick. Resolves false when the session no longer exists.
   */
  async kick(session: SessionInfo, condition = 'policy-violation', text?: string): Promise<boolean> {
    const rec = parseSessionRecord(await this.redis.hget(this.keys.userSessions(session.bareJid), session.resource));
    if (!rec || rec.sessionId !== session.sessionId) return false;
    await this.redis.xadd(
      this.keys.gatewayDelivery(rec.gateway),
      '*',
      ...encodeEnvelope(text === undefined
        ? { kind: 'kick', to: session.jid, sessionId: rec.sessionId, condition }
        : { kind: 'kick', to: session.jid, sessionId: rec.sessionId, condition, text }),
    );
    return true;
  }

  /** Kicks every session of an account; resolves with how many were told to end. */
  async kickUser(bareJid: string, condition = 'policy-violation', text?: string): Promise<number> {
    let n = 0;
    for (const s of await this.ofUser(bareJid)) if (await this.kick(s, condition, text)) n++;
    return n;
  }

  /**
   * Hands `stanza` (which must have `from` set) to one session; `to` is set to its full JID.
   * Resolves false when the session no longer exists.
   */
  async deliver(session: SessionInfo, stanza: Element): Promise<boolean> {
    const rec = parseSessionRecord(await this.redis.hget(this.keys.userSessions(session.bareJid), session.resource));
    if (!rec || rec.sessionId !== session.sessionId) return false;
    const copy = clone(stanza);
    copy.attrs.to = session.jid;
    await this.redis.xadd(this.keys.gatewayDelivery(rec.gateway), '*', ...encodeEnvelope({ kind: 'stanza', to: session.jid, sessionId: rec.sessionId, xml: serialize(copy) }));
    return true;
  }
}

function split(full: string): { bare: string; resource: string } {
  const slash = full.indexOf('/');
  return { bare: full.slice(0, slash), resource: full.slice(slash + 1) };
}

function info(bareJid: string, resource: string, rec: SessionRecord): SessionInfo {
  return {
    jid: `${bareJid}/${resource}`,
    bareJid,
    resource,
    gateway: rec.gateway,
    sessionId: rec.sessionId,
    since: rec.since,
    transport: rec.transport,
    available: rec.available,
    priority: rec.priority,
  };
}
