import { Element } from 'ltx';
import type { Logger } from 'pino';
import type { KeySpace } from '@parley/bus';
import type { Router } from '../routing/router.js';
import type { ScriptedRedis } from '../routing/scripts.js';
import type { SessionRegistry } from '../routing/session-registry.js';

export interface LivenessDeps {
  gatewayId: string;
  redis: ScriptedRedis;
  keys: KeySpace;
  registry: SessionRegistry;
  router: Router;
  log: Logger;
  heartbeatMs: number;
  deadAfterMs: number;
  now: () => number;
  /** Re-registers this gateway's sessions after it was taken for dead (e.g. a long pause). */
  reregister: () => Promise<void>;
}

/**
 * Gateway liveness: every gateway writes a heartbeat (a score in a sorted set) each
 * `heartbeatMs`, and on the same tick looks for gateways whose heartbeat is older than
 * `deadAfterMs`. One survivor (holding a short lock) removes a dead gateway's sessions from
 * the registry, sends their unavailable presence to the users' other resources, and deletes
 * its delivery stream. So a SIGKILLed gateway's sessions are gone within
 * `deadAfterMs + heartbeatMs` (plus the time to remove them).
 */
export class Liveness {
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;

  constructor(private readonly d: LivenessDeps) {}

  async start(): Promise<void> {
    await this.d.redis.zadd(this.d.keys.gateways(), this.d.now(), this.d.gatewayId);
    this.timer = setInterval(() => void this.tick(), this.d.heartbeatMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      const added = await this.d.redis.zadd(this.d.keys.gateways(), this.d.now(), this.d.gatewayId);
      if (added === 1) {
        this.d.log.warn('this gateway had been taken for dead; registering its sessions again');
        await this.d.reregister();
      }
      const dead = await this.d.redis.zrangebyscore(this.d.keys.gateways(), '-inf', `(${this.d.now() - this.d.deadAfterMs}`);
      for (const id of dead) if (id !== this.d.gatewayId) await this.reap(id);
    } catch (err) {
      this.d.log.error({ err }, 'heartbeat failed');
    } finally {
      this.ticking = false;
    }
  }

  private async reap(deadId: string): Promise<void> {
    const lock = await this.d.redis.set(this.d.keys.reaperLock(deadId), this.d.gatewayId, 'PX', 30_000, 'NX');
    if (lock !== 'OK') return;
    const started = this.d.now();
    const removed = await this.d.registry.reapGateway(deadId);
    await this.d.redis
      .multi()
      .del(this.d.keys.gatewayDelivery(deadId), this.d.keys.gatewayInfo(deadId))
      .zrem(this.d.keys.gateways(), deadId)
      .exec();
    // XEP-0045 §7.14: its sessions leave every room (each shard's rooms remove the occupants of that gateway).
    await this.d.router.gatewayDown(deadId);
    for (const [full, record] of removed) {
      if (!record.available) continue;
      const bare = full.slice(0, full.indexOf('/'));
      // RFC 6121 §4.5.2: the user's other resources learn that this one went away.
      const unavailable = new Element('presence', { from: full, to: bare, type: 'unavailable' });
      await this.d.router.broadcastToOwnResources(bare, unavailable, full);
    }
    this.d.log.warn({ deadGateway: deadId, sessions: removed.length, ms: this.d.now() - started }, 'removed the sessions of a dead gateway');
  }
}
