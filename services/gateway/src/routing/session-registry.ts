import { parseSessionRecord, type KeySpace, type SessionRecord } from '@parley/bus';
import type { Jid } from '@parley/jid';
import type { ScriptedRedis } from './scripts.js';

/** One entry of the registry: a bound full JID and where its session lives. */
export interface RegisteredSession {
  resource: string;
  record: SessionRecord;
}

/**
 * The cluster-wide session registry (RFC 6120 §7 bound resources): for each bare JID a
 * hash resource → {@link SessionRecord}, plus, per gateway, the set of full JIDs it holds
 * so that a dead gateway's sessions can be removed. Every change that must not undo a
 * newer session (after a resource conflict) is a compare-and-set Lua script.
 */
export class SessionRegistry {
  constructor(
    private readonly redis: ScriptedRedis,
    private readonly keys: KeySpace,
  ) {}

  /** Registers a session; returns the record it replaced (a resource conflict) if any. */
  async bind(full: Jid, record: SessionRecord): Promise<SessionRecord | undefined> {
    const bare = full.bare().toString();
    const resource = full.resource ?? '';
    const [old] = await Promise.all([
      this.redis.bindSession(this.keys.userSessions(bare), resource, JSON.stringify(record)),
      this.redis.sadd(this.keys.gatewaySessions(record.gateway), full.toString()),
    ]);
    return parseSessionRecord(old);
  }

  /** Removes a session unless a newer one holds the resource now. */
  async unbind(full: Jid, record: Pick<SessionRecord, 'gateway' | 'sessionId'>): Promise<void> {
    await Promise.all([
      this.redis.unbindSession(this.keys.userSessions(full.bare().toString()), full.resource ?? '', record.sessionId),
      this.redis.srem(this.keys.gatewaySessions(record.gateway), full.toString()),
    ]);
  }

  /** Stores new presence state (available, priority) for a session that still holds its resource. */
  async update(full: Jid, record: SessionRecord): Promise<boolean> {
    const n = await this.redis.updateSession(
      this.keys.userSessions(full.bare().toString()),
      full.resource ?? '',
      record.sessionId,
      JSON.stringify(record),
    );
    return n === 1;
  }

  /**
   * Moves a session to another gateway (XEP-0198 §5 resumption elsewhere): the record (same
   * session id, compare-and-set) and the membership of the gateways' session sets, new one
   * first, so that a reap of `fromGateway` (which removes only records naming it) spares it.
   * @returns false when the session no longer holds its resource
   */
  async move(full: Jid, record: SessionRecord, fromGateway: string): Promise<boolean> {
    await this.redis.sadd(this.keys.gatewaySessions(record.gateway), full.toString());
    const moved = await this.update(full, record);
    if (moved) {
      if (fromGateway !== record.gateway) await this.redis.srem(this.keys.gatewaySessions(fromGateway), full.toString());
    } else await this.redis.srem(this.keys.gatewaySessions(record.gateway), full.toString());
    return moved;
  }

  /** Every bound resource of a bare JID. */
  async sessionsOf(bareJid: string): Promise<RegisteredSession[]> {
    const all = await this.redis.hgetall(this.keys.userSessions(bareJid));
    const out: RegisteredSession[] = [];
    for (const [resource, raw] of Object.entries(all)) {
      const record = parseSessionRecord(raw);
      if (record) out.push({ resource, record });
    }
    return out;
  }

  /** The session bound to one full JID, if any. */
  async lookup(full: Jid): Promise<SessionRecord | undefined> {
    return parseSessionRecord(await this.redis.hget(this.keys.userSessions(full.bare().toString()), full.resource ?? ''));
  }

  /**
   * Removes every session a dead gateway held (the registry entries that still point at it).
   * @returns the removed sessions as [full JID, record]
   */
  async reapGateway(gatewayId: string): Promise<Array<[string, SessionRecord]>> {
    const members = await this.redis.smembers(this.keys.gatewaySessions(gatewayId));
    const removed: Array<[string, SessionRecord]> = [];
    for (const full of members) {
      const slash = full.indexOf('/');
      if (slash < 0) continue;
      const raw = await this.redis.reapSession(this.keys.userSessions(full.slice(0, slash)), full.slice(slash + 1), gatewayId);
      const record = parseSessionRecord(raw);
      if (record) removed.push([full, record]);
    }
    await this.redis.del(this.keys.gatewaySessions(gatewayId));
    return removed;
  }
}
